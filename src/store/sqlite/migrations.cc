#include "store/sqlite/migrations.h"

#include <charconv>

namespace baton::store::sqlite {

namespace {

// Version 1. Layout notes:
// - instances is a rowid table because snapshots may be large; its small columns come first
//   and the large ones last, so that queries which skip `snapshot` never walk its overflow
//   pages. The identity columns (namespace, name, version, created_at, idempotency_key,
//   parent_*) are written once, at insert: updates leave them, and the indexes over them,
//   alone.
// - idempotency_key is NULL when there is none; the partial unique index holds only keys.
// - Child tables are WITHOUT ROWID, clustered by instance, so one instance's rows are
//   adjacent and a prune deletes a range. There are no foreign keys: the store writes
//   children only together with their instance (in one InstanceWrite), and deletes them
//   together, so the checks would only cost time on the commit path.
// - Integer ids (timer_id, activity_id, parent_activity) are uint64 stored as int64.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE definitions (
  namespace    TEXT NOT NULL,
  name         TEXT NOT NULL,
  version      TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  content      TEXT NOT NULL,
  PRIMARY KEY (namespace, name, version)
);

CREATE TABLE instances (
  id              TEXT PRIMARY KEY NOT NULL,
  namespace       TEXT NOT NULL,
  name            TEXT NOT NULL,
  version         TEXT NOT NULL,
  status          TEXT NOT NULL,
  row_version     INTEGER NOT NULL,
  idempotency_key TEXT,
  parent_id       TEXT NOT NULL,
  parent_activity INTEGER NOT NULL,
  history_length  INTEGER NOT NULL,
  suspended       INTEGER NOT NULL,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  ended_at        INTEGER NOT NULL,
  input           TEXT NOT NULL,
  output          TEXT NOT NULL,
  error           TEXT NOT NULL,
  tasks           TEXT NOT NULL,
  snapshot        BLOB NOT NULL
);
-- Listing, newest first, with the (created_at, id) keyset cursor.
CREATE INDEX instances_by_created ON instances (created_at, id);
CREATE INDEX instances_by_status ON instances (status, created_at, id);
CREATE INDEX instances_by_workflow ON instances (namespace, name, created_at, id);
CREATE UNIQUE INDEX instances_by_idempotency_key ON instances (idempotency_key)
  WHERE idempotency_key IS NOT NULL;
-- Two uses: ended_at = 0 is the live set, oldest first (ListStalledInstances, recovery);
-- 0 < ended_at < cutoff is what PruneEnded deletes. One index costs less per commit than two.
CREATE INDEX instances_by_ended ON instances (ended_at);

CREATE TABLE history (
  instance_id TEXT NOT NULL,
  seq         INTEGER NOT NULL,
  time        INTEGER NOT NULL,
  entries     TEXT NOT NULL,
  PRIMARY KEY (instance_id, seq)
) WITHOUT ROWID;

CREATE TABLE timers (
  instance_id TEXT NOT NULL,
  timer_id    INTEGER NOT NULL,
  due_at      INTEGER NOT NULL,
  PRIMARY KEY (instance_id, timer_id)
) WITHOUT ROWID;
CREATE INDEX timers_by_due ON timers (due_at);

CREATE TABLE work (
  instance_id TEXT NOT NULL,
  activity_id INTEGER NOT NULL,
  kind        TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  payload     BLOB NOT NULL,
  PRIMARY KEY (instance_id, activity_id)
) WITHOUT ROWID;

CREATE TABLE inbox (
  instance_id TEXT NOT NULL,
  seq         INTEGER NOT NULL,
  payload     BLOB NOT NULL,
  PRIMARY KEY (instance_id, seq)
) WITHOUT ROWID;
)sql";

Status Rollback(Connection& db, Status cause) {
  if (!db.InAutocommit()) (void)db.Exec("ROLLBACK");
  return cause;
}

}  // namespace

const std::vector<Migration>& Migrations() {
  static const auto* const kMigrations = new std::vector<Migration>{
      {1, "initial schema", kSchemaV1},
  };
  return *kMigrations;
}

int LatestSchemaVersion() { return Migrations().back().version; }

Result<int> ReadSchemaVersion(Connection& db, const std::string& path) {
  int64_t tables = 0;
  bool has_meta = false;
  {
    BATON_ASSIGN_OR_RETURN(
        Statement stmt,
        db.Prepare("SELECT count(*), count(*) FILTER (WHERE name = 'meta') FROM sqlite_schema "
                   "WHERE type = 'table'"));
    BATON_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (row) {
      tables = stmt.ColumnInt(0);
      has_meta = stmt.ColumnInt(1) > 0;
    }
  }
  if (tables == 0) return 0;
  std::string value;
  bool found = false;
  if (has_meta) {
    BATON_ASSIGN_OR_RETURN(Statement stmt,
                           db.Prepare("SELECT value FROM meta WHERE key = 'schema_version'"));
    BATON_ASSIGN_OR_RETURN(found, stmt.Step());
    if (found) value = stmt.ColumnText(0);
  }
  int version = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), version);
  if (!found || ec != std::errc() || end != value.data() + value.size() || version < 1) {
    return Status::InvalidArgument("database '" + path +
                                   "' is not a baton database (it has tables but no valid "
                                   "schema_version in table meta)");
  }
  return version;
}

Status Migrate(Connection& db, const std::string& path) {
  // IMMEDIATE: two processes opening a new file at once (exclusive = false) serialise here,
  // and the second one sees the first one's schema.
  BATON_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
  Result<int> current = ReadSchemaVersion(db, path);
  if (!current.ok()) return Rollback(db, current.status());
  const int latest = LatestSchemaVersion();
  if (*current > latest) {
    return Rollback(db, Status::InvalidArgument("database '" + path + "': schema version " +
                                                std::to_string(*current) +
                                                " is newer than this baton supports (" +
                                                std::to_string(latest) + "): upgrade baton"));
  }
  if (*current == latest) return Rollback(db, Status::Ok());
  for (const Migration& step : Migrations()) {
    if (step.version <= *current) continue;
    Status applied = db.Exec(step.sql);
    if (!applied.ok()) {
      return Rollback(db, Status(applied.code(), "migrating '" + path + "' to schema version " +
                                                     std::to_string(step.version) + " (" +
                                                     step.description + "): " + applied.message()));
    }
  }
  Status recorded =
      db.Exec("INSERT INTO meta (key, value) VALUES ('schema_version', '" + std::to_string(latest) +
              "') ON CONFLICT (key) DO UPDATE SET value = excluded.value");
  if (!recorded.ok()) return Rollback(db, recorded);
  Status committed = db.Exec("COMMIT");
  if (!committed.ok()) return Rollback(db, committed);
  return Status::Ok();
}

}  // namespace baton::store::sqlite
