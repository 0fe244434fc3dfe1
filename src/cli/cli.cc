#include "cli/cli.h"

#include <cstdio>

namespace baton::cli {

int Main(int argc, char** argv) {
  (void)argc;
  (void)argv;
  std::fprintf(stderr, "baton: no verbs yet\n");
  return 2;
}

}  // namespace baton::cli
