// Store: the durable state of a baton server. Definitions, instances (a snapshot of the
// interpreter state, as opaque bytes), the append-only history of every instance, due
// timers, outstanding work (commands that were issued but whose result is not committed
// yet), held events of suspended instances, and idempotency keys.
//
// The store knows nothing of the engine: snapshots, work payloads and history entries are
// bytes that runtime/ encodes (engine/codec.h). Indexed columns (status, workflow, times)
// sit beside them so that queries need no decoding.
//
// Durability: CommitTransitions returns only after its transaction reached the disk. Many
// instances' transitions share one transaction (group commit); the runtime batches them.
//
// Implementations: sqlite/ (embedded default). PostgreSQL comes later and must pass the
// same suite (tests/store/).
//
// Thread-safety: every method may be called from any thread. Writes are serialised inside
// the implementation; reads may run concurrently with a commit.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace baton::store {

using Millis = int64_t;  // milliseconds since the Unix epoch

struct Definition {
  std::string namespace_;
  std::string name;
  std::string version;
  std::string content;       // the document exactly as deployed (YAML or JSON text)
  std::string content_hash;  // lowercase hex SHA-256 of `content` (set by the store on put)
  Millis created_at = 0;
};

enum class PutOutcome : uint8_t {
  kCreated,    // a new version was stored
  kUnchanged,  // the same version with identical content already existed
  kConflict,   // the version exists with different content (nothing written)
};

// Persisted as text in the `status` column.
// "pending", "running", "waiting", "suspended", "cancelled", "faulted", "completed", and
// baton's "retrying", "compensating", "compensated", "compensation_failed".
struct InstanceRow {
  std::string id;
  std::string namespace_;
  std::string name;
  std::string version;
  std::string status;
  // Incremented by every committed write; CommitTransitions checks it (optimistic
  // concurrency, so that two nodes can never both advance one instance).
  int64_t row_version = 0;
  std::string snapshot;         // engine codec bytes; may be empty in list queries
  std::string input_json;       // the instance's input (JSON text)
  std::string output_json;      // when completed; empty otherwise
  std::string error_json;       // when faulted/cancelled with a reason; empty otherwise
  std::string tasks_json;       // tasks running or waiting: JSON array, for views
  std::string idempotency_key;  // empty = none; unique among instances when set
  std::string parent_id;        // run: workflow child: the parent instance
  uint64_t parent_activity = 0;
  int64_t history_length = 0;  // number of history rows; the next row's seq
  bool suspended = false;      // events are held in the inbox until resumed
  Millis created_at = 0;
  Millis updated_at = 0;
  Millis ended_at = 0;  // 0 while not terminal
};

// One row per committed transition (a transition's lifecycle entries, encoded).
struct HistoryRow {
  std::string instance_id;
  int64_t seq = 0;  // 0, 1, 2, ... per instance, gap-free
  Millis time = 0;
  std::string entries;  // encoded by the runtime (JSON array text)
};

// Integer ids (timer_id, activity_id, parent_activity) are per-instance counters and must be
// below 2^63 (SQL integers are signed 64-bit); a write with a larger one is kInvalidArgument.
struct TimerRow {
  std::string instance_id;
  uint64_t timer_id = 0;
  Millis due_at = 0;
};

// A command issued by a committed transition whose result is not committed yet: an
// executor attempt, a child start, a subscription. Deleted by the transition that consumes
// its result; still present after a crash, so the runtime issues it again.
struct WorkRow {
  std::string instance_id;
  uint64_t activity_id = 0;
  std::string kind;     // "task", "child", "subscribe", ...
  std::string payload;  // encoded command
  Millis created_at = 0;
};

// An event held for a suspended instance, replayed in seq order on resume.
struct InboxRow {
  std::string instance_id;
  int64_t seq = 0;
  std::string payload;  // encoded event
};

// Everything one transition of one instance writes. Applied atomically.
// An update (expected_version > 0) writes the row's mutable columns; the identity columns
// (namespace_, name, version, idempotency_key, parent_id, parent_activity, created_at) are
// fixed by the insert and ignored afterwards. The children's instance_id may be left empty
// (it is row.id). Within a write, removals and clear_inbox apply before the additions; adding
// a timer or work row that exists replaces it (re-arming a timer moves it).
struct InstanceWrite {
  InstanceRow row;               // the complete new row (row_version is ignored: store sets it)
  int64_t expected_version = 0;  // 0: insert a new instance; else the version read
  // Appended; seqs continue the stored history_length and lie below row.history_length (the
  // store refuses others as kInvalidArgument, and a seq already taken as kConflict).
  std::vector<HistoryRow> history;
  std::vector<TimerRow> add_timers;
  std::vector<uint64_t> remove_timers;  // timer ids of this instance
  std::vector<WorkRow> add_work;
  std::vector<uint64_t> remove_work;  // activity ids of this instance
  std::vector<InboxRow> add_inbox;
  bool clear_inbox = false;
};

// The outcome of one write of a batch. When not ok, nothing of this write was applied.
//   ok: committed; row_version is the new version (1 after an insert).
//   kConflict: expected_version did not match, or a history/inbox seq is already taken.
//   kNotFound: update (expected_version > 0) of an instance that does not exist.
//   kAlreadyExists: insert of an existing id, or an idempotency key already used.
//   kInvalidArgument: a malformed write (no id, a child of another instance, ...).
struct WriteResult {
  Status status;
  int64_t row_version = 0;
};

struct InstanceFilter {
  std::string status;                 // empty = any
  std::vector<std::string> statuses;  // non-empty: any of these (and `status` if set)
  std::string namespace_;             // empty = any
  std::string name;                   // empty = any
  std::string version;                // empty = any
  Millis since = 0;                   // created_at >= since (0 = no bound)
  Millis until = 0;                   // created_at < until (0 = no bound)
  int limit = 100;                    // > 0 (every `limit` of this interface must be positive)
  std::string cursor;                 // opaque, from a previous page's next_cursor
};

struct InstancePage {
  std::vector<InstanceRow> rows;  // newest first; snapshot is left empty
  std::string next_cursor;        // empty: no more
};

struct StoreStats {
  int64_t definitions = 0;
  int64_t instances = 0;
  int64_t timers = 0;
  int64_t work = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // --- definitions ---
  virtual Result<PutOutcome> PutDefinition(const Definition& def) = 0;
  // `version` empty: the latest (by created_at, then version text).
  virtual Result<std::optional<Definition>> GetDefinition(const std::string& namespace_,
                                                          const std::string& name,
                                                          const std::string& version) = 0;
  // Every version of every definition (content included), oldest first.
  virtual Result<std::vector<Definition>> ListDefinitions() = 0;

  // --- instances: the write path ---
  // Commits every write in one transaction and one fsync. A write that fails its check is
  // skipped (its result says why) without failing the others. A non-OK return means the
  // transaction failed as a whole (I/O error): nothing was committed, except with
  // kCommitUnknown: the COMMIT itself failed and the batch may or may not be durable (re-read
  // before retrying). On a non-OK return every result carries that status.
  virtual Status CommitTransitions(const std::vector<InstanceWrite>& writes,
                                   std::vector<WriteResult>* results) = 0;

  // --- instances: reads ---
  virtual Result<std::optional<InstanceRow>> GetInstance(const std::string& id) = 0;
  virtual Result<std::optional<std::string>> FindByIdempotencyKey(const std::string& key) = 0;
  virtual Result<InstancePage> ListInstances(const InstanceFilter& filter) = 0;
  // History rows with seq >= from_seq, in order, at most `limit`.
  virtual Result<std::vector<HistoryRow>> GetHistory(const std::string& instance_id,
                                                     int64_t from_seq, int limit) = 0;
  virtual Result<std::vector<InboxRow>> GetInbox(const std::string& instance_id) = 0;

  // --- recovery and scheduling ---
  // Timers due before `before`, earliest first, at most `limit`.
  virtual Result<std::vector<TimerRow>> TimersDueBefore(Millis before, int limit) = 0;
  // Outstanding work rows with (instance_id, activity_id) after `after_*`, in that order, at
  // most `limit` (keyset paging for recovery).
  virtual Result<std::vector<WorkRow>> ListWork(const std::string& after_instance,
                                                uint64_t after_activity, int limit) = 0;
  // Ids of instances that are neither terminal nor suspended and have no timer and no work
  // row: they were mid-transition at a crash (e.g. started but never advanced).
  virtual Result<std::vector<std::string>> ListStalledInstances(int limit) = 0;

  // --- retention ---
  // Deletes terminal instances that ended before `ended_before` (0 < ended_at < ended_before),
  // except dead letters (status faulted or compensation_failed: they wait for an operator),
  // with their history, timers, work and inbox rows, in
  // small transactions of at most `limit` instances. Returns how many were deleted.
  virtual Result<int64_t> PruneEnded(Millis ended_before, int limit) = 0;

  virtual Result<StoreStats> Stats() = 0;
};

// Concrete stores are opened by app/ only: store/sqlite/sqlite_store.h (OpenSqliteStore).

}  // namespace baton::store
