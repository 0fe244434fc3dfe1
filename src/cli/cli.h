// The `baton` command line: parses arguments and dispatches to a verb.
//
// Verbs: validate and run (in this process, cli/validate_command.h, cli/run_command.h);
// serve (the server, run by the ServeFn that app/ passes in, cli/serve_command.h); and the
// client verbs that talk to a server: deploy, start, ls, get, history, cancel, suspend,
// resume, definitions, dead-letters, retry, skip, compensate, discard, redrive
// (cli/client_commands.h).
//
// Exit codes (docs/cli.md): 0 success; 1 the work failed (an invalid document, a faulted
// workflow, a request the server refused, a redrive that failed on some instance); 2 usage
// error; 3 server unreachable or failing (5xx); 4 `start --wait` timed out with the
// instance still running.
#pragma once

#include <ostream>

#include "cli/serve_args.h"

namespace baton::cli {

// Without a serve function: `baton serve` reports that this build has no server.
int Main(int argc, char** argv);
int Main(int argc, char** argv, const ServeFn& serve);
// As above, with the output of the parser and of the client verbs sent to `out`/`err`
// (validate, run and serve print to the process's stdout/stderr). For tests.
int Main(int argc, char** argv, const ServeFn& serve, std::ostream& out, std::ostream& err);

}  // namespace baton::cli
