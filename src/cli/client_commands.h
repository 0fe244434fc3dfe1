// The client verbs of `baton`: they talk to a running `baton serve` over its REST API
// (api/client.h) and print what it answers, as text tables or as the server's JSON.
//
//   baton deploy FILE...                       baton get ID
//   baton start NS/NAME[:VERSION] [...]        baton history ID
//   baton ls [--status S] [--workflow W] ...   baton cancel|suspend|resume ID
//   baton definitions (alias defs)             baton dead-letters [--workflow W] ...
//   baton retry|skip|compensate|discard ID --reason R [...]
//   baton redrive --action A --reason R [--workflow W] ... [--dry-run]
//
// Exit codes (docs/cli.md): 0 ok; 1 the server refused the request (a 4xx problem, printed
// as "error: <title>: <detail>"), the workflow did not complete, or a redrive failed on
// some instance; 2 usage error (including --input/--context/--output that is not JSON);
// 3 the server is unreachable, answered 5xx, or answered something that is not baton's
// JSON; 4 `start --wait` gave up while the instance was still running.
//
// Results go to `out`, errors and notes to `err`. Each Run* call is independent and
// blocking; nothing here is shared between threads.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace baton::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitUnavailable = 3;
inline constexpr int kExitStillRunning = 4;

// The server URL when --server is not given: $BATON_SERVER, else http://127.0.0.1:8080.
std::string DefaultServerUrl();

// Flags every client verb takes.
struct ClientFlags {
  std::string server;           // base URL, e.g. "http://127.0.0.1:8080"
  std::string output = "text";  // "text" or "json" (the server's body, pretty-printed)
};

struct Io {
  std::ostream& out;
  std::ostream& err;
};

struct StartArgs {
  std::string workflow;  // "NS/NAME" or "NS/NAME:VERSION"
  std::string input_json;
  std::string input_file;
  std::string idempotency_key;
  bool wait = false;
  int64_t timeout_s = 300;  // with `wait`: how long the server may hold the request
};

struct ListArgs {
  std::string status;
  std::string workflow;
  std::string since;  // RFC 3339, passed to the server as is
  std::string until;
  int limit = 0;  // 0 = the server's default page size
  std::string cursor;
  bool all = false;  // follow nextCursor to the last page
};

enum class Control { kCancel, kSuspend, kResume };

struct DeadLetterArgs {
  std::string workflow;
  std::string error_type;  // a full error type URI or its last segment ("communication")
  std::string since;       // RFC 3339 or epoch ms, bounds of endedAt; passed on as is
  std::string until;
  int limit = 0;  // 0 = the server's default page size
};

// Operator repairs of one dead-lettered instance (docs/cli.md "Dead letters and repair").
enum class Repair { kRetry, kSkip, kCompensate, kDiscard };

struct RepairArgs {
  std::string id;
  std::string reason;        // required, not blank
  std::string by;            // empty: DefaultUser()
  std::string input_json;    // retry: replaces the failed task's input
  std::string context_json;  // retry: replaces the workflow context
  // skip: the --output values. The words `text` and `json` choose the output format, as
  // for every client verb; any other value is the failed task's output, as JSON.
  std::vector<std::string> outputs;
};

struct RedriveArgs {
  std::string action;  // retry, compensate or discard (skip is refused: exit 2)
  std::string reason;
  std::string by;
  std::string workflow;
  std::string error_type;
  std::string since;
  std::string until;
  bool dry_run = false;
};

int RunDeploy(const ClientFlags& flags, const std::vector<std::string>& files, Io io);
int RunStart(const ClientFlags& flags, const StartArgs& args, Io io);
int RunList(const ClientFlags& flags, const ListArgs& args, Io io);
int RunGet(const ClientFlags& flags, const std::string& id, Io io);
int RunHistory(const ClientFlags& flags, const std::string& id, Io io);
// `reason` is sent with kCancel only (empty = none).
int RunControl(const ClientFlags& flags, Control control, const std::string& id,
               const std::string& reason, Io io);
int RunDefinitions(const ClientFlags& flags, Io io);
int RunDeadLetters(const ClientFlags& flags, const DeadLetterArgs& args, Io io);
// Prints "ID STATUS" of the repaired instance.
int RunRepair(const ClientFlags& flags, Repair repair, const RepairArgs& args, Io io);
// Prints the matched dead letters with what happened to each; exit 1 when any failed.
int RunRedrive(const ClientFlags& flags, const RedriveArgs& args, Io io);

// Who an operator action is recorded as when --by is not given: $USER, else "anonymous".
std::string DefaultUser();

// The request path of one page of `baton ls`: "/api/v1/instances?status=...&cursor=...".
std::string ListPath(const ListArgs& args, const std::string& cursor);
// The request path of `baton dead-letters`: "/api/v1/dead-letters?workflow=...".
std::string DeadLettersPath(const DeadLetterArgs& args);

}  // namespace baton::cli
