#include "cli/serve_command.h"

namespace baton::cli {

std::string CheckListenAddress(const std::string& listen) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return "expected HOST:PORT, got '" + listen + "'";
  std::string host = listen.substr(0, colon);
  std::string port = listen.substr(colon + 1);
  if (host.empty()) return "missing host in '" + listen + "' (e.g. 127.0.0.1:8080)";
  if (host.front() == '[' ? host.back() != ']' || host.size() < 3
                          : host.find(':') != std::string::npos) {
    return "an IPv6 host must be in brackets, e.g. [::1]:8080; got '" + listen + "'";
  }
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) > 65535) {
    return "the port must be a number from 0 to 65535, got '" + port + "'";
  }
  return "";
}

int RunServe(const ServeFn& serve, const ServeArgs& args, std::ostream& err) {
  if (!serve) {
    err << "baton: serve is not available in this build\n";
    return 1;
  }
  return serve(args);
}

}  // namespace baton::cli
