// Connection: one SQLite connection and its cache of prepared statements, plus Statement,
// a borrowed handle on one cached statement. A thin layer that turns SQLite result codes
// into baton Statuses; it knows no table.
//
// Thread-safety: none. A Connection and its Statements are used by one thread at a time;
// SqliteStore guards its writer with a mutex and lends each reader to one caller at a time.
// Ownership: the Connection owns its statements; a Statement borrows one and must not
// outlive the Connection. Text and blobs bound to a Statement are not copied (SQLITE_STATIC):
// they must stay alive until the Statement is destroyed.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include <sqlite3.h>

#include "base/status.h"

namespace baton::store::sqlite {

// The Status for SQLite result code `rc` (extended codes understood) while doing `what`:
//   UNIQUE/PRIMARY KEY constraint → kAlreadyExists; NOTADB → kInvalidArgument;
//   BUSY/LOCKED/FULL/IOERR/CANTOPEN/NOMEM → kUnavailable (transient or environmental); anything
//   else → kInternal.
Status SqliteStatus(sqlite3* db, int rc, std::string_view what);

// True for the SQLITE_IOERR family: the state of the file after the failed call is unknown.
bool IsIoError(int rc);

class Statement {
 public:
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameters are numbered from 1. A failed bind is reported by the next Step().
  void BindInt(int index, int64_t value);
  void BindText(int index, std::string_view text);
  void BindTextOrNull(int index, std::string_view text);  // empty → NULL
  void BindBlob(int index, std::string_view bytes);

  // Makes the statement ready to be bound and run again (bindings are dropped).
  void Reset();

  // Runs one step: true when a row is available, false when done; an error otherwise.
  Result<bool> Step();
  // Steps to completion (for statements that return no rows).
  Status Run();
  // The raw result code of the last Step() (SQLITE_ROW, SQLITE_DONE or an error).
  int last_rc() const { return last_rc_; }

  // Columns are numbered from 0. REQUIRES: the last Step() returned true.
  int64_t ColumnInt(int column) const;
  std::string ColumnText(int column) const;  // NULL → ""
  std::string ColumnBlob(int column) const;  // NULL → ""
  bool ColumnIsNull(int column) const;

 private:
  void NoteBind(int rc, int index);

  sqlite3_stmt* stmt_;
  Status bind_status_;
  int last_rc_ = SQLITE_OK;
};

class Connection {
 public:
  // Opens `path` with sqlite3_open_v2 `flags` (SQLITE_OPEN_NOMUTEX is added: the owner
  // serialises access) and extended result codes on.
  static Result<std::unique_ptr<Connection>> Open(const std::string& path, int flags);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  sqlite3* db() const { return db_; }

  // The cached prepared statement for `sql` (prepared once, SQLITE_PREPARE_PERSISTENT).
  Result<Statement> Prepare(std::string_view sql);
  // Prepares (cached) and runs a statement that returns no rows.
  Status Run(std::string_view sql);
  // Runs `sql` (one or several statements, uncached): pragmas and DDL.
  Status Exec(const std::string& sql);
  // The value of a pragma that returns one row (e.g. "journal_mode=WAL" → "wal").
  Result<std::string> Pragma(const std::string& pragma);
  // Rows changed by the last INSERT/UPDATE/DELETE.
  int64_t Changes() const;
  // False while a transaction is open.
  bool InAutocommit() const;

 private:
  explicit Connection(sqlite3* db) : db_(db) {}

  sqlite3* const db_;
  // Looked up by string_view without building a std::string (C++20 heterogeneous lookup).
  struct SqlHash {
    using is_transparent = void;
    size_t operator()(std::string_view sql) const { return std::hash<std::string_view>{}(sql); }
  };
  std::unordered_map<std::string, sqlite3_stmt*, SqlHash, std::equal_to<>> statements_;
};

}  // namespace baton::store::sqlite
