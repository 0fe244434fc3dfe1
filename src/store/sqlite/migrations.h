// The SQLite schema of baton and its versioned migrations. Version N of the schema is the
// result of applying steps 1..N in order; a step, once released, is never edited (add a new
// one). The version a database is at is stored in meta(key = 'schema_version').
//
// Thread-safety: Migrate uses the connection it is given; the caller owns it exclusively.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "store/sqlite/connection.h"

namespace baton::store::sqlite {

struct Migration {
  int version;              // 1, 2, 3, ... without gaps
  const char* description;  // one line, for logs
  const char* sql;          // one or more statements
};

// Every step, in order.
const std::vector<Migration>& Migrations();

// The schema version this build writes: the last step's version.
int LatestSchemaVersion();

// The schema version of the database on `db`: 0 for an empty database. InvalidArgument when
// the file holds tables but is not a baton database.
Result<int> ReadSchemaVersion(Connection& db, const std::string& path);

// Brings the database up to LatestSchemaVersion() in one IMMEDIATE transaction (all steps
// or none). A database written by a newer baton is refused with InvalidArgument and left
// untouched. `path` is for messages.
Status Migrate(Connection& db, const std::string& path);

}  // namespace baton::store::sqlite
