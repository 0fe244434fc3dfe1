// The `baton` command line: parses arguments and dispatches to a verb.
#pragma once

namespace baton::cli {

// Returns the process exit code: 0 success, 1 the work failed (invalid document, faulted
// workflow), 2 usage error. See docs/cli.md.
int Main(int argc, char** argv);

}  // namespace baton::cli
