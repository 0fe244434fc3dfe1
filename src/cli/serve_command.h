// `baton serve`: the cli checks the flags (cli/serve_args.h) and runs the server function
// that app/ passes to cli::Main; the cli itself never builds a server or a store.
#pragma once

#include <ostream>
#include <string>

#include "cli/serve_args.h"

namespace baton::cli {

// Checks a --listen value: "HOST:PORT" or "[IPV6]:PORT" with PORT in 0..65535 (0 = any
// free port). Returns "" when valid, else what is wrong.
std::string CheckListenAddress(const std::string& listen);

// Runs `serve` and returns its exit code; 1 with a message on `err` when this build has no
// server (serve is empty).
int RunServe(const ServeFn& serve, const ServeArgs& args, std::ostream& err);

}  // namespace baton::cli
