// Tests of what is particular to the SQLite store: the file it writes (WAL, schema
// version), refusals at open (paths, foreign files, newer schemas, a database in use), reads
// beside an open write transaction, and crash consistency under SIGKILL.
#include "store/sqlite/sqlite_store.h"

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/hash.h"
#include "store/sqlite/migrations.h"
#include "store_backend.h"

namespace baton::store {
namespace {

using testing::TempDir;

// A raw SQLite connection, to look at the file from outside the store.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    EXPECT_EQ(
        sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr),
        SQLITE_OK);
    sqlite3_busy_timeout(db_, 5000);
  }
  ~RawDb() { sqlite3_close_v2(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  void Exec(const std::string& sql) {
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
        << sql << ": " << (error != nullptr ? error : "");
    sqlite3_free(error);
  }

  // The rows of `sql`, each as its columns' text joined by '|'.
  std::vector<std::string> Query(const std::string& sql) {
    std::vector<std::string> rows;
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
        << sql << ": " << sqlite3_errmsg(db_);
    while (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) {
      std::string row;
      for (int column = 0; column < sqlite3_column_count(stmt); ++column) {
        if (column > 0) row += "|";
        const unsigned char* text = sqlite3_column_text(stmt, column);
        row += text != nullptr ? reinterpret_cast<const char*>(text) : "NULL";
      }
      rows.push_back(row);
    }
    sqlite3_finalize(stmt);
    return rows;
  }

  std::string One(const std::string& sql) {
    std::vector<std::string> rows = Query(sql);
    return rows.empty() ? "<no row>" : rows[0];
  }

 private:
  sqlite3* db_ = nullptr;
};

InstanceWrite NewInstance(const std::string& id, size_t snapshot_bytes = 300) {
  InstanceWrite write;
  write.row.id = id;
  write.row.namespace_ = "default";
  write.row.name = "crash";
  write.row.version = "1";
  write.row.status = "running";
  write.row.snapshot = std::string(snapshot_bytes, 's');
  write.row.input_json = "{}";
  write.row.tasks_json = "[]";
  write.row.history_length = 1;
  write.row.created_at = 1000;
  write.row.updated_at = 1000;
  write.history.push_back({id, 0, 1000, "[]"});
  return write;
}

bool WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// Runs `child` in a forked process and returns its exit code (or 128 + signal).
template <typename Child>
int RunInChild(Child child) {
  pid_t pid = fork();
  if (pid == 0) _exit(child());
  int status = 0;
  EXPECT_EQ(waitpid(pid, &status, 0), pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  std::string DbPath() const { return dir_.path() + "/baton.db"; }

  std::unique_ptr<Store> MustOpen(bool exclusive = true) {
    Result<std::unique_ptr<Store>> opened = OpenSqliteStore({DbPath(), exclusive});
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    return opened.ok() ? std::move(opened).value() : nullptr;
  }

  TempDir dir_;
};

TEST(Sha256HexTest, KnownVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(SqliteMigrationsTest, StepsAreNumberedFromOneWithoutGaps) {
  const std::vector<sqlite::Migration>& steps = sqlite::Migrations();
  ASSERT_FALSE(steps.empty());
  for (size_t step_idx = 0; step_idx < steps.size(); ++step_idx) {
    EXPECT_EQ(steps[step_idx].version, static_cast<int>(step_idx) + 1);
  }
  EXPECT_EQ(SqliteSchemaVersion(), steps.back().version);
}

TEST_F(SqliteStoreTest, RefusesPathsThatAreNotFiles) {
  for (const std::string& path : {std::string(), std::string(":memory:")}) {
    Result<std::unique_ptr<Store>> opened = OpenSqliteStore({path, true});
    ASSERT_FALSE(opened.ok()) << path;
    EXPECT_EQ(opened.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(opened.status().message().find("durable"), std::string::npos);
  }
  Result<std::unique_ptr<Store>> no_dir = OpenSqliteStore({dir_.path() + "/missing/x.db", true});
  ASSERT_FALSE(no_dir.ok());
  EXPECT_NE(no_dir.status().message().find("missing/x.db"), std::string::npos)
      << no_dir.status().message();
}

TEST_F(SqliteStoreTest, NewDatabaseIsInWalModeAtTheCurrentSchemaVersion) {
  { ASSERT_NE(MustOpen(), nullptr); }
  RawDb raw(DbPath());
  EXPECT_EQ(raw.One("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(raw.One("SELECT value FROM meta WHERE key = 'schema_version'"),
            std::to_string(SqliteSchemaVersion()));
  EXPECT_EQ(raw.One("PRAGMA integrity_check"), "ok");
}

TEST_F(SqliteStoreTest, RefusesADatabaseWithANewerSchema) {
  { ASSERT_NE(MustOpen(), nullptr); }
  {
    RawDb raw(DbPath());
    raw.Exec("UPDATE meta SET value = '7' WHERE key = 'schema_version'");
  }
  Result<std::unique_ptr<Store>> opened = OpenSqliteStore({DbPath(), true});
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kInvalidArgument);
  const std::string expected = "schema version 7 is newer than this baton supports (" +
                               std::to_string(SqliteSchemaVersion()) + "): upgrade baton";
  EXPECT_NE(opened.status().message().find(expected), std::string::npos)
      << opened.status().message();
  EXPECT_NE(opened.status().message().find(DbPath()), std::string::npos);

  RawDb raw(DbPath());
  EXPECT_EQ(raw.One("SELECT value FROM meta WHERE key = 'schema_version'"), "7");  // untouched
  raw.Exec("UPDATE meta SET value = '1' WHERE key = 'schema_version'");
  EXPECT_NE(MustOpen(), nullptr);  // the refused open released the lock
}

TEST_F(SqliteStoreTest, RefusesAForeignSqliteDatabase) {
  {
    RawDb raw(DbPath());
    raw.Exec("CREATE TABLE customers (id INTEGER PRIMARY KEY)");
  }
  Result<std::unique_ptr<Store>> opened = OpenSqliteStore({DbPath(), true});
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(opened.status().message().find("not a baton database"), std::string::npos)
      << opened.status().message();
  RawDb raw(DbPath());
  EXPECT_EQ(raw.One("SELECT count(*) FROM sqlite_schema"), "1");  // nothing was added
}

TEST_F(SqliteStoreTest, RefusesAFileThatIsNotSqlite) {
  {
    std::ofstream out(DbPath());
    for (int line = 0; line < 100; ++line) out << "this is not a database\n";
  }
  Result<std::unique_ptr<Store>> opened = OpenSqliteStore({DbPath(), true});
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kInvalidArgument) << opened.status().ToString();
}

TEST_F(SqliteStoreTest, SecondOpenInThisProcessIsRefusedUntilTheFirstCloses) {
  std::unique_ptr<Store> first = MustOpen();
  ASSERT_NE(first, nullptr);
  Result<std::unique_ptr<Store>> second = OpenSqliteStore({DbPath(), true});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("is in use by another baton process"), std::string::npos)
      << second.status().message();
  // Another spelling of the same path is the same database.
  Result<std::unique_ptr<Store>> other_spelling =
      OpenSqliteStore({dir_.path() + "/./baton.db", true});
  EXPECT_FALSE(other_spelling.ok());
  first.reset();
  EXPECT_NE(MustOpen(), nullptr);
}

TEST_F(SqliteStoreTest, OpenFromAnotherProcessIsRefusedWhileThisOneHoldsIt) {
  std::unique_ptr<Store> held = MustOpen();
  ASSERT_NE(held, nullptr);
  const std::string path = DbPath();
  int code = RunInChild([&] {
    Result<std::unique_ptr<Store>> opened = OpenSqliteStore({path, true});
    if (opened.ok()) return 1;
    if (opened.status().code() != StatusCode::kUnavailable) return 2;
    const std::string expected =
        "is in use by another baton process (pid " + std::to_string(getppid()) + ")";
    return opened.status().message().find(expected) != std::string::npos ? 0 : 3;
  });
  EXPECT_EQ(code, 0) << "1: opened, 2: wrong code, 3: wrong message";
}

TEST_F(SqliteStoreTest, ALockHeldByAnotherProcessDiesWithIt) {
  int ready[2];
  int never[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(never), 0);
  const std::string path = DbPath();
  pid_t pid = fork();
  if (pid == 0) {
    close(ready[0]);
    close(never[1]);
    Result<std::unique_ptr<Store>> opened = OpenSqliteStore({path, true});
    if (!opened.ok()) _exit(1);
    if (!WriteAll(ready[1], "1")) _exit(2);
    char byte;
    (void)!read(never[0], &byte, 1);  // blocks until killed
    _exit(0);
  }
  close(ready[1]);
  close(never[0]);
  char byte = 0;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);
  Result<std::unique_ptr<Store>> refused = OpenSqliteStore({path, true});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("(pid " + std::to_string(pid) + ")"), std::string::npos)
      << refused.status().message();
  kill(pid, SIGKILL);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  close(ready[0]);
  close(never[1]);
  EXPECT_NE(MustOpen(), nullptr);
}

TEST_F(SqliteStoreTest, NonExclusiveStoresShareTheFile) {
  std::unique_ptr<Store> a = MustOpen(/*exclusive=*/false);
  std::unique_ptr<Store> b = MustOpen(/*exclusive=*/false);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  std::vector<WriteResult> results;
  ASSERT_TRUE(a->CommitTransitions({NewInstance("x")}, &results).ok());
  Result<std::optional<InstanceRow>> seen = b->GetInstance("x");
  ASSERT_TRUE(seen.ok() && seen->has_value());
}

TEST_F(SqliteStoreTest, ReadsSeeOnlyCommittedDataAndDoNotWaitForAWriter) {
  std::unique_ptr<Store> store = MustOpen(/*exclusive=*/false);
  ASSERT_NE(store, nullptr);
  std::vector<WriteResult> results;
  ASSERT_TRUE(store->CommitTransitions({NewInstance("committed")}, &results).ok());

  RawDb writer(DbPath());
  writer.Exec("BEGIN IMMEDIATE");
  writer.Exec(
      "INSERT INTO instances (id, namespace, name, version, status, row_version, "
      "idempotency_key, parent_id, parent_activity, history_length, suspended, created_at, "
      "updated_at, ended_at, input, output, error, tasks, snapshot) VALUES ('uncommitted', "
      "'d', 'n', '1', 'running', 1, NULL, '', 0, 0, 0, 5000, 5000, 0, '{}', '', '', '[]', x'')");
  writer.Exec("UPDATE instances SET status = 'dirty' WHERE id = 'committed'");

  // The write lock is held: reads still answer at once, from the last commit.
  Result<std::optional<InstanceRow>> uncommitted = store->GetInstance("uncommitted");
  ASSERT_TRUE(uncommitted.ok()) << uncommitted.status().ToString();
  EXPECT_FALSE(uncommitted->has_value());
  Result<std::optional<InstanceRow>> committed = store->GetInstance("committed");
  ASSERT_TRUE(committed.ok() && committed->has_value());
  EXPECT_EQ((*committed)->status, "running");
  Result<InstancePage> page = store->ListInstances({});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->rows.size(), 1u);

  writer.Exec("COMMIT");
  uncommitted = store->GetInstance("uncommitted");
  ASSERT_TRUE(uncommitted.ok());
  EXPECT_TRUE(uncommitted->has_value());
}

// --- crash consistency ---

constexpr int kCrashBatchSize = 10;

// The child: commits batches forever. Each batch inserts kCrashBatchSize new instances and
// advances the previous batch's ones. After each commit it reports "id version" lines.
[[noreturn]] void CommitUntilKilled(const std::string& path, int round, int report_fd) {
  Result<std::unique_ptr<Store>> opened = OpenSqliteStore({path, true});
  if (!opened.ok()) _exit(3);
  Store& store = **opened;
  std::vector<InstanceRow> previous;
  for (int batch = 0; batch < 1000000; ++batch) {
    std::vector<InstanceWrite> writes;
    const std::string prefix = "r" + std::to_string(round) + "-b" + std::to_string(batch) + "-";
    for (int item = 0; item < kCrashBatchSize; ++item) {
      InstanceWrite write = NewInstance(prefix + std::to_string(item));
      write.add_timers.push_back({"", 1, 1000 + batch});
      write.add_work.push_back({"", 1, "task", std::string(100, 'w'), 1000});
      writes.push_back(std::move(write));
    }
    for (InstanceRow& row : previous) {
      InstanceWrite next;
      next.expected_version = row.row_version;
      next.history.push_back({row.id, row.history_length, 2000, "[]"});
      row.history_length += 1;
      row.status = "waiting";
      next.row = row;
      next.remove_timers = {1};
      next.remove_work = {1};
      writes.push_back(std::move(next));
    }
    std::vector<WriteResult> results;
    if (!store.CommitTransitions(writes, &results).ok()) _exit(4);
    std::string report;
    for (size_t write_idx = 0; write_idx < writes.size(); ++write_idx) {
      if (!results[write_idx].status.ok()) _exit(5);
      report +=
          writes[write_idx].row.id + " " + std::to_string(results[write_idx].row_version) + "\n";
    }
    if (!WriteAll(report_fd, report)) _exit(6);
    previous.clear();
    for (size_t item = 0; item < kCrashBatchSize; ++item) {
      InstanceRow row = writes[item].row;
      row.row_version = results[item].row_version;
      previous.push_back(row);
    }
  }
  _exit(0);
}

TEST_F(SqliteStoreTest, EveryReportedCommitSurvivesSigkill) {
  const std::string path = DbPath();
  std::mt19937 random(20240611);
  std::map<std::string, int64_t> reported;  // id → the highest version reported committed
  constexpr int kRounds = 12;
  for (int round = 0; round < kRounds; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      CommitUntilKilled(path, round, fds[1]);
    }
    close(fds[1]);
    // Kill after a random number of reported lines, i.e. somewhere inside a later commit.
    const int kill_after = std::uniform_int_distribution<int>(1, 80)(random);
    std::string buffer;
    int lines = 0;
    bool killed = false;
    char chunk[4096];
    while (true) {
      ssize_t n = read(fds[0], chunk, sizeof(chunk));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // EOF: the child is gone
      buffer.append(chunk, static_cast<size_t>(n));
      size_t newline;
      while ((newline = buffer.find('\n')) != std::string::npos) {
        std::string line = buffer.substr(0, newline);
        buffer.erase(0, newline + 1);
        size_t space = line.find(' ');
        ASSERT_NE(space, std::string::npos) << line;
        int64_t version = std::stoll(line.substr(space + 1));
        int64_t& known = reported[line.substr(0, space)];
        known = std::max(known, version);
        ++lines;
      }
      if (!killed && lines >= kill_after) {
        // A random further delay moves the kill to any point of the following commits.
        const int spins = std::uniform_int_distribution<int>(0, 20000)(random);
        for (int spin = 0; spin < spins; ++spin) sched_yield();
        kill(pid, SIGKILL);
        killed = true;  // keep reading: lines already in the pipe were committed too
      }
    }
    close(fds[0]);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);

    // A restart: the store opens (recovering the WAL) and has every reported write.
    std::unique_ptr<Store> store = MustOpen();
    ASSERT_NE(store, nullptr);
    for (const auto& [id, version] : reported) {
      Result<std::optional<InstanceRow>> row = store->GetInstance(id);
      ASSERT_TRUE(row.ok()) << row.status().ToString();
      ASSERT_TRUE(row->has_value()) << id << " was reported committed";
      EXPECT_GE((*row)->row_version, version) << id;
    }
    store.reset();

    RawDb raw(path);
    EXPECT_EQ(raw.One("PRAGMA integrity_check"), "ok");
    // Each transaction is all or nothing: whole batches, and every instance's history,
    // timers and work agree with its row.
    std::map<std::string, int> batch_sizes;
    for (const std::string& id : raw.Query("SELECT id FROM instances")) {
      batch_sizes[id.substr(0, id.rfind('-'))] += 1;
    }
    for (const auto& [batch, size] : batch_sizes) EXPECT_EQ(size, kCrashBatchSize) << batch;
    EXPECT_EQ(raw.One("SELECT count(*) FROM instances i WHERE row_version != history_length OR "
                      "history_length != (SELECT count(*) FROM history h WHERE h.instance_id = "
                      "i.id)"),
              "0");
    EXPECT_EQ(raw.One("SELECT count(*) FROM instances i WHERE (row_version = 1) != EXISTS "
                      "(SELECT 1 FROM timers t WHERE t.instance_id = i.id)"),
              "0");
  }
  EXPECT_GE(reported.size(), static_cast<size_t>(kRounds * kCrashBatchSize));
}

}  // namespace
}  // namespace baton::store
