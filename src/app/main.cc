// The baton binary: server, CLI and one-shot runner (see cli/cli.h). app/ is the only
// place that builds concrete implementations (the SQLite store for `baton serve`).
#include "app/serve.h"
#include "cli/cli.h"

int main(int argc, char** argv) { return baton::cli::Main(argc, argv, &baton::app::Serve); }
