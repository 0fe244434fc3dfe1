#include "cli/client_commands.h"

#include <cstdlib>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <utility>

#include "api/client.h"
#include "base/json.h"
#include "base/status.h"
#include "base/uri.h"
#include "cli/table.h"
#include "cli/time_format.h"

namespace baton::cli {

namespace {

constexpr int64_t kRequestTimeoutMs = 30'000;
// With `start --wait`, the server holds the request up to --timeout; allow this much more
// for the transfer before the client gives up.
constexpr int64_t kWaitMarginMs = 30'000;
// A redrive acts on up to 1000 instances in one request; the server answers a request
// within 330 s at most (docs/api.md), so wait that long and a little more.
constexpr int64_t kRedriveTimeoutMs = 360'000;

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return !in.bad();
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string Str(const Json& object, std::string_view key) {
  Json v = object.Get(key);
  if (v.IsString()) return std::string(v.AsString());
  if (v.IsNull()) return "";
  return v.Dump();
}

// "ns/name:version" from {namespace, name, version}; a string is shown as it is.
std::string WorkflowName(const Json& workflow) {
  if (workflow.IsString()) return std::string(workflow.AsString());
  if (!workflow.IsObject()) return "";
  std::string name = Str(workflow, "namespace") + "/" + Str(workflow, "name");
  std::string version = Str(workflow, "version");
  if (!version.empty()) name += ":" + version;
  return name;
}

std::string DurationOf(const Json& object, std::string_view key) {
  Json v = object.Get(key);
  return v.IsNumber() ? FormatDuration(v.AsInt()) : "";
}

// The problem+json of a refused request, as "<title>: <detail>".
struct Problem {
  std::string title;
  std::string detail;
  std::vector<std::string> errors;  // an `errors` extension member of strings, if present
};

Problem ParseProblem(const api::ApiResponse& response) {
  Problem problem;
  auto body = Json::Parse(response.body);
  if (body.ok() && body->IsObject()) {
    problem.title = Str(*body, "title");
    problem.detail = Str(*body, "detail");
    body->Get("errors").ForEachItem([&](size_t, const Json& item) {
      if (item.IsString()) problem.errors.emplace_back(item.AsString());
    });
  } else {
    std::string text = response.body.substr(0, 300);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    problem.detail = text;
  }
  if (problem.title.empty()) problem.title = "HTTP " + std::to_string(response.status);
  return problem;
}

std::string Describe(const Problem& problem) {
  return problem.detail.empty() ? problem.title : problem.title + ": " + problem.detail;
}

// What a request gave: the parsed body of a 2xx answer, or the exit code to end with (the
// error is already printed).
struct Reply {
  int exit_code = kExitOk;
  int status = 0;
  Json body;
  api::ApiResponse raw;
};

class Session {
 public:
  Session(const ClientFlags& flags, Io io, int64_t timeout_ms = kRequestTimeoutMs)
      : flags_(flags), io_(io), client_(flags.server, api::ClientOptions{timeout_ms}) {}

  bool json_output() const { return flags_.output == "json"; }
  Io io() const { return io_; }

  Reply Get(const std::string& path) { return Finish(client_.Get(path), true); }
  // With `print_refusal` false, a 4xx answer is left to the caller to print (reply.raw).
  Reply Post(const std::string& path, const std::string& body,
             const std::string& content_type = "application/json", bool print_refusal = true) {
    return Finish(client_.Post(path, body, content_type), print_refusal);
  }

  // Prints a JSON body as --output json shows it.
  void PrintJson(const Json& body) { io_.out << body.Dump(true) << '\n'; }

 private:
  Reply Finish(Result<api::ApiResponse> result, bool print_refusal) {
    Reply reply;
    if (!result.ok()) {
      io_.err << "error: " << result.status().message() << '\n';
      reply.exit_code =
          result.status().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitUnavailable;
      return reply;
    }
    reply.raw = std::move(result).value();
    reply.status = reply.raw.status;
    if (reply.status < 200 || reply.status >= 300) {
      bool refused = reply.status >= 400 && reply.status < 500;
      if (!refused || print_refusal)
        io_.err << "error: " << Describe(ParseProblem(reply.raw)) << '\n';
      reply.exit_code = refused ? kExitFailed : kExitUnavailable;
      return reply;
    }
    if (reply.raw.body.empty()) return reply;  // e.g. 204: body stays null
    auto body = Json::Parse(reply.raw.body);
    if (!body.ok()) {
      io_.err << "error: the answer of " << client_.base_url()
              << " is not JSON (is it a baton server?): " << body.status().message() << '\n';
      reply.exit_code = kExitUnavailable;
      return reply;
    }
    reply.body = std::move(body).value();
    return reply;
  }

  const ClientFlags& flags_;
  Io io_;
  api::ApiClient client_;
};

// The items of a list answer: the body itself when it is an array, else body.items.
Json Items(const Json& body) { return body.IsArray() ? body : body.Get("items"); }

// The exit code when `reply` failed (its message is printed) or `--output json` printed its
// body as it came; nothing when the verb goes on to print its human view.
std::optional<int> Finished(Session& session, const Reply& reply) {
  if (reply.exit_code != kExitOk) return reply.exit_code;
  if (!session.json_output()) return std::nullopt;
  session.PrintJson(reply.body);
  return kExitOk;
}

bool IsTerminal(const std::string& status) {
  return status == "completed" || status == "faulted" || status == "cancelled" ||
         status == "compensated" || status == "compensation_failed";
}

// Tasks in these states are done; `baton get` lists the others as running.
bool TaskFinished(const std::string& status) {
  return status == "completed" || status == "faulted" || status == "cancelled" ||
         status == "skipped" || status == "compensated";
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Where "LINE:COL: ..." starts in a server line: 0 for "9:9: error: ...", 9 for
// "document:9:9: error: ..." (the server names the request body "document"); npos if the
// line has no location.
size_t LocationStart(const std::string& line) {
  size_t start = 0;
  size_t colon = line.find(':');
  if (colon == std::string::npos) return std::string::npos;
  if (colon > 0 && !IsDigit(line[0])) {
    if (line.find(' ') < colon) return std::string::npos;
    start = colon + 1;
  }
  size_t pos = start;
  for (int part = 0; part < 2; ++part) {
    size_t digits = pos;
    while (pos < line.size() && IsDigit(line[pos])) ++pos;
    if (pos == digits || pos >= line.size() || line[pos] != ':') return std::string::npos;
    ++pos;
  }
  return start;
}

// A refused deployment: a 400 lists the server's validation lines ("LINE:COL: error: ...")
// which become compiler-style with the file in front; anything else is one line.
void PrintDeployProblem(const std::string& file, int status, const Problem& problem,
                        std::ostream& err) {
  std::vector<std::string> lines = problem.errors;
  if (lines.empty()) {
    std::istringstream detail(problem.detail);
    for (std::string line; std::getline(detail, line);) {
      if (!line.empty()) lines.push_back(line);
    }
  }
  if (status != 400 || lines.empty()) {
    err << file << ": error: " << Describe(problem) << '\n';
    return;
  }
  for (const auto& line : lines) {
    size_t located = LocationStart(line);
    if (located != std::string::npos) {
      err << file << ':' << line.substr(located) << '\n';
    } else if (line.rfind("error: ", 0) == 0) {
      err << file << ": " << line << '\n';
    } else {
      err << file << ": error: " << line << '\n';
    }
  }
}

void PrintPrettyBlock(std::ostream& out, const char* label, const Json& value) {
  out << label << ":\n" << value.Dump(true) << '\n';
}

}  // namespace

std::string DefaultServerUrl() {
  const char* env = std::getenv("BATON_SERVER");
  if (env != nullptr && env[0] != '\0') return env;
  return "http://127.0.0.1:8080";
}

namespace {

// `path` with the query `params` (name, value) appended, values percent-encoded.
std::string WithQuery(std::string path,
                      const std::vector<std::pair<std::string, std::string>>& params) {
  char sep = '?';
  for (const auto& [key, value] : params) {
    // '/' and ':' may stay as they are in a query (RFC 3986 §3.4): "workflow=ns/name:1.0".
    path += sep + key + "=" + PercentEncode(value, "/:");
    sep = '&';
  }
  return path;
}

}  // namespace

std::string ListPath(const ListArgs& args, const std::string& cursor) {
  std::vector<std::pair<std::string, std::string>> params;
  if (!args.status.empty()) params.emplace_back("status", args.status);
  if (!args.workflow.empty()) params.emplace_back("workflow", args.workflow);
  if (!args.since.empty()) params.emplace_back("since", args.since);
  if (!args.until.empty()) params.emplace_back("until", args.until);
  if (args.limit > 0) params.emplace_back("limit", std::to_string(args.limit));
  if (!cursor.empty()) params.emplace_back("cursor", cursor);
  return WithQuery("/api/v1/instances", params);
}

std::string DeadLettersPath(const DeadLetterArgs& args) {
  std::vector<std::pair<std::string, std::string>> params;
  if (!args.workflow.empty()) params.emplace_back("workflow", args.workflow);
  if (!args.error_type.empty()) params.emplace_back("errorType", args.error_type);
  if (!args.since.empty()) params.emplace_back("since", args.since);
  if (!args.until.empty()) params.emplace_back("until", args.until);
  if (args.limit > 0) params.emplace_back("limit", std::to_string(args.limit));
  return WithQuery("/api/v1/dead-letters", params);
}

std::string DefaultUser() {
  const char* user = std::getenv("USER");
  if (user != nullptr && user[0] != '\0') return user;
  return "anonymous";
}

int RunDeploy(const ClientFlags& flags, const std::vector<std::string>& files, Io io) {
  Session session(flags, io);
  int exit_code = kExitOk;
  for (const auto& file : files) {
    std::string content;
    if (!ReadFile(file, &content)) {
      io.err << "error: cannot read '" << file << "'\n";
      exit_code = kExitFailed;
      continue;
    }
    const char* type = EndsWith(file, ".json") ? "application/json" : "application/yaml";
    Reply reply = session.Post("/api/v1/definitions", content, type, /*print_refusal=*/false);
    if (reply.exit_code == kExitFailed) {
      PrintDeployProblem(file, reply.status, ParseProblem(reply.raw), io.err);
      exit_code = kExitFailed;
      continue;
    }
    if (reply.exit_code != kExitOk) return reply.exit_code;  // the server is gone: stop here
    if (session.json_output()) {
      session.PrintJson(reply.body);
      continue;
    }
    Json created = reply.body.Get("created");
    bool is_new = created.IsBool() ? created.AsBool() : reply.status == 201;
    io.out << (is_new ? "deployed " : "unchanged ") << WorkflowName(reply.body) << '\n';
  }
  return exit_code;
}

namespace {

// Prints the end of `start --wait` and returns its exit code.
int ReportWaited(Session& session, const Json& view, int64_t timeout_s) {
  Io io = session.io();
  std::string id = Str(view, "id");
  std::string status = Str(view, "status");
  if (session.json_output()) {
    session.PrintJson(view);
  } else {
    io.out << id << ' ' << status << '\n';
    if (status == "completed") io.out << view.Get("output").Dump(true) << '\n';
  }
  if (status == "completed") return kExitOk;
  if (IsTerminal(status)) {
    Json error = view.Get("error");
    io.err << "error: instance " << id << ' ' << status;
    if (error.IsObject() && error.Has("title")) {
      io.err << ": " << Str(error, "title");
      if (error.Has("detail")) io.err << ": " << Str(error, "detail");
    }
    io.err << '\n';
    if (!session.json_output() && error.IsObject()) io.err << error.Dump(true) << '\n';
    return kExitFailed;
  }
  io.err << "error: instance " << id << " is still " << status << " after " << timeout_s
         << " s (follow it with `baton get " << id << "`)\n";
  return kExitStillRunning;
}

}  // namespace

int RunStart(const ClientFlags& flags, const StartArgs& args, Io io) {
  size_t slash = args.workflow.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == args.workflow.size() ||
      args.workflow[slash + 1] == ':') {
    io.err << "error: the workflow must be NAMESPACE/NAME[:VERSION], got '" << args.workflow
           << "'\n";
    return kExitUsage;
  }
  Json input = Json::Object();
  if (!args.input_file.empty() || !args.input_json.empty()) {
    std::string text = args.input_json;
    std::string source = "--input";
    if (!args.input_file.empty()) {
      source = "--input-file '" + args.input_file + "'";
      if (!ReadFile(args.input_file, &text)) {
        io.err << "error: cannot read input file '" << args.input_file << "'\n";
        return kExitUsage;
      }
    }
    auto parsed = Json::Parse(text);
    if (!parsed.ok()) {
      io.err << "error: " << source << " is not valid JSON: " << parsed.status().message() << '\n';
      return kExitUsage;
    }
    input = std::move(parsed).value();
  }
  Json request = Json::Object();
  request.Set("workflow", Json::String(args.workflow));
  request.Set("input", std::move(input));
  if (!args.idempotency_key.empty()) {
    request.Set("idempotencyKey", Json::String(args.idempotency_key));
  }

  std::string path = "/api/v1/instances";
  int64_t timeout_ms = kRequestTimeoutMs;
  if (args.wait) {
    path += "?wait=" + std::to_string(args.timeout_s);
    timeout_ms = args.timeout_s * 1000 + kWaitMarginMs;
  }
  Session session(flags, io, timeout_ms);
  Reply reply = session.Post(path, request.Dump());
  if (reply.exit_code != kExitOk) return reply.exit_code;
  std::string id = Str(reply.body, "id");
  if (id.empty()) {
    io.err << "error: the server's answer has no instance id: " << reply.raw.body << '\n';
    return kExitUnavailable;
  }
  if (!args.wait) {
    if (session.json_output()) {
      session.PrintJson(reply.body);
    } else {
      io.out << id << '\n';
    }
    if (reply.status == 200 && !args.idempotency_key.empty()) {
      io.err << "note: idempotency key '" << args.idempotency_key
             << "' names an existing instance; nothing new was started\n";
    }
    return kExitOk;
  }
  Json view = reply.body;
  if (!view.Has("status")) {
    Reply got = session.Get("/api/v1/instances/" + PercentEncode(id));
    if (got.exit_code != kExitOk) return got.exit_code;
    view = got.body;
  }
  return ReportWaited(session, view, args.timeout_s);
}

int RunList(const ClientFlags& flags, const ListArgs& args, Io io) {
  Session session(flags, io);
  Json items = Json::Array();
  std::string cursor = args.cursor;
  std::string next;
  std::set<std::string> seen;
  while (true) {
    Reply reply = session.Get(ListPath(args, cursor));
    if (reply.exit_code != kExitOk) return reply.exit_code;
    if (session.json_output() && !args.all) {
      session.PrintJson(reply.body);
      return kExitOk;
    }
    Items(reply.body).ForEachItem([&](size_t, const Json& item) { items.Append(item); });
    next = Str(reply.body, "nextCursor");
    if (!args.all || next.empty()) break;
    if (!seen.insert(next).second) {
      io.err << "error: the server returned cursor '" << next << "' twice\n";
      return kExitUnavailable;
    }
    cursor = next;
  }
  if (session.json_output()) {
    Json all = Json::Object();
    all.Set("items", items);
    session.PrintJson(all);
    return kExitOk;
  }
  if (items.empty()) {
    io.err << "no instances\n";
  } else {
    Table table({"ID", "WORKFLOW", "STATUS", "STARTED", "ELAPSED"});
    table.SetAlign(4, Table::Align::kRight);
    items.ForEachItem([&](size_t, const Json& item) {
      table.AddRow({Str(item, "id"), WorkflowName(item.Get("workflow")), Str(item, "status"),
                    LocalTime(Str(item, "createdAt")), DurationOf(item, "elapsedMs")});
    });
    io.out << table.Render();
  }
  if (!args.all && !next.empty()) {
    io.err << "more instances: use --all, or --cursor " << next << '\n';
  }
  return kExitOk;
}

int RunGet(const ClientFlags& flags, const std::string& id, Io io) {
  Session session(flags, io);
  Reply reply = session.Get("/api/v1/instances/" + PercentEncode(id));
  if (std::optional<int> done = Finished(session, reply)) return *done;
  const Json& view = reply.body;
  auto field = [&](const char* label, const std::string& value) {
    std::string padded = label;
    padded.resize(10, ' ');
    io.out << padded << value << '\n';
  };
  field("ID", Str(view, "id"));
  field("Workflow", WorkflowName(view.Get("workflow")));
  field("Status", Str(view, "status"));
  field("Created", LocalTime(Str(view, "createdAt")));
  field("Updated", LocalTime(Str(view, "updatedAt")));
  if (view.Has("endedAt")) field("Ended", LocalTime(Str(view, "endedAt")));
  if (view.Get("elapsedMs").IsNumber()) field("Elapsed", DurationOf(view, "elapsedMs"));

  // DETAIL (only when some task has one): when a retrying task tries again and why it
  // failed; the error of a failed task or compensation.
  auto detail_of = [](const Json& task) {
    std::string detail;
    if (task.Get("nextAttemptAt").IsString()) {
      detail = "next attempt " + LocalTime(Str(task, "nextAttemptAt"), /*millis=*/true);
    }
    Json error = task.Get("lastError").IsObject() ? task.Get("lastError") : task.Get("error");
    if (error.IsObject() && error.Get("title").IsString()) {
      detail += (detail.empty() ? "" : " after ") + Str(error, "title");
    }
    return detail;
  };
  bool details = false;
  view.Get("tasks").ForEachItem([&](size_t, const Json& task) {
    details = details || (!TaskFinished(Str(task, "status")) && !detail_of(task).empty());
  });
  std::vector<std::string> headers = {"REF", "NAME", "STATUS", "ATTEMPT"};
  if (details) headers.emplace_back("DETAIL");
  Table tasks(headers);
  tasks.SetAlign(3, Table::Align::kRight);
  view.Get("tasks").ForEachItem([&](size_t, const Json& task) {
    std::string status = Str(task, "status");
    if (TaskFinished(status)) return;
    std::vector<std::string> row = {Str(task, "ref"), Str(task, "name"), status,
                                    Str(task, "attempt")};
    if (details) row.push_back(detail_of(task));
    tasks.AddRow(row);
  });
  if (tasks.rows() > 0) {
    io.out << "\nRunning tasks:\n";
    std::istringstream lines(tasks.Render());
    for (std::string line; std::getline(lines, line);) io.out << "  " << line << '\n';
  }
  if (view.Has("output")) {
    io.out << '\n';
    PrintPrettyBlock(io.out, "Output", view.Get("output"));
  }
  if (view.Has("error") && !view.Get("error").IsNull()) {
    io.out << '\n';
    PrintPrettyBlock(io.out, "Error", view.Get("error"));
  }
  return kExitOk;
}

int RunHistory(const ClientFlags& flags, const std::string& id, Io io) {
  Session session(flags, io);
  Reply reply = session.Get("/api/v1/instances/" + PercentEncode(id) + "/history");
  if (std::optional<int> done = Finished(session, reply)) return *done;
  Table table({"SEQ", "TIME", "KIND", "TASK", "ATTEMPT", "DURATION", "ERROR"});
  table.SetAlign(0, Table::Align::kRight);
  table.SetAlign(4, Table::Align::kRight);
  table.SetAlign(5, Table::Align::kRight);
  Items(reply.body).ForEachItem([&](size_t, const Json& entry) {
    std::string task = Str(entry, "task");
    if (task.empty()) task = Str(entry, "name");
    Json error = entry.Get("error");
    std::string error_title = error.IsObject() ? Str(error, "title") : Str(entry, "error");
    table.AddRow({Str(entry, "seq"), LocalTime(Str(entry, "time"), /*millis=*/true),
                  Str(entry, "kind"), task, Str(entry, "attempt"), DurationOf(entry, "durationMs"),
                  error_title});
  });
  if (table.rows() == 0) {
    io.err << "no history\n";
    return kExitOk;
  }
  io.out << table.Render();
  return kExitOk;
}

int RunControl(const ClientFlags& flags, Control control, const std::string& id,
               const std::string& reason, Io io) {
  const char* verb = "cancel";
  switch (control) {
    case Control::kCancel:
      verb = "cancel";
      break;
    case Control::kSuspend:
      verb = "suspend";
      break;
    case Control::kResume:
      verb = "resume";
      break;
  }
  Json body = Json::Object();
  if (control == Control::kCancel && !reason.empty()) body.Set("reason", Json::String(reason));
  Session session(flags, io);
  Reply reply = session.Post("/api/v1/instances/" + PercentEncode(id) + "/" + verb, body.Dump());
  if (std::optional<int> done = Finished(session, reply)) return *done;
  std::string shown_id = Str(reply.body, "id");
  std::string status = Str(reply.body, "status");
  io.out << (shown_id.empty() ? id : shown_id) << ' '
         << (status.empty() ? std::string(verb) + " requested" : status) << '\n';
  return kExitOk;
}

int RunDefinitions(const ClientFlags& flags, Io io) {
  Session session(flags, io);
  Reply reply = session.Get("/api/v1/definitions");
  if (std::optional<int> done = Finished(session, reply)) return *done;
  Table table({"NAMESPACE", "NAME", "VERSIONS"});
  Items(reply.body).ForEachItem([&](size_t, const Json& definition) {
    std::string versions;
    auto add = [&](const std::string& version) {
      if (!versions.empty()) versions += ", ";
      versions += version;
    };
    Json list = definition.Get("versions");
    if (list.IsArray()) {
      list.ForEachItem([&](size_t, const Json& v) {
        if (v.IsObject()) {
          add(Str(v, "version"));
        } else {
          add(v.IsString() ? std::string(v.AsString()) : v.Dump());
        }
      });
    } else if (definition.Has("version")) {
      add(Str(definition, "version"));
    }
    table.AddRow({Str(definition, "namespace"), Str(definition, "name"), versions});
  });
  if (table.rows() == 0) {
    io.err << "no definitions\n";
    return kExitOk;
  }
  io.out << table.Render();
  return kExitOk;
}

// ---- dead letters and operator repair ----

namespace {

// The last segment of an error type URI: "communication" for ".../errors/communication".
std::string TypeSegment(const std::string& type) {
  size_t slash = type.find_last_of('/');
  return slash == std::string::npos ? type : type.substr(slash + 1);
}

// The ERROR cell of `baton dead-letters`: the type's last segment and the status
// ("communication 503"); the title when the error has no type.
std::string ErrorCell(const Json& error) {
  if (!error.IsObject()) return "";
  std::string cell = TypeSegment(Str(error, "type"));
  if (cell.empty()) cell = Str(error, "title");
  std::string status = Str(error, "status");
  if (!status.empty()) cell += cell.empty() ? status : " " + status;
  return cell;
}

// The failed task's name (its ref when it has none); empty when there is none.
std::string FailedTaskCell(const Json& task) {
  if (!task.IsObject()) return "";
  std::string name = Str(task, "name");
  return name.empty() ? Str(task, "ref") : name;
}

// Parses the JSON text of `option`, or prints why it is not JSON and returns nullopt.
std::optional<Json> ParseJsonOption(const std::string& option, const std::string& text,
                                    std::ostream& err, const std::string& hint = "") {
  auto parsed = Json::Parse(text);
  if (!parsed.ok()) {
    err << "error: " << option << " is not valid JSON" << hint << ": " << parsed.status().message()
        << '\n';
    return std::nullopt;
  }
  return std::move(parsed).value();
}

bool IsBlank(const std::string& text) {
  return text.find_first_not_of(" \t\r\n") == std::string::npos;
}

const char* RepairName(Repair repair) {
  switch (repair) {
    case Repair::kRetry:
      return "retry";
    case Repair::kSkip:
      return "skip";
    case Repair::kCompensate:
      return "compensate";
    case Repair::kDiscard:
      return "discard";
  }
  return "retry";
}

}  // namespace

int RunDeadLetters(const ClientFlags& flags, const DeadLetterArgs& args, Io io) {
  Session session(flags, io);
  Reply reply = session.Get(DeadLettersPath(args));
  if (std::optional<int> done = Finished(session, reply)) return *done;
  Table table({"ID", "WORKFLOW", "STATUS", "ERROR", "FAILED TASK", "ATTEMPTS", "ENDED"});
  table.SetAlign(5, Table::Align::kRight);
  Items(reply.body).ForEachItem([&](size_t, const Json& item) {
    table.AddRow({Str(item, "id"), WorkflowName(item.Get("workflow")), Str(item, "status"),
                  ErrorCell(item.Get("error")), FailedTaskCell(item.Get("failedTask")),
                  Str(item, "attempts"), LocalTime(Str(item, "endedAt"))});
  });
  if (table.rows() == 0) {
    io.err << "no dead letters\n";
    return kExitOk;
  }
  io.out << table.Render();
  if (!Str(reply.body, "nextCursor").empty()) {
    io.err << "more dead letters: raise --limit (up to 1000) or narrow --since/--until\n";
  }
  return kExitOk;
}

int RunRepair(const ClientFlags& flags, Repair repair, const RepairArgs& args, Io io) {
  const std::string action = RepairName(repair);
  if (IsBlank(args.reason)) {
    io.err << "error: --reason must not be empty: say why (it is kept in the instance's "
              "history)\n";
    return kExitUsage;
  }
  ClientFlags effective = flags;
  Json body = Json::Object();
  body.Set("reason", Json::String(args.reason));
  body.Set("by", Json::String(args.by.empty() ? DefaultUser() : args.by));
  if (!args.input_json.empty()) {
    std::optional<Json> input = ParseJsonOption("--input", args.input_json, io.err);
    if (!input) return kExitUsage;
    body.Set("input", std::move(*input));
  }
  if (!args.context_json.empty()) {
    std::optional<Json> context = ParseJsonOption("--context", args.context_json, io.err);
    if (!context) return kExitUsage;
    body.Set("context", std::move(*context));
  }
  for (const std::string& value : args.outputs) {
    if (value == "text" || value == "json") {
      effective.output = value;
      continue;
    }
    if (body.Has("output")) {
      io.err << "error: --output: the task's output is given twice\n";
      return kExitUsage;
    }
    std::optional<Json> output =
        ParseJsonOption("--output", value, io.err,
                        " (with skip, --output is the task's output as JSON, or the word text "
                        "or json for the output format)");
    if (!output) return kExitUsage;
    body.Set("output", std::move(*output));
  }

  Session session(effective, io);
  Reply reply =
      session.Post("/api/v1/instances/" + PercentEncode(args.id) + "/" + action, body.Dump());
  if (std::optional<int> done = Finished(session, reply)) return *done;
  std::string shown_id = Str(reply.body, "id");
  std::string status = Str(reply.body, "status");
  io.out << (shown_id.empty() ? args.id : shown_id) << ' '
         << (status.empty() ? action + " done" : status) << '\n';
  return kExitOk;
}

int RunRedrive(const ClientFlags& flags, const RedriveArgs& args, Io io) {
  if (args.action == "skip") {
    io.err << "error: --action skip is not allowed in bulk (each skipped task needs its own "
              "output): skip instances one at a time with `baton skip ID --reason R`\n";
    return kExitUsage;
  }
  if (args.action != "retry" && args.action != "compensate" && args.action != "discard") {
    io.err << "error: --action must be retry, compensate or discard, got '" << args.action << "'\n";
    return kExitUsage;
  }
  if (IsBlank(args.reason)) {
    io.err << "error: --reason must not be empty: say why (it is kept in each instance's "
              "history)\n";
    return kExitUsage;
  }
  Json filter = Json::Object();
  if (!args.workflow.empty()) filter.Set("workflow", Json::String(args.workflow));
  if (!args.error_type.empty()) filter.Set("errorType", Json::String(args.error_type));
  if (!args.since.empty()) filter.Set("since", Json::String(args.since));
  if (!args.until.empty()) filter.Set("until", Json::String(args.until));
  Json body = Json::Object();
  body.Set("filter", std::move(filter));
  body.Set("action", Json::String(args.action));
  body.Set("reason", Json::String(args.reason));
  body.Set("by", Json::String(args.by.empty() ? DefaultUser() : args.by));
  if (args.dry_run) body.Set("dryRun", Json::Bool(true));

  Session session(flags, io, kRedriveTimeoutMs);
  Reply reply = session.Post("/api/v1/dead-letters/redrive", body.Dump());
  if (reply.exit_code != kExitOk) return reply.exit_code;
  size_t failed = 0;
  size_t applied = 0;
  Json items = Items(reply.body);
  items.ForEachItem([&](size_t, const Json& item) {
    std::string result = Str(item, "result");
    if (result == "failed") ++failed;
    if (result == "applied") ++applied;
  });
  if (session.json_output()) {
    session.PrintJson(reply.body);
  } else {
    Table table({"ID", "WORKFLOW", "STATUS", "ERROR", "RESULT", "DETAIL"});
    items.ForEachItem([&](size_t, const Json& item) {
      table.AddRow({Str(item, "id"), WorkflowName(item.Get("workflow")), Str(item, "status"),
                    TypeSegment(Str(item, "errorType")), Str(item, "result"), Str(item, "detail")});
    });
    if (table.rows() > 0) io.out << table.Render();
    std::string matched = Str(reply.body, "matched");
    if (matched.empty()) matched = std::to_string(items.size());
    Json dry_run = reply.body.Get("dryRun");
    if (dry_run.IsBool() ? dry_run.AsBool() : args.dry_run) {
      io.out << "dry run: " << matched
             << (matched == "1" ? " dead letter matches" : " dead letters match")
             << "; nothing was changed\n";
    } else {
      io.out << args.action << ": " << applied << " applied, " << failed << " failed (" << matched
             << " matched)\n";
    }
  }
  if (failed > 0) {
    io.err << "error: " << args.action << " failed for " << failed << " of " << items.size()
           << " dead letters\n";
    return kExitFailed;
  }
  return kExitOk;
}

}  // namespace baton::cli
