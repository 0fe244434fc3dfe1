#include "store/sqlite/connection.h"

#include <utility>

namespace baton::store::sqlite {

namespace {

std::string Describe(sqlite3* db, int rc, std::string_view what) {
  std::string message(what);
  message += ": ";
  // sqlite3_errmsg describes the most recent failure on `db`, which is the one at hand
  // because a Connection is used by one thread at a time.
  message += (db != nullptr && sqlite3_extended_errcode(db) == rc) ? sqlite3_errmsg(db)
                                                                   : sqlite3_errstr(rc);
  return message;
}

}  // namespace

bool IsIoError(int rc) { return (rc & 0xff) == SQLITE_IOERR; }

Status SqliteStatus(sqlite3* db, int rc, std::string_view what) {
  switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return Status::AlreadyExists(Describe(db, rc, what));
    case SQLITE_NOTADB:
      return Status::InvalidArgument(Describe(db, rc, what));
    default:
      break;
  }
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_NOMEM:
    case SQLITE_READONLY:
      return Status::Unavailable(Describe(db, rc, what));
    default:
      return Status::Internal(Describe(db, rc, what));
  }
}

// --- Statement ---

Statement::Statement(Statement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)),
      bind_status_(std::move(other.bind_status_)),
      last_rc_(other.last_rc_) {}

Statement::~Statement() {
  if (stmt_ != nullptr) {
    // Resetting ends the statement's read transaction (if any) and drops the borrowed
    // bindings, so nothing dangles once the caller's strings go away.
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_status_ = Status::Ok();
  last_rc_ = SQLITE_OK;
}

void Statement::NoteBind(int rc, int index) {
  if (rc != SQLITE_OK && bind_status_.ok()) {
    bind_status_ = SqliteStatus(
        sqlite3_db_handle(stmt_), rc,
        "binding parameter " + std::to_string(index) + " of \"" + sqlite3_sql(stmt_) + "\"");
  }
}

void Statement::BindInt(int index, int64_t value) {
  NoteBind(sqlite3_bind_int64(stmt_, index, value), index);
}

void Statement::BindText(int index, std::string_view text) {
  // A null pointer would bind NULL; an empty view of "" binds the empty string.
  const char* data = text.data() != nullptr ? text.data() : "";
  NoteBind(sqlite3_bind_text64(stmt_, index, data, text.size(), SQLITE_STATIC, SQLITE_UTF8), index);
}

void Statement::BindTextOrNull(int index, std::string_view text) {
  if (text.empty()) {
    NoteBind(sqlite3_bind_null(stmt_, index), index);
  } else {
    BindText(index, text);
  }
}

void Statement::BindBlob(int index, std::string_view bytes) {
  if (bytes.empty()) {
    NoteBind(sqlite3_bind_zeroblob(stmt_, index, 0), index);
  } else {
    NoteBind(sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_STATIC), index);
  }
}

Result<bool> Statement::Step() {
  if (!bind_status_.ok()) return bind_status_;
  last_rc_ = sqlite3_step(stmt_);
  if (last_rc_ == SQLITE_ROW) return true;
  if (last_rc_ == SQLITE_DONE) return false;
  return SqliteStatus(sqlite3_db_handle(stmt_), last_rc_, sqlite3_sql(stmt_));
}

Status Statement::Run() {
  while (true) {
    BATON_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::Ok();
  }
}

int64_t Statement::ColumnInt(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string Statement::ColumnText(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::string Statement::ColumnBlob(int column) const {
  const void* blob = sqlite3_column_blob(stmt_, column);
  if (blob == nullptr) return {};
  return std::string(static_cast<const char*>(blob),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

bool Statement::ColumnIsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

// --- Connection ---

namespace {

// SQLite counts every allocation under one process-wide mutex by default (for
// sqlite3_memory_used, which baton does not read): the writer and the readers of every
// thread would take it a few dozen times per statement. Set once, before the first open.
void ConfigureLibrary() {
  static const bool kConfigured = [] {
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return true;
  }();
  (void)kConfigured;
}

}  // namespace

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path, int flags) {
  ConfigureLibrary();
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status status = SqliteStatus(db, rc, "opening database '" + path + "'");
    sqlite3_close_v2(db);  // a handle is returned even on failure (or null: a no-op)
    return status;
  }
  sqlite3_extended_result_codes(db, 1);
  return std::unique_ptr<Connection>(new Connection(db));
}

Connection::~Connection() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

Result<Statement> Connection::Prepare(std::string_view sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) return Statement(it->second);
  std::string key(sql);
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, key.data(), static_cast<int>(key.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return SqliteStatus(db_, rc, "preparing \"" + key + "\"");
  statements_.emplace(std::move(key), stmt);
  return Statement(stmt);
}

Status Connection::Run(std::string_view sql) {
  BATON_ASSIGN_OR_RETURN(Statement stmt, Prepare(sql));
  return stmt.Run();
}

Status Connection::Exec(const std::string& sql) {
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return SqliteStatus(db_, rc, "running \"" + sql + "\"");
  return Status::Ok();
}

Result<std::string> Connection::Pragma(const std::string& pragma) {
  sqlite3_stmt* raw = nullptr;
  std::string sql = "PRAGMA " + pragma;
  int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &raw, nullptr);
  if (rc != SQLITE_OK) return SqliteStatus(db_, rc, "preparing \"" + sql + "\"");
  std::string value;
  rc = sqlite3_step(raw);
  if (rc == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(raw, 0);
    if (text != nullptr) value = reinterpret_cast<const char*>(text);
    while (rc == SQLITE_ROW) rc = sqlite3_step(raw);
  }
  Status status =
      rc == SQLITE_DONE ? Status::Ok() : SqliteStatus(db_, rc, "running \"" + sql + "\"");
  sqlite3_finalize(raw);
  if (!status.ok()) return status;
  return value;
}

int64_t Connection::Changes() const { return sqlite3_changes64(db_); }

bool Connection::InAutocommit() const { return sqlite3_get_autocommit(db_) != 0; }

}  // namespace baton::store::sqlite
