#include "app/serve.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <signal.h>

#include "api/http_server.h"
#include "api/router.h"
#include "api/routes.h"
#include "base/json.h"
#include "executors/registry.h"
#include "model/document.h"
#include "runtime/server.h"
#include "store/sqlite/sqlite_store.h"

namespace baton::app {

namespace {

struct Config {
  runtime::ServerOptions server;
  api::HttpServerOptions http;
  executors::ExecutorOptions executors;
};

// `retry: {default: POLICY, namespaces: {NS: POLICY}}` (docs/errors.md). A namespace's
// policy starts from the default one; `default: null` turns automatic retries off.
Status ApplyRetryConfig(const model::Document& doc, const Json& retry, runtime::ServerOptions& s) {
  auto fail = [&](const std::string& pointer, const std::string& message) {
    return Status::InvalidArgument(doc.MakeDiagnostic(pointer, message).ToString());
  };
  if (!retry.IsObject())
    return fail("/retry", "expected a mapping with 'default' and 'namespaces'");
  Status status;
  retry.ForEachMember([&](std::string_view key, const Json&) {
    if (key != "default" && key != "namespaces" && status.ok()) {
      status = fail("/retry/" + std::string(key),
                    "unknown option '" + std::string(key) + "' (expected default, namespaces)");
    }
  });
  if (!status.ok()) return status;
  engine::RetryPolicy base = engine::BuiltinDefaultRetryPolicy();
  if (retry.Has("default")) {
    Json d = retry.Get("default");
    if (d.IsNull()) {
      s.default_retry.reset();
    } else {
      auto p = engine::ParseDefaultRetryPolicy(d, base);
      if (!p.ok()) return fail("/retry/default", p.status().message());
      base = *p;
      s.default_retry = base;
    }
  }
  Json namespaces = retry.Get("namespaces");
  if (namespaces.IsNull()) return Status::Ok();
  if (!namespaces.IsObject()) {
    return fail("/retry/namespaces", "expected a mapping of namespace names to retry policies");
  }
  namespaces.ForEachMember([&](std::string_view name, const Json& policy) {
    if (!status.ok()) return;
    auto p = engine::ParseDefaultRetryPolicy(policy, base);
    if (!p.ok()) {
      status = fail("/retry/namespaces/" + std::string(name), p.status().message());
      return;
    }
    s.namespace_retry[std::string(name)] = *p;
  });
  return status;
}

// The config file: JSON or YAML, every key optional (docs/server.md lists them).
Status ApplyConfig(const std::string& path, Config& config) {
  auto doc = model::LoadDocumentFile(path);
  if (!doc.ok()) return doc.status();
  const Json& root = doc->root;
  if (!root.IsObject()) return Status::InvalidArgument(path + ": expected a mapping of options");
  Status status;
  auto number = [&](const Json& obj, std::string_view key, const std::string& where, int64_t min,
                    int64_t max, auto setter) {
    Json v = obj.Get(key);
    if (v.IsNull()) return;
    if (!v.IsInteger() || v.AsInt() < min || v.AsInt() > max) {
      if (status.ok()) {
        status = Status::InvalidArgument(
            doc->MakeDiagnostic(
                   where + std::string(key),
                   "expected an integer from " + std::to_string(min) + " to " + std::to_string(max))
                .ToString());
      }
      return;
    }
    setter(v.AsInt());
  };
  static const std::vector<std::string> kKnown = {"workers",
                                                  "httpThreads",
                                                  "maxBatch",
                                                  "maxDocumentBytes",
                                                  "maxInstanceBytes",
                                                  "retentionDays",
                                                  "evaluationTimeoutMs",
                                                  "shutdownDeadlineMs",
                                                  "http",
                                                  "retry",
                                                  "secrets"};
  root.ForEachMember([&](std::string_view key, const Json&) {
    if (std::find(kKnown.begin(), kKnown.end(), key) == kKnown.end() && status.ok()) {
      status = Status::InvalidArgument(
          doc->MakeDiagnostic("/" + std::string(key), "unknown option '" + std::string(key) + "'")
              .ToString());
    }
  });
  auto& s = config.server;
  number(root, "workers", "/", 1, 64, [&](int64_t v) { s.workers = static_cast<int>(v); });
  number(root, "maxBatch", "/", 1, 100000,
         [&](int64_t v) { s.max_batch = static_cast<size_t>(v); });
  number(root, "maxDocumentBytes", "/", 1024, 64 << 20,
         [&](int64_t v) { s.max_document_bytes = static_cast<size_t>(v); });
  number(root, "maxInstanceBytes", "/", 1024, 64 << 20,
         [&](int64_t v) { s.max_instance_bytes = static_cast<size_t>(v); });
  number(root, "retentionDays", "/", 1, 36500,
         [&](int64_t v) { s.retention_ms = v * 24 * 3600 * 1000; });
  number(root, "evaluationTimeoutMs", "/", 100, 3600000,
         [&](int64_t v) { s.evaluation_timeout_ms = v; });
  number(root, "shutdownDeadlineMs", "/", 0, 3600000,
         [&](int64_t v) { s.shutdown_deadline_ms = v; });
  number(root, "httpThreads", "/", 1, 64,
         [&](int64_t v) { config.executors.http_threads = static_cast<int>(v); });
  Json http = root.Get("http");
  if (!http.IsNull() && !http.IsObject() && status.ok()) {
    status = Status::InvalidArgument(
        doc->MakeDiagnostic("/http", "expected a mapping of HTTP options").ToString());
  }
  if (http.IsObject()) {
    static const std::vector<std::string> kKnownHttp = {"maxBodyBytes", "maxConnections",
                                                        "ioThreads"};
    http.ForEachMember([&](std::string_view key, const Json&) {
      if (std::find(kKnownHttp.begin(), kKnownHttp.end(), key) == kKnownHttp.end() && status.ok()) {
        status =
            Status::InvalidArgument(doc->MakeDiagnostic("/http/" + std::string(key),
                                                        "unknown option '" + std::string(key) + "'")
                                        .ToString());
      }
    });
    auto& h = config.http;
    number(http, "maxBodyBytes", "/http/", 1024, 1LL << 30,
           [&](int64_t v) { h.max_body_bytes = static_cast<size_t>(v); });
    number(http, "maxConnections", "/http/", 1, 100000,
           [&](int64_t v) { h.max_connections = static_cast<size_t>(v); });
    number(http, "ioThreads", "/http/", 1, 64,
           [&](int64_t v) { h.io_threads = static_cast<int>(v); });
  }
  Json retry = root.Get("retry");
  if (!retry.IsNull() && status.ok()) status = ApplyRetryConfig(*doc, retry, s);
  Json secrets = root.Get("secrets");
  if (!secrets.IsNull()) {
    if (!secrets.IsObject() && status.ok()) {
      status = Status::InvalidArgument(
          doc->MakeDiagnostic("/secrets", "expected a mapping of secret names to values")
              .ToString());
    } else {
      s.secrets = secrets.DeepCopy();
    }
  }
  return status;
}

Status ParseListen(const std::string& listen, api::HttpServerOptions& http) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size()) {
    return Status::InvalidArgument("--listen '" + listen + "': expected HOST:PORT");
  }
  std::string port = listen.substr(colon + 1);
  if (port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5 ||
      std::stoi(port) > 65535) {
    return Status::InvalidArgument("--listen '" + listen + "': the port must be 0 to 65535");
  }
  http.host = listen.substr(0, colon);
  if (http.host.size() > 2 && http.host.front() == '[' && http.host.back() == ']') {
    http.host = http.host.substr(1, http.host.size() - 2);
  }
  http.port = static_cast<uint16_t>(std::stoi(port));
  return Status::Ok();
}

// Deploys every workflow document of `dir` (the README's quick start loads examples/).
void DeployExamples(runtime::Server& server, const std::string& dir) {
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const auto& p = entry.path();
    std::string name = p.filename().string();
    bool doc = p.extension() == ".yaml" || p.extension() == ".yml" ||
               (p.extension() == ".json" && name.find(".input.") == std::string::npos);
    if (entry.is_regular_file() && doc) files.push_back(p);
  }
  if (ec) {
    std::fprintf(stderr, "baton: --examples %s: %s\n", dir.c_str(), ec.message().c_str());
    return;
  }
  std::sort(files.begin(), files.end());
  for (const auto& p : files) {
    std::ifstream in(p);
    std::stringstream text;
    text << in.rdbuf();
    auto r = server.Deploy(text.str());
    if (r.ok()) {
      std::fprintf(stderr, "baton: deployed %s/%s:%s (%s)\n", r->namespace_.c_str(),
                   r->name.c_str(), r->version.c_str(), p.filename().c_str());
    } else {
      std::fprintf(stderr, "baton: %s: %s\n", p.c_str(), r.status().message().c_str());
    }
  }
}

}  // namespace

int Serve(const cli::ServeArgs& args) {
  Config config;
  if (!args.config.empty()) {
    Status st = ApplyConfig(args.config, config);
    if (!st.ok()) {
      std::fprintf(stderr, "baton serve: %s\n", st.message().c_str());
      return 2;
    }
  }
  if (Status st = ParseListen(args.listen, config.http); !st.ok()) {
    std::fprintf(stderr, "baton serve: %s\n", st.message().c_str());
    return 2;
  }

  // Signals are taken by sigwait below; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  store::SqliteOptions so;
  so.path = args.db;
  auto store = store::OpenSqliteStore(so);
  if (!store.ok()) {
    std::fprintf(stderr, "baton serve: %s\n", store.status().message().c_str());
    return 1;
  }
  executors::ExecutorRegistry registry;
  for (auto& e : executors::MakeDefaultExecutors(config.executors)) registry.Add(std::move(e));

  runtime::Server server(config.server, store->get(), &registry);
  if (Status st = server.Start(); !st.ok()) {
    std::fprintf(stderr, "baton serve: %s\n", st.ToString().c_str());
    return 1;
  }
  if (!args.examples_dir.empty()) DeployExamples(server, args.examples_dir);

  api::Router router;
  api::AddRoutes(router, server);
  api::HttpServer http(config.http, router);
  auto port = http.Start();
  if (!port.ok()) {
    std::fprintf(stderr, "baton serve: %s\n", port.status().message().c_str());
    server.Shutdown();
    return 1;
  }
  std::string host = config.http.host.find(':') != std::string::npos ? "[" + config.http.host + "]"
                                                                     : config.http.host;
  std::printf("baton: listening on http://%s:%u\n", host.c_str(), static_cast<unsigned>(*port));
  std::fflush(stdout);

  int sig = 0;
  sigwait(&signals, &sig);
  std::fprintf(stderr, "baton: %s received, shutting down\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
  // Stop taking requests first (answers in flight finish), then drain the runtime.
  http.Stop();
  server.Shutdown();
  std::fprintf(stderr, "baton: stopped\n");
  return 0;
}

}  // namespace baton::app
