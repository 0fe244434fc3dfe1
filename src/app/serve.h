// `baton serve`: wires the SQLite store, the executors, the runtime server and the HTTP
// API together, serves until SIGTERM/SIGINT, then shuts down gracefully (exit 0).
#pragma once

#include "cli/serve_args.h"

namespace baton::app {

int Serve(const cli::ServeArgs& args);

}  // namespace baton::app
