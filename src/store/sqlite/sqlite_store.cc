#include "store/sqlite/sqlite_store.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string_view>
#include <utility>
#include <vector>

#include <sqlite3.h>

#include "store/sqlite/connection.h"
#include "store/sqlite/file_lock.h"
#include "store/sqlite/migrations.h"

namespace baton::store {

namespace {

using sqlite::Connection;
using sqlite::FileLock;
using sqlite::Statement;

constexpr int kBusyTimeoutMs = 5000;
// Idle read connections kept open; more are opened while more readers run at once.
constexpr size_t kMaxIdleReaders = 4;

// --- SQL ---

// Every instances column but `snapshot`, in the order ReadInstance expects.
#define BATON_INSTANCE_COLUMNS                                                            \
  "id, namespace, name, version, status, row_version, idempotency_key, parent_id, "       \
  "parent_activity, history_length, suspended, created_at, updated_at, ended_at, input, " \
  "output, error, tasks"
constexpr int kSnapshotColumn = 18;

constexpr const char* kBegin = "BEGIN IMMEDIATE";
constexpr const char* kCommit = "COMMIT";
constexpr const char* kRollback = "ROLLBACK";

constexpr const char* kInsertInstance =
    "INSERT INTO instances (" BATON_INSTANCE_COLUMNS
    ", snapshot) VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
    "?16, ?17, ?18)";
// The identity columns (namespace, name, version, created_at, idempotency_key, parent_*) are
// fixed at insert; leaving them out keeps the indexes over them untouched.
constexpr const char* kUpdateInstance =
    "UPDATE instances SET status = ?3, row_version = row_version + 1, history_length = ?4, "
    "suspended = ?5, updated_at = ?6, ended_at = ?7, input = ?8, output = ?9, error = ?10, "
    "tasks = ?11, snapshot = ?12 WHERE id = ?1 AND row_version = ?2 AND history_length <= ?13";
constexpr const char* kInstanceVersion =
    "SELECT row_version, history_length FROM instances WHERE id = ?1";
constexpr const char* kIdByKey = "SELECT id FROM instances WHERE idempotency_key = ?1";
constexpr const char* kHistoryRowExists =
    "SELECT 1 FROM history WHERE instance_id = ?1 AND seq = ?2";
constexpr const char* kInboxRowExists = "SELECT 1 FROM inbox WHERE instance_id = ?1 AND seq = ?2";
constexpr const char* kInsertHistory =
    "INSERT INTO history (instance_id, seq, time, entries) VALUES (?1, ?2, ?3, ?4)";
constexpr const char* kUpsertTimer =
    "INSERT INTO timers (instance_id, timer_id, due_at) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (instance_id, timer_id) DO UPDATE SET due_at = excluded.due_at";
constexpr const char* kDeleteTimer = "DELETE FROM timers WHERE instance_id = ?1 AND timer_id = ?2";
constexpr const char* kUpsertWork =
    "INSERT INTO work (instance_id, activity_id, kind, created_at, payload) "
    "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (instance_id, activity_id) DO UPDATE SET "
    "kind = excluded.kind, created_at = excluded.created_at, payload = excluded.payload";
constexpr const char* kDeleteWork = "DELETE FROM work WHERE instance_id = ?1 AND activity_id = ?2";
// A transition that consumes one result and issues the next command: one statement, not two.
constexpr const char* kReplaceWork =
    "UPDATE work SET activity_id = ?3, kind = ?4, created_at = ?5, payload = ?6 "
    "WHERE instance_id = ?1 AND activity_id = ?2";
constexpr const char* kInsertInbox =
    "INSERT INTO inbox (instance_id, seq, payload) VALUES (?1, ?2, ?3)";
constexpr const char* kClearInbox = "DELETE FROM inbox WHERE instance_id = ?1";

// Integer ids are uint64 in the API and int64 in SQLite: stored bit for bit.
int64_t ToDb(uint64_t value) { return static_cast<int64_t>(value); }
uint64_t FromDb(int64_t value) { return static_cast<uint64_t>(value); }

InstanceRow ReadInstance(const Statement& stmt, bool with_snapshot) {
  InstanceRow row;
  row.id = stmt.ColumnText(0);
  row.namespace_ = stmt.ColumnText(1);
  row.name = stmt.ColumnText(2);
  row.version = stmt.ColumnText(3);
  row.status = stmt.ColumnText(4);
  row.row_version = stmt.ColumnInt(5);
  row.idempotency_key = stmt.ColumnText(6);
  row.parent_id = stmt.ColumnText(7);
  row.parent_activity = FromDb(stmt.ColumnInt(8));
  row.history_length = stmt.ColumnInt(9);
  row.suspended = stmt.ColumnInt(10) != 0;
  row.created_at = stmt.ColumnInt(11);
  row.updated_at = stmt.ColumnInt(12);
  row.ended_at = stmt.ColumnInt(13);
  row.input_json = stmt.ColumnText(14);
  row.output_json = stmt.ColumnText(15);
  row.error_json = stmt.ColumnText(16);
  row.tasks_json = stmt.ColumnText(17);
  if (with_snapshot) row.snapshot = stmt.ColumnBlob(kSnapshotColumn);
  return row;
}

// --- the list cursor: base64url("1:<created_at>:<id>") ---

constexpr char kBase64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string Base64UrlEncode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : in) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kBase64Url[(buffer >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kBase64Url[(buffer << (6 - bits)) & 0x3f]);
  return out;
}

bool Base64UrlDecode(std::string_view in, std::string* out) {
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : in) {
    int value = -1;
    if (c >= 'A' && c <= 'Z') value = c - 'A';
    if (c >= 'a' && c <= 'z') value = c - 'a' + 26;
    if (c >= '0' && c <= '9') value = c - '0' + 52;
    if (c == '-') value = 62;
    if (c == '_') value = 63;
    if (value < 0) return false;
    buffer = (buffer << 6) | static_cast<uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  // Leftover bits are padding: fewer than 6, and zero in a cursor we wrote.
  return bits < 6 && (buffer & ((1u << bits) - 1)) == 0;
}

std::string EncodeCursor(Millis created_at, const std::string& id) {
  return Base64UrlEncode("1:" + std::to_string(created_at) + ":" + id);
}

bool DecodeCursor(const std::string& cursor, Millis* created_at, std::string* id) {
  std::string text;
  if (!Base64UrlDecode(cursor, &text)) return false;
  if (text.rfind("1:", 0) != 0) return false;
  size_t colon = text.find(':', 2);
  if (colon == std::string::npos || colon + 1 >= text.size()) return false;
  const char* begin = text.data() + 2;
  const char* end = text.data() + colon;
  auto [parsed_end, ec] = std::from_chars(begin, end, *created_at);
  if (ec != std::errc() || parsed_end != end) return false;
  *id = text.substr(colon + 1);
  return true;
}

Status CheckLimit(int limit) {
  if (limit <= 0) {
    return Status::InvalidArgument("limit must be positive, got " + std::to_string(limit));
  }
  return Status::Ok();
}

// A per-write rejection (reported in WriteResult) rather than a failure of the batch.
bool IsRejection(StatusCode code) {
  return code == StatusCode::kConflict || code == StatusCode::kAlreadyExists ||
         code == StatusCode::kNotFound || code == StatusCode::kInvalidArgument;
}

Status ValidateWrite(const InstanceWrite& write) {
  const std::string& id = write.row.id;
  if (id.empty()) return Status::InvalidArgument("instance write without an instance id");
  if (write.expected_version < 0) {
    return Status::InvalidArgument("instance " + id + ": negative expected_version");
  }
  // Integer ids are counters: SQLite keeps them as int64, so the top bit is refused.
  constexpr uint64_t kMaxId = static_cast<uint64_t>(INT64_MAX);
  bool too_big = write.row.parent_activity > kMaxId;
  for (const TimerRow& t : write.add_timers) too_big = too_big || t.timer_id > kMaxId;
  for (const WorkRow& w : write.add_work) too_big = too_big || w.activity_id > kMaxId;
  if (too_big) return Status::InvalidArgument("instance " + id + ": an id is 2^63 or more");
  auto foreign = [&](const std::string& child_id) { return !child_id.empty() && child_id != id; };
  for (const HistoryRow& h : write.history) {
    if (foreign(h.instance_id)) {
      return Status::InvalidArgument("instance " + id + ": history row of " + h.instance_id);
    }
    // Every stored history row is below its instance's history_length: an update then
    // knows its rows are free from the row alone (see kUpdateInstance).
    if (h.seq < 0 || h.seq >= write.row.history_length) {
      return Status::InvalidArgument(
          "instance " + id + ": history row " + std::to_string(h.seq) + " is outside 0.." +
          std::to_string(write.row.history_length - 1) + " (the row's history_length)");
    }
  }
  for (const TimerRow& t : write.add_timers) {
    if (foreign(t.instance_id)) {
      return Status::InvalidArgument("instance " + id + ": timer of " + t.instance_id);
    }
  }
  for (const WorkRow& w : write.add_work) {
    if (foreign(w.instance_id)) {
      return Status::InvalidArgument("instance " + id + ": work row of " + w.instance_id);
    }
  }
  for (const InboxRow& e : write.add_inbox) {
    if (foreign(e.instance_id)) {
      return Status::InvalidArgument("instance " + id + ": inbox row of " + e.instance_id);
    }
  }
  // Distinct seqs within the write: checked here so that inserting them cannot fail later.
  auto distinct = [](std::vector<int64_t> seqs) {
    std::sort(seqs.begin(), seqs.end());
    return std::adjacent_find(seqs.begin(), seqs.end()) == seqs.end();
  };
  if (write.history.size() > 1) {
    std::vector<int64_t> seqs;
    for (const HistoryRow& h : write.history) seqs.push_back(h.seq);
    if (!distinct(std::move(seqs))) {
      return Status::InvalidArgument("instance " + id + ": two history rows with one seq");
    }
  }
  if (write.add_inbox.size() > 1) {
    std::vector<int64_t> seqs;
    for (const InboxRow& e : write.add_inbox) seqs.push_back(e.seq);
    if (!distinct(std::move(seqs))) {
      return Status::InvalidArgument("instance " + id + ": two inbox rows with one seq");
    }
  }
  return Status::Ok();
}

Status ConfigureConnection(Connection& db, bool writer) {
  if (sqlite3_busy_timeout(db.db(), kBusyTimeoutMs) != SQLITE_OK) {
    return Status::Internal("cannot set the SQLite busy timeout");
  }
  // synchronous=FULL: in WAL mode, every commit fsyncs the WAL before it returns.
  BATON_RETURN_IF_ERROR(db.Exec("PRAGMA synchronous = FULL"));
  BATON_RETURN_IF_ERROR(db.Exec("PRAGMA temp_store = MEMORY"));
  BATON_RETURN_IF_ERROR(db.Exec("PRAGMA foreign_keys = OFF"));
  if (writer) {
    BATON_RETURN_IF_ERROR(db.Exec("PRAGMA cache_size = -32768"));  // KiB
    // After a checkpoint, truncate a WAL that grew past 64 MiB back to that size.
    BATON_RETURN_IF_ERROR(db.Exec("PRAGMA journal_size_limit = 67108864"));
  } else {
    BATON_RETURN_IF_ERROR(db.Exec("PRAGMA cache_size = -8192"));
    BATON_RETURN_IF_ERROR(db.Exec("PRAGMA query_only = ON"));
  }
  return Status::Ok();
}

class SqliteStore final : public Store {
 public:
  SqliteStore(std::string path, std::unique_ptr<FileLock> lock, std::unique_ptr<Connection> writer)
      : lock_(std::move(lock)), path_(std::move(path)), writer_(std::move(writer)) {}

  ~SqliteStore() override {
    // Readers first: the last connection to close checkpoints the WAL into the database.
    idle_readers_.clear();
    // Refreshes the planner's statistics where they are stale; analysis_limit bounds the work
    // on large tables.
    if (writer_ != nullptr) (void)writer_->Exec("PRAGMA analysis_limit = 1000; PRAGMA optimize");
    writer_.reset();
  }

  Result<PutOutcome> PutDefinition(const Definition& def) override;
  Result<std::optional<Definition>> GetDefinition(const std::string& namespace_,
                                                  const std::string& name,
                                                  const std::string& version) override;
  Result<std::vector<Definition>> ListDefinitions() override;
  Status CommitTransitions(const std::vector<InstanceWrite>& writes,
                           std::vector<WriteResult>* results) override;
  Result<std::optional<InstanceRow>> GetInstance(const std::string& id) override;
  Result<std::optional<std::string>> FindByIdempotencyKey(const std::string& key) override;
  Result<InstancePage> ListInstances(const InstanceFilter& filter) override;
  Result<std::vector<HistoryRow>> GetHistory(const std::string& instance_id, int64_t from_seq,
                                             int limit) override;
  Result<std::vector<InboxRow>> GetInbox(const std::string& instance_id) override;
  Result<std::vector<TimerRow>> TimersDueBefore(Millis before, int limit) override;
  Result<std::vector<WorkRow>> ListWork(const std::string& after_instance, uint64_t after_activity,
                                        int limit) override;
  Result<std::vector<std::string>> ListStalledInstances(int limit) override;
  Result<int64_t> PruneEnded(Millis ended_before, int limit) override;
  Result<StoreStats> Stats() override;

  // Opens one read connection now, so that a broken setup fails at open.
  Status WarmUpReaders() {
    BATON_ASSIGN_OR_RETURN(ReaderLease reader, Reader());
    return Status::Ok();
  }

 private:
  // A read connection lent to one caller; given back to the pool when destroyed.
  class ReaderLease {
   public:
    ReaderLease(SqliteStore* store, std::unique_ptr<Connection> connection)
        : store_(store), connection_(std::move(connection)) {}
    ReaderLease(ReaderLease&& other) noexcept = default;
    ReaderLease& operator=(ReaderLease&&) = delete;
    ~ReaderLease() {
      if (connection_ != nullptr) store_->ReturnReader(std::move(connection_));
    }
    Connection* operator->() { return connection_.get(); }

   private:
    SqliteStore* store_;
    std::unique_ptr<Connection> connection_;
  };

  Result<ReaderLease> Reader();
  void ReturnReader(std::unique_ptr<Connection> connection);

  // The helpers below REQUIRE writer_mutex_ held.
  // Applies one write of a batch. A rejection goes to `result`; the returned Status is a
  // failure of the whole batch.
  Status ApplyWrite(const InstanceWrite& write, WriteResult* result);
  // Checks and writes the instance row and its children; returns the new row_version. A
  // rejection has a code for which IsRejection() holds, and then nothing was written.
  Result<int64_t> WriteInstance(const InstanceWrite& write);
  // A rejection when a history or inbox row of `write` is taken, else OK.
  Status CheckChildRowsFree(const InstanceWrite& write);
  // Why `write` cannot apply, once it is known that it cannot: a rejection when its
  // instance's state explains it, else `otherwise` (or the error met while looking).
  Status Explain(const InstanceWrite& write, Status otherwise);
  // Writes the children of `write`. Any error fails the batch (the row is written by then).
  Status WriteChildren(const InstanceWrite& write);
  Status CommitWriter();
  void RollbackWriter();

  // Declared first, destroyed last: the lock outlives every connection.
  const std::unique_ptr<FileLock> lock_;
  const std::string path_;

  std::mutex writer_mutex_;
  std::unique_ptr<Connection> writer_;  // guarded by writer_mutex_

  std::mutex readers_mutex_;
  std::vector<std::unique_ptr<Connection>> idle_readers_;  // guarded by readers_mutex_
};

// --- connections ---

Result<SqliteStore::ReaderLease> SqliteStore::Reader() {
  {
    std::lock_guard<std::mutex> lock(readers_mutex_);
    if (!idle_readers_.empty()) {
      std::unique_ptr<Connection> connection = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return ReaderLease(this, std::move(connection));
    }
  }
  BATON_ASSIGN_OR_RETURN(std::unique_ptr<Connection> connection,
                         Connection::Open(path_, SQLITE_OPEN_READWRITE));
  BATON_RETURN_IF_ERROR(ConfigureConnection(*connection, /*writer=*/false));
  return ReaderLease(this, std::move(connection));
}

void SqliteStore::ReturnReader(std::unique_ptr<Connection> connection) {
  std::lock_guard<std::mutex> lock(readers_mutex_);
  if (idle_readers_.size() < kMaxIdleReaders) idle_readers_.push_back(std::move(connection));
}

// --- definitions ---

Result<PutOutcome> SqliteStore::PutDefinition(const Definition& def) {
  if (def.namespace_.empty() || def.name.empty() || def.version.empty()) {
    return Status::InvalidArgument("a definition needs a namespace, a name and a version");
  }
  const std::string hash = Sha256Hex(def.content);
  std::lock_guard<std::mutex> lock(writer_mutex_);
  {
    BATON_ASSIGN_OR_RETURN(
        Statement insert,
        writer_->Prepare("INSERT INTO definitions (namespace, name, version, content_hash, "
                         "created_at, content) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
                         "ON CONFLICT (namespace, name, version) DO NOTHING"));
    insert.BindText(1, def.namespace_);
    insert.BindText(2, def.name);
    insert.BindText(3, def.version);
    insert.BindText(4, hash);
    insert.BindInt(5, def.created_at);
    insert.BindText(6, def.content);
    BATON_RETURN_IF_ERROR(insert.Run());
  }
  if (writer_->Changes() == 1) return PutOutcome::kCreated;
  BATON_ASSIGN_OR_RETURN(
      Statement existing,
      writer_->Prepare("SELECT content_hash FROM definitions WHERE namespace = ?1 AND "
                       "name = ?2 AND version = ?3"));
  existing.BindText(1, def.namespace_);
  existing.BindText(2, def.name);
  existing.BindText(3, def.version);
  BATON_ASSIGN_OR_RETURN(bool found, existing.Step());
  if (!found) {
    return Status::Internal("definition " + def.namespace_ + "/" + def.name + ":" + def.version +
                            " neither inserted nor found");
  }
  return existing.ColumnText(0) == hash ? PutOutcome::kUnchanged : PutOutcome::kConflict;
}

Definition ReadDefinition(const Statement& stmt) {
  Definition def;
  def.namespace_ = stmt.ColumnText(0);
  def.name = stmt.ColumnText(1);
  def.version = stmt.ColumnText(2);
  def.content_hash = stmt.ColumnText(3);
  def.created_at = stmt.ColumnInt(4);
  def.content = stmt.ColumnText(5);
  return def;
}

Result<std::optional<Definition>> SqliteStore::GetDefinition(const std::string& namespace_,
                                                             const std::string& name,
                                                             const std::string& version) {
  BATON_ASSIGN_OR_RETURN(ReaderLease reader, Reader());
  BATON_ASSIGN_OR_RETURN(
      Statement stmt,
      reader->Prepare(version.empty()
                          ? "SELECT namespace, name, version, content_hash, created_at, content "
                            "FROM definitions WHERE namespace = ?1 AND name = ?2 "
                            "ORDER BY created_at DESC, version DESC LIMIT 1"
                          : "SELECT namespace, name, version, content_hash, created_at, content "
                            "FROM definitions WHERE namespace = ?1 AND name = ?2 AND "
                            "version = ?3"));
  stmt.BindText(1, namespace_);
  stmt.BindText(2, name);
  if (!version.empty()) stmt.BindText(3, version);
  BATON_ASSIGN_OR_RETURN(bool found, stmt.Step());
  if (!found) return std::optional<Definition>();
  return std::optional<Definition>(ReadDefinition(stmt));
}

Result<std::vector<Definition>> SqliteStore::ListDefinitions() {
  BATON_ASSIGN_OR_RETURN(ReaderLease reader, Reader());
  BATON_ASSIGN_OR_RETURN(
      Statement stmt,
      reader->Prepare("SELECT namespace, name, version, content_hash, created_at, content "
                      "FROM definitions ORDER BY created_at, namespace, name, version"));
  std::vector<Definition> out;
  while (true) {
    BATON_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.push_back(ReadDefinition(stmt));
  }
  return out;
}

// --- the write path ---

Status SqliteStore::CommitTransitions(const std::vector<InstanceWrite>& writes,
                                      std::vector<WriteResult>* results) {
  results->assign(writes.size(), WriteResult{});
  if (writes.empty()) return Status::Ok();
  std::lock_guard<std::mutex> lock(writer_mutex_);
  BATON_RETURN_IF_ERROR(writer_->Run(kBegin));
  for (size_t write_idx = 0; write_idx < writes.size(); ++write_idx) {
    Status failed = ApplyWrite(writes[write_idx], &(*results)[write_idx]);
    if (!failed.ok()) {
      RollbackWriter();
      results->assign(writes.size(), WriteResult{failed, 0});
      return failed;
    }
  }
  Status committed = CommitWriter();
  if (!committed.ok()) results->assign(writes.size(), WriteResult{committed, 0});
  return committed;
}

// Per-write atomicity without a SAVEPOINT per write (which costs about a third of the
// batch's CPU time): every check that can reject a write runs before its first row is
// written, and the first statement (the instance INSERT or the conditional UPDATE) is atomic
// on its own. After that only I/O errors remain, and they abort the whole transaction.
Status SqliteStore::ApplyWrite(const InstanceWrite& write, WriteResult* result) {
  Result<int64_t> written = WriteInstance(write);
  if (written.ok()) {
    result->row_version = *written;
    return Status::Ok();
  }
  if (!IsRejection(written.status().code())) return written.status();
  result->status = written.status();
  return Status::Ok();
}

Result<int64_t> SqliteStore::WriteInstance(const InstanceWrite& write) {
  BATON_RETURN_IF_ERROR(ValidateWrite(write));
  BATON_RETURN_IF_ERROR(CheckChildRowsFree(write));
  const InstanceRow& row = write.row;
  int64_t new_version = 0;
  if (write.expected_version == 0) {
    BATON_ASSIGN_OR_RETURN(Statement insert, writer_->Prepare(kInsertInstance));
    insert.BindText(1, row.id);
    insert.BindText(2, row.namespace_);
    insert.BindText(3, row.name);
    insert.BindText(4, row.version);
    insert.BindText(5, row.status);
    insert.BindTextOrNull(6, row.idempotency_key);
    insert.BindText(7, row.parent_id);
    insert.BindInt(8, ToDb(row.parent_activity));
    insert.BindInt(9, row.history_length);
    insert.BindInt(10, row.suspended ? 1 : 0);
    insert.BindInt(11, row.created_at);
    insert.BindInt(12, row.updated_at);
    insert.BindInt(13, row.ended_at);
    insert.BindText(14, row.input_json);
    insert.BindText(15, row.output_json);
    insert.BindText(16, row.error_json);
    insert.BindText(17, row.tasks_json);
    insert.BindBlob(18, row.snapshot);
    Status inserted = insert.Run();
    if (inserted.code() == StatusCode::kAlreadyExists) {
      // The id or the idempotency key is taken: say which.
      return Explain(write,
                     Status::Internal("inserting instance " + row.id + ": " + inserted.message()));
    }
    BATON_RETURN_IF_ERROR(inserted);
    new_version = 1;
  } else {
    BATON_ASSIGN_OR_RETURN(Statement update, writer_->Prepare(kUpdateInstance));
    update.BindText(1, row.id);
    update.BindInt(2, write.expected_version);
    update.BindText(3, row.status);
    update.BindInt(4, row.history_length);
    update.BindInt(5, row.suspended ? 1 : 0);
    update.BindInt(6, row.updated_at);
    update.BindInt(7, row.ended_at);
    update.BindText(8, row.input_json);
    update.BindText(9, row.output_json);
    update.BindText(10, row.error_json);
    update.BindText(11, row.tasks_json);
    update.BindBlob(12, row.snapshot);
    // The stored history_length must not pass the first new row: then none of them exists.
    int64_t first_seq = INT64_MAX;
    for (const HistoryRow& h : write.history) first_seq = std::min(first_seq, h.seq);
    update.BindInt(13, first_seq);
    BATON_RETURN_IF_ERROR(update.Run());
    if (writer_->Changes() == 0) {
      return Explain(write, Status::Internal("updating instance " + row.id + " changed no row"));
    }
    new_version = write.expected_version + 1;
  }
  Status children = WriteChildren(write);
  if (!children.ok() && IsRejection(children.code())) {
    // CheckChildRowsFree makes this unreachable; the row is written, so it fails the batch.
    return Status::Internal("instance " + row.id + ": " + children.message());
  }
  BATON_RETURN_IF_ERROR(children);
  return new_version;
}

Status SqliteStore::CheckChildRowsFree(const InstanceWrite& write) {
  const std::string& id = write.row.id;
  auto taken = [&](const char* sql, int64_t seq) -> Result<bool> {
    BATON_ASSIGN_OR_RETURN(Statement stmt, writer_->Prepare(sql));
    stmt.BindText(1, id);
    stmt.BindInt(2, seq);
    return stmt.Step();
  };
  // An update's history rows are checked by its UPDATE (kUpdateInstance); a new instance
  // has no rows unless its id is taken, which is one probe per instance, not per transition.
  const bool inserting = write.expected_version == 0;
  for (size_t i = 0; inserting && i < write.history.size(); ++i) {
    BATON_ASSIGN_OR_RETURN(bool exists, taken(kHistoryRowExists, write.history[i].seq));
    if (exists) {
      return Explain(write,
                     Status::Conflict("instance " + id + ": history row " +
                                      std::to_string(write.history[i].seq) + " already exists"));
    }
  }
  if (!write.clear_inbox) {  // else the inbox is emptied before the rows are added
    for (const InboxRow& e : write.add_inbox) {
      BATON_ASSIGN_OR_RETURN(bool exists, taken(kInboxRowExists, e.seq));
      if (exists) {
        return Explain(write, Status::Conflict("instance " + id + ": inbox row " +
                                               std::to_string(e.seq) + " already exists"));
      }
    }
  }
  return Status::Ok();
}

Status SqliteStore::Explain(const InstanceWrite& write, Status otherwise) {
  const InstanceRow& row = write.row;
  BATON_ASSIGN_OR_RETURN(Statement current, writer_->Prepare(kInstanceVersion));
  current.BindText(1, row.id);
  BATON_ASSIGN_OR_RETURN(bool exists, current.Step());
  if (write.expected_version == 0) {
    if (exists) return Status::AlreadyExists("instance " + row.id + " already exists");
    if (!row.idempotency_key.empty()) {
      BATON_ASSIGN_OR_RETURN(Statement by_key, writer_->Prepare(kIdByKey));
      by_key.BindText(1, row.idempotency_key);
      BATON_ASSIGN_OR_RETURN(bool key_taken, by_key.Step());
      if (key_taken) {
        return Status::AlreadyExists("idempotency key '" + row.idempotency_key +
                                     "' is already used by instance " + by_key.ColumnText(0));
      }
    }
  } else {
    if (!exists) return Status::NotFound("instance " + row.id + " not found");
    if (current.ColumnInt(0) != write.expected_version) {
      return Status::Conflict("instance " + row.id + " is at version " +
                              std::to_string(current.ColumnInt(0)) + ", not " +
                              std::to_string(write.expected_version));
    }
    const int64_t stored_length = current.ColumnInt(1);
    for (const HistoryRow& h : write.history) {
      if (h.seq < stored_length) {
        return Status::Conflict("instance " + row.id + ": history row " + std::to_string(h.seq) +
                                " already exists");
      }
    }
  }
  return otherwise;
}

Status SqliteStore::WriteChildren(const InstanceWrite& write) {
  const std::string& id = write.row.id;
  // Removals first, so that a write may remove and re-add the same timer or work row.
  if (!write.remove_timers.empty()) {
    BATON_ASSIGN_OR_RETURN(Statement stmt, writer_->Prepare(kDeleteTimer));
    for (uint64_t timer_id : write.remove_timers) {
      stmt.Reset();
      stmt.BindText(1, id);
      stmt.BindInt(2, ToDb(timer_id));
      BATON_RETURN_IF_ERROR(stmt.Run());
    }
  }
  // A removal paired with an addition moves the row (the common step of a sequence); a
  // pair that cannot (nothing to move, or the new id is taken) falls back to the two
  // statements below.
  size_t moved = 0;
  if (write.remove_work.size() == 1 && write.add_work.size() == 1 &&
      write.remove_work[0] != write.add_work[0].activity_id) {
    const WorkRow& w = write.add_work[0];
    BATON_ASSIGN_OR_RETURN(Statement stmt, writer_->Prepare(kReplaceWork));
    stmt.BindText(1, id);
    stmt.BindInt(2, ToDb(write.remove_work[0]));
    stmt.BindInt(3, ToDb(w.activity_id));
    stmt.BindText(4, w.kind);
    stmt.BindInt(5, w.created_at);
    stmt.BindBlob(6, w.payload);
    Status replaced = stmt.Run();
    if (replaced.ok() && writer_->Changes() == 1) {
      moved = 1;
    } else if (!replaced.ok() && replaced.code() != StatusCode::kAlreadyExists) {
      return replaced;
    }
  }
  if (moved == 0 && !write.remove_work.empty()) {
    BATON_ASSIGN_OR_RETURN(Statement stmt, writer_->Prepare(kDeleteWork));
    for (uint64_t activity_id : write.remove_work) {
      stmt.Reset();
      stmt.BindText(1, id);
      stmt.BindInt(2, ToDb(activity_id));
      BATON_RETURN_IF_ERROR(stmt.Run());
    }
  }
  if (write.clear_inbox) {
    BATON_ASSIGN_OR_RETURN(Statement stmt, writer_->Prepare(kClearInbox));
    stmt.BindText(1, id);
    BATON_RETURN_IF_ERROR(stmt.Run());
  }
  if (!write.history.empty()) {
    BATON_ASSIGN_OR_RETURN(Statement stmt, writer_->Prepare(kInsertHistory));
    for (const HistoryRow& h : write.history) {
      stmt.Reset();
      stmt.BindText(1, id);
      stmt.BindInt(2, h.seq);
      stmt.BindInt(3, h.time);
      stmt.BindText(4, h.entries);
      BATON_RETURN_IF_ERROR(stmt.Run());
    }
  }
  if (!write.add_timers.empty()) {
    BATON_ASSIGN_OR_RETURN(Statement stmt, writer_->Prepare(kUpsertTimer));
    for (const TimerRow& t : write.add_timers) {
      stmt.Reset();
      stmt.BindText(1, id);
      stmt.BindInt(2, ToDb(t.timer_id));
      stmt.BindInt(3, t.due_at);
      BATON_RETURN_IF_ERROR(stmt.Run());
    }
  }
  if (moved == 0 && !write.add_work.empty()) {
    BATON_ASSIGN_OR_RETURN(Statement stmt, writer_->Prepare(kUpsertWork));
    for (const WorkRow& w : write.add_work) {
      stmt.Reset();
      stmt.BindText(1, id);
      stmt.BindInt(2, ToDb(w.activity_id));
      stmt.BindText(3, w.kind);
      stmt.BindInt(4, w.created_at);
      stmt.BindBlob(5, w.payload);
      BATON_RETURN_IF_ERROR(stmt.Run());
    }
  }
  if (!write.add_inbox.empty()) {
    BATON_ASSIGN_OR_RETURN(Statement stmt, writer_->Prepare(kInsertInbox));
    for (const InboxRow& e : write.add_inbox) {
      stmt.Reset();
      stmt.BindText(1, id);
      stmt.BindInt(2, e.seq);
      stmt.BindBlob(3, e.payload);
      BATON_RETURN_IF_ERROR(stmt.Run());
    }
  }
  return Status::Ok();
}

Status SqliteStore::CommitWriter() {
  Status failed;
  int rc = SQLITE_OK;
  {
    BATON_ASSIGN_OR_RETURN(Statement commit, writer_->Prepare(kCommit));
    Result<bool> stepped = commit.Step();
    if (stepped.ok()) return Status::Ok();
    failed = stepped.status();
    rc = commit.last_rc();
  }  // the COMMIT statement is reset before the ROLLBACK
  RollbackWriter();
  if (sqlite::IsIoError(rc)) {
    // The WAL frames may have reached the disk before the failure: after a restart the
    // transaction may turn out committed.
    return Status(StatusCode::kCommitUnknown,
                  "committing to '" + path_ + "' failed (" + failed.message() +
                      "); the batch may or may not be durable: re-read before retrying");
  }
  return failed;
}

void SqliteStore::RollbackWriter() {
  // SQLite rolls back by itself after some errors (SQLITE_FULL, IOERR, NOMEM): then there is
  // no transaction left to end.
  if (!writer_->InAutocommit()) (void)writer_->Run(kRollback);
}

// --- instance reads ---

Result<std::optional<InstanceRow>> SqliteStore::GetInstance(const std::string& id) {
  BATON_ASSIGN_OR_RETURN(ReaderLease reader, Reader());
  BATON_ASSIGN_OR_RETURN(
      Statement stmt,
      reader->Prepare("SELECT " BATON_INSTANCE_COLUMNS ", snapshot FROM instances WHERE id = ?1"));
  stmt.BindText(1, id);
  BATON_ASSIGN_OR_RETURN(bool found, stmt.Step());
  if (!found) return std::optional<InstanceRow>();
  return std::optional<InstanceRow>(ReadInstance(stmt, /*with_snapshot=*/true));
}

Result<std::optional<std::string>> SqliteStore::FindByIdempotencyKey(const std::string& key) {
  if (key.empty()) return std::optional<std::string>();
  BATON_ASSIGN_OR_RETURN(ReaderLease reader, Reader());
  BATON_ASSIGN_OR_RETURN(Statement stmt, reader->Prepare(kIdByKey));
  stmt.BindText(1, key);
  BATON_ASSIGN_OR_RETURN(bool found, stmt.Step());
  if (!found) return std::optional<std::string>();
  return std::optional<std::string>(stmt.ColumnText(0));
}

Result<InstancePage> SqliteStore::ListInstances(const InstanceFilter& filter) {
  BATON_RETURN_IF_ERROR(CheckLimit(filter.limit));
  Millis cursor_created_at = 0;
  std::string cursor_id;
  if (!filter.cursor.empty() && !DecodeCursor(filter.cursor, &cursor_created_at, &cursor_id)) {
    return Status::InvalidArgument("invalid cursor '" + filter.cursor + "'");
  }
  // The text depends only on which filters are set, so at most a few dozen variants end up
  // in the statement cache.
  struct Param {
    const std::string* text = nullptr;
    int64_t number = 0;
  };
  std::vector<Param> params;
  std::string sql = "SELECT " BATON_INSTANCE_COLUMNS " FROM instances WHERE 1";
  auto text_filter = [&](const char* column, const std::string& value) {
    if (value.empty()) return;
    params.push_back({&value, 0});
    sql += std::string(" AND ") + column + " = ?" + std::to_string(params.size());
  };
  text_filter("status", filter.status);
  if (!filter.statuses.empty()) {
    sql += " AND status IN (";
    for (size_t i = 0; i < filter.statuses.size(); ++i) {
      params.push_back({&filter.statuses[i], 0});
      sql += (i ? ", ?" : "?") + std::to_string(params.size());
    }
    sql += ")";
  }
  text_filter("namespace", filter.namespace_);
  text_filter("name", filter.name);
  text_filter("version", filter.version);
  if (filter.since != 0) {
    params.push_back({nullptr, filter.since});
    sql += " AND created_at >= ?" + std::to_string(params.size());
  }
  if (filter.until != 0) {
    params.push_back({nullptr, filter.until});
    sql += " AND created_at < ?" + std::to_string(params.size());
  }
  if (!filter.cursor.empty()) {
    params.push_back({nullptr, cursor_created_at});
    params.push_back({&cursor_id, 0});
    sql += " AND (created_at, id) < (?" + std::to_string(params.size() - 1) + ", ?" +
           std::to_string(params.size()) + ")";
  }
  params.push_back({nullptr, static_cast<int64_t>(filter.limit) + 1});
  sql += " ORDER BY created_at DESC, id DESC LIMIT ?" + std::to_string(params.size());

  BATON_ASSIGN_OR_RETURN(ReaderLease reader, Reader());
  BATON_ASSIGN_OR_RETURN(Statement stmt, reader->Prepare(sql));
  for (size_t param_idx = 0; param_idx < params.size(); ++param_idx) {
    const int index = static_cast<int>(param_idx) + 1;
    if (params[param_idx].text != nullptr) {
      stmt.BindText(index, *params[param_idx].text);
    } else {
      stmt.BindInt(index, params[param_idx].number);
    }
  }
  InstancePage page;
  while (true) {
    BATON_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    if (page.rows.size() == static_cast<size_t>(filter.limit)) {
      // One row beyond the page: there is a next page.
      const InstanceRow& last = page.rows.back();
      page.next_cursor = EncodeCursor(last.created_at, last.id);
      break;
    }
    page.rows.push_back(ReadInstance(stmt, /*with_snapshot=*/false));
  }
  return page;
}

Result<std::vector<HistoryRow>> SqliteStore::GetHistory(const std::string& instance_id,
                                                        int64_t from_seq, int limit) {
  BATON_RETURN_IF_ERROR(CheckLimit(limit));
  BATON_ASSIGN_OR_RETURN(ReaderLease reader, Reader());
  BATON_ASSIGN_OR_RETURN(Statement stmt,
                         reader->Prepare("SELECT seq, time, entries FROM history WHERE "
                                         "instance_id = ?1 AND seq >= ?2 ORDER BY seq LIMIT ?3"));
  stmt.BindText(1, instance_id);
  stmt.BindInt(2, from_seq);
  stmt.BindInt(3, limit);
  std::vector<HistoryRow> out;
  while (true) {
    BATON_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.push_back({instance_id, stmt.ColumnInt(0), stmt.ColumnInt(1), stmt.ColumnText(2)});
  }
  return out;
}

Result<std::vector<InboxRow>> SqliteStore::GetInbox(const std::string& instance_id) {
  BATON_ASSIGN_OR_RETURN(ReaderLease reader, Reader());
  BATON_ASSIGN_OR_RETURN(
      Statement stmt,
      reader->Prepare("SELECT seq, payload FROM inbox WHERE instance_id = ?1 ORDER BY seq"));
  stmt.BindText(1, instance_id);
  std::vector<InboxRow> out;
  while (true) {
    BATON_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.push_back({instance_id, stmt.ColumnInt(0), stmt.ColumnBlob(1)});
  }
  return out;
}

// --- recovery and scheduling ---

Result<std::vector<TimerRow>> SqliteStore::TimersDueBefore(Millis before, int limit) {
  BATON_RETURN_IF_ERROR(CheckLimit(limit));
  BATON_ASSIGN_OR_RETURN(ReaderLease reader, Reader());
  BATON_ASSIGN_OR_RETURN(
      Statement stmt,
      reader->Prepare("SELECT instance_id, timer_id, due_at FROM timers WHERE due_at < ?1 "
                      "ORDER BY due_at, instance_id, timer_id LIMIT ?2"));
  stmt.BindInt(1, before);
  stmt.BindInt(2, limit);
  std::vector<TimerRow> out;
  while (true) {
    BATON_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.push_back({stmt.ColumnText(0), FromDb(stmt.ColumnInt(1)), stmt.ColumnInt(2)});
  }
  return out;
}

Result<std::vector<WorkRow>> SqliteStore::ListWork(const std::string& after_instance,
                                                   uint64_t after_activity, int limit) {
  BATON_RETURN_IF_ERROR(CheckLimit(limit));
  BATON_ASSIGN_OR_RETURN(ReaderLease reader, Reader());
  BATON_ASSIGN_OR_RETURN(
      Statement stmt,
      reader->Prepare("SELECT instance_id, activity_id, kind, payload, created_at FROM work "
                      "WHERE (instance_id, activity_id) > (?1, ?2) "
                      "ORDER BY instance_id, activity_id LIMIT ?3"));
  stmt.BindText(1, after_instance);
  // Stored ids are below 2^63 (ValidateWrite), so "after 2^63 or more" means "after all".
  stmt.BindInt(
      2, after_activity > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : ToDb(after_activity));
  stmt.BindInt(3, limit);
  std::vector<WorkRow> out;
  while (true) {
    BATON_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.push_back({stmt.ColumnText(0), FromDb(stmt.ColumnInt(1)), stmt.ColumnText(2),
                   stmt.ColumnBlob(3), stmt.ColumnInt(4)});
  }
  return out;
}

Result<std::vector<std::string>> SqliteStore::ListStalledInstances(int limit) {
  BATON_RETURN_IF_ERROR(CheckLimit(limit));
  BATON_ASSIGN_OR_RETURN(ReaderLease reader, Reader());
  BATON_ASSIGN_OR_RETURN(
      Statement stmt,
      reader->Prepare(
          "SELECT id FROM instances WHERE ended_at = 0 AND suspended = 0 "
          "AND NOT EXISTS (SELECT 1 FROM timers WHERE timers.instance_id = instances.id) "
          "AND NOT EXISTS (SELECT 1 FROM work WHERE work.instance_id = instances.id) "
          "ORDER BY ended_at, rowid LIMIT ?1"));
  stmt.BindInt(1, limit);
  std::vector<std::string> out;
  while (true) {
    BATON_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.push_back(stmt.ColumnText(0));
  }
  return out;
}

// --- retention ---

Result<int64_t> SqliteStore::PruneEnded(Millis ended_before, int limit) {
  BATON_RETURN_IF_ERROR(CheckLimit(limit));
  int64_t total = 0;
  while (true) {
    // One batch per transaction, and the writer lock is released between batches, so that
    // commits are never held up for long.
    std::lock_guard<std::mutex> lock(writer_mutex_);
    BATON_RETURN_IF_ERROR(writer_->Run(kBegin));
    std::vector<std::pair<int64_t, std::string>> victims;
    Status batch = [&]() -> Status {
      {
        BATON_ASSIGN_OR_RETURN(
            Statement select,
            writer_->Prepare("SELECT rowid, id FROM instances WHERE ended_at > 0 AND "
                             "ended_at < ?1 AND status NOT IN ('faulted', "
                             "'compensation_failed') LIMIT ?2"));
        select.BindInt(1, ended_before);
        select.BindInt(2, limit);
        while (true) {
          BATON_ASSIGN_OR_RETURN(bool row, select.Step());
          if (!row) break;
          victims.emplace_back(select.ColumnInt(0), select.ColumnText(1));
        }
      }
      for (const char* sql :
           {"DELETE FROM history WHERE instance_id = ?1",
            "DELETE FROM timers WHERE instance_id = ?1", "DELETE FROM work WHERE instance_id = ?1",
            "DELETE FROM inbox WHERE instance_id = ?1"}) {
        BATON_ASSIGN_OR_RETURN(Statement stmt, writer_->Prepare(sql));
        for (const auto& victim : victims) {
          stmt.Reset();
          stmt.BindText(1, victim.second);
          BATON_RETURN_IF_ERROR(stmt.Run());
        }
      }
      BATON_ASSIGN_OR_RETURN(Statement remove,
                             writer_->Prepare("DELETE FROM instances WHERE rowid = ?1"));
      for (const auto& victim : victims) {
        remove.Reset();
        remove.BindInt(1, victim.first);
        BATON_RETURN_IF_ERROR(remove.Run());
      }
      return Status::Ok();
    }();
    if (!batch.ok()) {
      RollbackWriter();
      return batch;
    }
    BATON_RETURN_IF_ERROR(CommitWriter());
    total += static_cast<int64_t>(victims.size());
    if (victims.size() < static_cast<size_t>(limit)) break;
  }
  return total;
}

Result<StoreStats> SqliteStore::Stats() {
  BATON_ASSIGN_OR_RETURN(ReaderLease reader, Reader());
  BATON_ASSIGN_OR_RETURN(
      Statement stmt,
      reader->Prepare("SELECT (SELECT count(*) FROM definitions), (SELECT count(*) FROM "
                      "instances), (SELECT count(*) FROM timers), (SELECT count(*) FROM work)"));
  BATON_ASSIGN_OR_RETURN(bool row, stmt.Step());
  StoreStats stats;
  if (row) {
    stats.definitions = stmt.ColumnInt(0);
    stats.instances = stmt.ColumnInt(1);
    stats.timers = stmt.ColumnInt(2);
    stats.work = stmt.ColumnInt(3);
  }
  return stats;
}

}  // namespace

int SqliteSchemaVersion() { return sqlite::LatestSchemaVersion(); }

Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options) {
  const std::string& path = options.path;
  if (path.empty() || path == ":memory:" || path.rfind("file:", 0) == 0) {
    return Status::InvalidArgument(
        "the SQLite store needs a database file path (got '" + path +
        "'); in-memory databases are refused because they are not durable");
  }
  if (sqlite3_threadsafe() == 0) {
    return Status::Internal("this SQLite library was built without thread support");
  }
  std::unique_ptr<FileLock> lock;
  if (options.exclusive) {
    // Lock by the canonical path, so that two spellings of one file share one lock.
    std::error_code error;
    std::filesystem::path canonical = std::filesystem::weakly_canonical(path, error);
    BATON_ASSIGN_OR_RETURN(lock, FileLock::Acquire(error ? path : canonical.string()));
  }
  BATON_ASSIGN_OR_RETURN(std::unique_ptr<Connection> writer,
                         Connection::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
  BATON_RETURN_IF_ERROR(ConfigureConnection(*writer, /*writer=*/true));
  Result<std::string> mode = writer->Pragma("journal_mode = WAL");
  if (!mode.ok()) {
    // The first read of the file: a file that is not SQLite fails here.
    return Status(mode.status().code(),
                  "opening database '" + path + "': " + mode.status().message());
  }
  if (*mode != "wal") {
    return Status::Unavailable("database '" + path + "' cannot use WAL mode (journal mode is " +
                               *mode + ")");
  }
  BATON_RETURN_IF_ERROR(sqlite::Migrate(*writer, path));
  auto store = std::make_unique<SqliteStore>(path, std::move(lock), std::move(writer));
  BATON_RETURN_IF_ERROR(store->WarmUpReaders());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace baton::store
