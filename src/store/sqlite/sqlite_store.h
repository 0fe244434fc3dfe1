// The SQLite implementation of store::Store: baton's embedded default.
//
// One file in WAL mode with synchronous=FULL: CommitTransitions is one IMMEDIATE
// transaction and one fsync of the WAL, whatever the batch size. Writes go through one
// connection guarded by a mutex; reads use a small pool of other connections, so they see
// the last committed state and never wait behind a commit.
//
// The schema and its migrations: store/sqlite/migrations.{h,cc}. A database written by a
// newer baton is refused; an older one is migrated at open, in one transaction.
//
// Thread-safety: as store::Store (every method, from any thread).
// Ownership: the returned Store owns its connections and its lock; destroying it closes
// the database and releases the lock.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "store/hash.h"
#include "store/store.h"

namespace baton::store {

struct SqliteOptions {
  // The database file (created when missing; its directory must exist). ":memory:" and ""
  // are refused: the store's point is durability.
  std::string path;
  // Refuse a database that another store holds, in this process or another one (an flock on
  // PATH.lock). Turn off only for tools that share a file with a running server knowingly.
  bool exclusive = true;
};

// Opens (creating or migrating as needed) the database at options.path.
// Errors: InvalidArgument for a refused path, a file that is not a baton database, or a
// schema newer than this build; Unavailable when the database is in use by another baton
// process or cannot be opened.
Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options);

// The schema version this build writes (and the newest it can open).
int SqliteSchemaVersion();

}  // namespace baton::store
