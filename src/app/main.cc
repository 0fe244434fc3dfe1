// The baton binary: server, CLI and one-shot runner (see cli/cli.h).
#include "cli/cli.h"

int main(int argc, char** argv) { return baton::cli::Main(argc, argv); }
