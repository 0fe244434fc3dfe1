// `baton run FILE`: run one workflow to its end in this process (no server, no store).
// Exit 0 when it completes (output on stdout), 1 when it faults or is cancelled,
// 2 for usage errors, 130 after Ctrl-C.
#pragma once

#include <string>
#include <vector>

namespace baton::cli {

struct RunArgs {
  std::string file;
  std::string input_json;
  std::string input_file;
  std::vector<std::string> catalog_dirs;
  std::string output = "text";
  std::vector<std::string> secrets;
  bool quiet = false;
};

int RunRun(const RunArgs& args);

}  // namespace baton::cli
