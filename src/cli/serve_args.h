// ServeArgs: the options of `baton serve`. The cli parses them; app/ (which may build
// concrete stores) runs the server, so cli::Main receives the serve function from main().
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace baton::cli {

struct ServeArgs {
  std::string db = "baton.db";            // SQLite database file
  std::string listen = "127.0.0.1:8080";  // HOST:PORT (port 0 = any free port)
  std::string config;                     // optional JSON/YAML config file
  std::string examples_dir;               // deploy every document of this directory at start
  // Printed once listening: "baton: listening on http://HOST:PORT" (tests parse it).
};

// Returns the process exit code.
using ServeFn = std::function<int(const ServeArgs&)>;

}  // namespace baton::cli
