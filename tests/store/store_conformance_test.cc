// The Store conformance suite: behaviour every store::Store implementation must have. It
// talks to the store through the interface only; backends are plugged in at the bottom.
#include <algorithm>
#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "store/hash.h"
#include "store/store.h"
#include "store_backend.h"

namespace baton::store::testing {
namespace {

using ::testing::TestWithParam;

InstanceRow Row(const std::string& id, Millis created_at = 1000) {
  InstanceRow row;
  row.id = id;
  row.namespace_ = "default";
  row.name = "order";
  row.version = "1.0.0";
  row.status = "running";
  row.snapshot = std::string("snap\0shot-", 10) + id;
  row.input_json = R"({"order":1})";
  row.tasks_json = "[]";
  row.history_length = 1;
  row.created_at = created_at;
  row.updated_at = created_at;
  return row;
}

// A new instance with its first history row.
InstanceWrite Insert(const std::string& id, Millis created_at = 1000) {
  InstanceWrite write;
  write.row = Row(id, created_at);
  write.expected_version = 0;
  write.history.push_back({id, 0, created_at, R"([{"type":"started"}])"});
  return write;
}

// The next transition of `row` (as read, at row.row_version): one more history row.
InstanceWrite Advance(InstanceRow row, const std::string& status = "running") {
  InstanceWrite write;
  write.expected_version = row.row_version;
  write.history.push_back(
      {row.id, row.history_length, row.updated_at + 1, R"([{"type":")" + status + R"("}])"});
  row.history_length += 1;
  row.updated_at += 1;
  row.status = status;
  row.snapshot += "+";
  write.row = std::move(row);
  return write;
}

class StoreConformanceTest : public TestWithParam<BackendFactory> {
 protected:
  void SetUp() override {
    backend_ = GetParam().make();
    Reopen();
  }

  void Reopen() {
    store_.reset();
    Result<std::unique_ptr<Store>> opened = backend_->Open();
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
  }

  Store& store() { return *store_; }

  // Commits a batch that must succeed as a whole; returns the per-write results.
  std::vector<WriteResult> Commit(const std::vector<InstanceWrite>& writes) {
    std::vector<WriteResult> results;
    Status status = store().CommitTransitions(writes, &results);
    EXPECT_TRUE(status.ok()) << status.ToString();
    EXPECT_EQ(results.size(), writes.size());
    results.resize(writes.size());
    return results;
  }

  // Commits one write that must be accepted; returns its new row_version.
  int64_t CommitOne(const InstanceWrite& write) {
    std::vector<WriteResult> results = Commit({write});
    EXPECT_TRUE(results[0].status.ok()) << results[0].status.ToString();
    return results[0].row_version;
  }

  InstanceRow MustGet(const std::string& id) {
    Result<std::optional<InstanceRow>> got = store().GetInstance(id);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    if (!got.ok() || !got->has_value()) {
      ADD_FAILURE() << "instance " << id << " not found";
      return {};
    }
    return **got;
  }

  bool Exists(const std::string& id) {
    Result<std::optional<InstanceRow>> got = store().GetInstance(id);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    return got.ok() && got->has_value();
  }

  std::vector<HistoryRow> History(const std::string& id, int64_t from = 0, int limit = 1000) {
    Result<std::vector<HistoryRow>> got = store().GetHistory(id, from, limit);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    return got.ok() ? *got : std::vector<HistoryRow>{};
  }

  std::vector<TimerRow> Timers(Millis before = INT64_MAX, int limit = 1000) {
    Result<std::vector<TimerRow>> got = store().TimersDueBefore(before, limit);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    return got.ok() ? *got : std::vector<TimerRow>{};
  }

  std::vector<WorkRow> AllWork(int page_size = 1000) {
    std::vector<WorkRow> out;
    std::string after_instance;
    uint64_t after_activity = 0;
    while (true) {
      Result<std::vector<WorkRow>> page =
          store().ListWork(after_instance, after_activity, page_size);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok() || page->empty()) break;
      out.insert(out.end(), page->begin(), page->end());
      after_instance = page->back().instance_id;
      after_activity = page->back().activity_id;
      if (static_cast<int>(page->size()) < page_size) break;
    }
    return out;
  }

  std::vector<std::string> ListIds(InstanceFilter filter) {
    Result<InstancePage> page = store().ListInstances(filter);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    std::vector<std::string> ids;
    if (page.ok()) {
      for (const InstanceRow& row : page->rows) ids.push_back(row.id);
    }
    return ids;
  }

  std::unique_ptr<StoreBackend> backend_;
  std::unique_ptr<Store> store_;
};

// --- definitions ---

Definition Def(const std::string& version, const std::string& content, Millis created_at) {
  return {"default", "order", version, content, "", created_at};
}

TEST_P(StoreConformanceTest, PutDefinitionCreatesThenIsUnchanged) {
  Result<PutOutcome> first = store().PutDefinition(Def("1.0.0", "document: v1", 100));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, PutOutcome::kCreated);
  Result<PutOutcome> again = store().PutDefinition(Def("1.0.0", "document: v1", 200));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, PutOutcome::kUnchanged);

  Result<std::optional<Definition>> got = store().GetDefinition("default", "order", "1.0.0");
  ASSERT_TRUE(got.ok() && got->has_value()) << got.status().ToString();
  EXPECT_EQ((*got)->content, "document: v1");
  EXPECT_EQ((*got)->content_hash, Sha256Hex("document: v1"));
  EXPECT_EQ((*got)->created_at, 100);  // the first put's
}

TEST_P(StoreConformanceTest, PutDefinitionWithOtherContentConflictsAndKeepsTheOriginal) {
  ASSERT_TRUE(store().PutDefinition(Def("1.0.0", "document: v1", 100)).ok());
  Result<PutOutcome> changed = store().PutDefinition(Def("1.0.0", "document: changed", 200));
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(*changed, PutOutcome::kConflict);
  Result<std::optional<Definition>> got = store().GetDefinition("default", "order", "1.0.0");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->content, "document: v1");
}

TEST_P(StoreConformanceTest, GetDefinitionLatestIsByCreatedAtThenVersion) {
  ASSERT_TRUE(store().PutDefinition(Def("2.0.0", "b", 200)).ok());
  ASSERT_TRUE(store().PutDefinition(Def("1.0.0", "a", 100)).ok());
  ASSERT_TRUE(store().PutDefinition(Def("1.5.0", "c", 200)).ok());
  Result<std::optional<Definition>> latest = store().GetDefinition("default", "order", "");
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ((*latest)->version, "2.0.0");  // same created_at as 1.5.0; "2.0.0" > "1.5.0"

  Result<std::optional<Definition>> missing = store().GetDefinition("default", "order", "9");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  Result<std::optional<Definition>> unknown = store().GetDefinition("default", "nope", "");
  ASSERT_TRUE(unknown.ok());
  EXPECT_FALSE(unknown->has_value());
}

TEST_P(StoreConformanceTest, ListDefinitionsOldestFirstWithContent) {
  ASSERT_TRUE(store().PutDefinition(Def("2.0.0", "b", 200)).ok());
  ASSERT_TRUE(store().PutDefinition(Def("1.0.0", "a", 100)).ok());
  ASSERT_TRUE(store().PutDefinition({"other", "flow", "1", "x", "", 150}).ok());
  Result<std::vector<Definition>> all = store().ListDefinitions();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].version, "1.0.0");
  EXPECT_EQ((*all)[0].content, "a");
  EXPECT_EQ((*all)[1].namespace_, "other");
  EXPECT_EQ((*all)[2].version, "2.0.0");
}

TEST_P(StoreConformanceTest, PutDefinitionNeedsItsKey) {
  Result<PutOutcome> bad = store().PutDefinition(Def("", "a", 1));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

// --- the write path ---

TEST_P(StoreConformanceTest, InsertThenGetRoundTripsEveryField) {
  InstanceWrite write = Insert("i-1", 1234);
  InstanceRow& row = write.row;
  row.output_json = R"({"ok":true})";
  row.error_json = R"({"type":"x"})";
  row.tasks_json = R"([{"ref":"/do/0"}])";
  row.idempotency_key = "key-1";
  row.parent_id = "parent-7";
  row.parent_activity = (uint64_t{1} << 40) + 3;
  row.suspended = true;
  row.updated_at = 1300;
  row.ended_at = 1400;
  row.row_version = 99;  // ignored
  EXPECT_EQ(CommitOne(write), 1);

  InstanceRow got = MustGet("i-1");
  EXPECT_EQ(got.id, "i-1");
  EXPECT_EQ(got.namespace_, "default");
  EXPECT_EQ(got.name, "order");
  EXPECT_EQ(got.version, "1.0.0");
  EXPECT_EQ(got.status, "running");
  EXPECT_EQ(got.row_version, 1);
  EXPECT_EQ(got.snapshot, row.snapshot);  // bytes, NUL included
  EXPECT_EQ(got.snapshot.size(), 13u);
  EXPECT_EQ(got.input_json, row.input_json);
  EXPECT_EQ(got.output_json, row.output_json);
  EXPECT_EQ(got.error_json, row.error_json);
  EXPECT_EQ(got.tasks_json, row.tasks_json);
  EXPECT_EQ(got.idempotency_key, "key-1");
  EXPECT_EQ(got.parent_id, "parent-7");
  EXPECT_EQ(got.parent_activity, row.parent_activity);
  EXPECT_EQ(got.history_length, 1);
  EXPECT_TRUE(got.suspended);
  EXPECT_EQ(got.created_at, 1234);
  EXPECT_EQ(got.updated_at, 1300);
  EXPECT_EQ(got.ended_at, 1400);

  Result<std::optional<InstanceRow>> missing = store().GetInstance("nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

TEST_P(StoreConformanceTest, EmptySnapshotAndEmptyBatch) {
  InstanceWrite write = Insert("i-1");
  write.row.snapshot.clear();
  EXPECT_EQ(CommitOne(write), 1);
  EXPECT_EQ(MustGet("i-1").snapshot, "");
  std::vector<WriteResult> results = {WriteResult{}};
  EXPECT_TRUE(store().CommitTransitions({}, &results).ok());
  EXPECT_TRUE(results.empty());
}

TEST_P(StoreConformanceTest, UpdateWithExpectedVersionIncrementsIt) {
  ASSERT_EQ(CommitOne(Insert("i-1")), 1);
  InstanceWrite next = Advance(MustGet("i-1"), "waiting");
  next.row.output_json = "42";
  EXPECT_EQ(CommitOne(next), 2);
  InstanceWrite last = Advance(MustGet("i-1"), "completed");
  last.row.ended_at = 5000;
  EXPECT_EQ(CommitOne(last), 3);
  InstanceRow got = MustGet("i-1");
  EXPECT_EQ(got.row_version, 3);
  EXPECT_EQ(got.status, "completed");
  EXPECT_EQ(got.output_json, "42");
  EXPECT_EQ(got.ended_at, 5000);
  EXPECT_EQ(got.history_length, 3);
  EXPECT_EQ(got.snapshot, Row("i-1").snapshot + "++");
}

TEST_P(StoreConformanceTest, UpdateKeepsTheIdentityColumns) {
  InstanceWrite insert = Insert("i-1", 1000);
  insert.row.idempotency_key = "k";
  ASSERT_EQ(CommitOne(insert), 1);
  InstanceWrite update = Advance(MustGet("i-1"));
  update.row.namespace_ = "other";
  update.row.created_at = 1;
  update.row.idempotency_key = "";
  ASSERT_EQ(CommitOne(update), 2);
  InstanceRow got = MustGet("i-1");
  EXPECT_EQ(got.namespace_, "default");
  EXPECT_EQ(got.created_at, 1000);
  EXPECT_EQ(got.idempotency_key, "k");
}

TEST_P(StoreConformanceTest, StaleVersionConflictsAloneAndTheRestOfTheBatchCommits) {
  ASSERT_EQ(CommitOne(Insert("a")), 1);
  ASSERT_EQ(CommitOne(Insert("b")), 1);
  InstanceRow a = MustGet("a");
  ASSERT_EQ(CommitOne(Advance(a)), 2);  // a is now at 2

  InstanceWrite stale = Advance(a);  // expects 1
  stale.add_timers.push_back({"a", 1, 10});
  stale.add_work.push_back({"a", 1, "task", "p", 1});
  std::vector<WriteResult> results =
      Commit({Insert("c"), stale, Advance(MustGet("b")), Insert("d")});
  EXPECT_TRUE(results[0].status.ok());
  EXPECT_EQ(results[1].status.code(), StatusCode::kConflict) << results[1].status.ToString();
  EXPECT_EQ(results[1].row_version, 0);
  EXPECT_TRUE(results[2].status.ok());
  EXPECT_EQ(results[2].row_version, 2);
  EXPECT_TRUE(results[3].status.ok());

  EXPECT_TRUE(Exists("c"));
  EXPECT_TRUE(Exists("d"));
  EXPECT_EQ(MustGet("b").row_version, 2);
  InstanceRow a_now = MustGet("a");
  EXPECT_EQ(a_now.row_version, 2);
  EXPECT_EQ(History("a").size(), 2u);  // the rejected write's history row is not there
  EXPECT_TRUE(Timers().empty());
  EXPECT_TRUE(AllWork().empty());
}

TEST_P(StoreConformanceTest, UpdateOfAMissingInstanceIsRejected) {
  InstanceWrite ghost = Advance(Row("ghost"));
  ghost.expected_version = 3;
  std::vector<WriteResult> results = Commit({ghost, Insert("real")});
  EXPECT_EQ(results[0].status.code(), StatusCode::kNotFound) << results[0].status.ToString();
  EXPECT_TRUE(results[1].status.ok());
  EXPECT_FALSE(Exists("ghost"));
  EXPECT_TRUE(History("ghost").empty());
}

TEST_P(StoreConformanceTest, DuplicateIdInTheSameBatch) {
  InstanceWrite second = Insert("dup");
  second.row.status = "second";
  std::vector<WriteResult> results = Commit({Insert("dup"), Insert("other"), second});
  EXPECT_TRUE(results[0].status.ok());
  EXPECT_TRUE(results[1].status.ok());
  EXPECT_EQ(results[2].status.code(), StatusCode::kAlreadyExists) << results[2].status.ToString();
  EXPECT_NE(results[2].status.message().find("dup"), std::string::npos);
  EXPECT_EQ(MustGet("dup").status, "running");
  EXPECT_EQ(History("dup").size(), 1u);
}

TEST_P(StoreConformanceTest, DuplicateIdAcrossBatches) {
  ASSERT_EQ(CommitOne(Insert("dup")), 1);
  InstanceWrite again = Insert("dup");
  again.add_timers.push_back({"dup", 1, 5});
  std::vector<WriteResult> results = Commit({again, Insert("fresh")});
  EXPECT_EQ(results[0].status.code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(results[1].status.ok());
  EXPECT_TRUE(Exists("fresh"));
  EXPECT_EQ(MustGet("dup").row_version, 1);
  EXPECT_TRUE(Timers().empty());
}

TEST_P(StoreConformanceTest, IdempotencyKeyIsUniqueInTheSameBatch) {
  InstanceWrite first = Insert("first");
  first.row.idempotency_key = "order-17";
  InstanceWrite second = Insert("second");
  second.row.idempotency_key = "order-17";
  InstanceWrite unkeyed_a = Insert("unkeyed-a");
  InstanceWrite unkeyed_b = Insert("unkeyed-b");  // several instances without a key
  std::vector<WriteResult> results = Commit({first, second, unkeyed_a, unkeyed_b});
  EXPECT_TRUE(results[0].status.ok());
  EXPECT_EQ(results[1].status.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(results[1].status.message().find("order-17"), std::string::npos)
      << results[1].status.message();
  EXPECT_TRUE(results[2].status.ok());
  EXPECT_TRUE(results[3].status.ok());
  EXPECT_FALSE(Exists("second"));
  EXPECT_TRUE(History("second").empty());

  Result<std::optional<std::string>> found = store().FindByIdempotencyKey("order-17");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ(**found, "first");
  Result<std::optional<std::string>> none = store().FindByIdempotencyKey("order-18");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  Result<std::optional<std::string>> empty = store().FindByIdempotencyKey("");
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->has_value());
}

TEST_P(StoreConformanceTest, IdempotencyKeyIsUniqueAcrossBatches) {
  InstanceWrite first = Insert("first");
  first.row.idempotency_key = "k";
  ASSERT_EQ(CommitOne(first), 1);
  InstanceWrite second = Insert("second");
  second.row.idempotency_key = "k";
  std::vector<WriteResult> results = Commit({Insert("x"), second});
  EXPECT_TRUE(results[0].status.ok());
  EXPECT_EQ(results[1].status.code(), StatusCode::kAlreadyExists);
  EXPECT_FALSE(Exists("second"));
  EXPECT_TRUE(Exists("x"));
}

TEST_P(StoreConformanceTest, InsertAndUpdateOfOneInstanceInOneBatch) {
  InstanceWrite insert = Insert("i");
  InstanceRow as_inserted = insert.row;
  as_inserted.row_version = 1;
  std::vector<WriteResult> results = Commit({insert, Advance(as_inserted, "waiting")});
  EXPECT_EQ(results[0].row_version, 1);
  EXPECT_EQ(results[1].row_version, 2);
  EXPECT_EQ(MustGet("i").status, "waiting");
  EXPECT_EQ(History("i").size(), 2u);
}

TEST_P(StoreConformanceTest, InvalidWritesAreRejectedAlone) {
  InstanceWrite no_id = Insert("");
  InstanceWrite foreign_child = Insert("mine");
  foreign_child.add_timers.push_back({"someone-else", 1, 1});
  std::vector<WriteResult> results = Commit({no_id, foreign_child, Insert("ok")});
  EXPECT_EQ(results[0].status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(results[1].status.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(results[2].status.ok());
  EXPECT_FALSE(Exists("mine"));
}

// --- history ---

TEST_P(StoreConformanceTest, HistoryAppendsInOrderAndPages) {
  ASSERT_EQ(CommitOne(Insert("i")), 1);
  for (int step = 0; step < 5; ++step) {
    ASSERT_TRUE(CommitOne(Advance(MustGet("i"), "s" + std::to_string(step))) > 0);
  }
  InstanceWrite two_rows = Advance(MustGet("i"));
  two_rows.history.push_back({"i", two_rows.row.history_length, 9999, "[]"});
  two_rows.row.history_length += 1;
  ASSERT_EQ(CommitOne(two_rows), 7);
  ASSERT_EQ(CommitOne(Insert("other")), 1);

  std::vector<HistoryRow> all = History("i");
  ASSERT_EQ(all.size(), 8u);
  for (size_t seq = 0; seq < all.size(); ++seq) {
    EXPECT_EQ(all[seq].seq, static_cast<int64_t>(seq));
    EXPECT_EQ(all[seq].instance_id, "i");
  }
  EXPECT_EQ(all[0].entries, R"([{"type":"started"}])");
  EXPECT_EQ(all[1].entries, R"([{"type":"s0"}])");
  EXPECT_EQ(all[7].time, 9999);
  EXPECT_EQ(MustGet("i").history_length, 8);

  std::vector<HistoryRow> middle = History("i", 3, 2);
  ASSERT_EQ(middle.size(), 2u);
  EXPECT_EQ(middle[0].seq, 3);
  EXPECT_EQ(middle[1].seq, 4);
  EXPECT_TRUE(History("i", 8).empty());
  EXPECT_TRUE(History("nobody").empty());
  EXPECT_FALSE(store().GetHistory("i", 0, 0).ok());
}

// The store keeps every history row below its instance's history_length (so an update
// need not probe for taken rows); a write that would break that is refused whole.
TEST_P(StoreConformanceTest, HistoryRowsMustLieBelowTheRowsHistoryLength) {
  InstanceWrite past_end = Insert("i");
  past_end.history[0].seq = 1;  // history_length is 1: only seq 0 fits
  InstanceWrite negative = Insert("j");
  negative.history[0].seq = -1;
  std::vector<WriteResult> results = Commit({past_end, negative, Insert("k")});
  EXPECT_EQ(results[0].status.code(), StatusCode::kInvalidArgument) << results[0].status.ToString();
  EXPECT_NE(results[0].status.message().find("history row 1"), std::string::npos);
  EXPECT_EQ(results[1].status.code(), StatusCode::kInvalidArgument) << results[1].status.ToString();
  EXPECT_TRUE(results[2].status.ok());
  EXPECT_FALSE(Exists("i"));

  ASSERT_EQ(CommitOne(Insert("i")), 1);
  InstanceWrite behind = Advance(MustGet("i"));
  behind.row.history_length = 1;  // the new row 1 would lie past the stored length
  results = Commit({behind});
  EXPECT_EQ(results[0].status.code(), StatusCode::kInvalidArgument) << results[0].status.ToString();
  EXPECT_EQ(MustGet("i").row_version, 1);
  EXPECT_EQ(History("i").size(), 1u);
}

TEST_P(StoreConformanceTest, DuplicateHistorySeqRejectsTheWholeWrite) {
  ASSERT_EQ(CommitOne(Insert("i")), 1);
  InstanceWrite bad = Advance(MustGet("i"), "bad");
  bad.history[0].seq = 0;  // already there
  bad.add_timers.push_back({"i", 3, 30});
  std::vector<WriteResult> results = Commit({bad, Insert("j")});
  EXPECT_EQ(results[0].status.code(), StatusCode::kConflict) << results[0].status.ToString();
  EXPECT_TRUE(results[1].status.ok());
  InstanceRow got = MustGet("i");
  EXPECT_EQ(got.row_version, 1);  // the row update was rolled back with the rest
  EXPECT_EQ(got.status, "running");
  EXPECT_TRUE(Timers().empty());
}

// --- timers ---

TEST_P(StoreConformanceTest, TimersComeDueEarliestFirstWithALimit) {
  InstanceWrite a = Insert("a");
  a.add_timers = {{"a", 1, 300}, {"a", 2, 100}};
  InstanceWrite b = Insert("b");
  b.add_timers = {{"b", 1, 200}, {"b", 7, 100}, {"", 9, 1000}};  // empty id: this instance's
  Commit({a, b});

  std::vector<TimerRow> due = Timers(301);
  ASSERT_EQ(due.size(), 4u);
  EXPECT_EQ(due[0].instance_id, "a");  // 100, ties by instance then timer id
  EXPECT_EQ(due[0].timer_id, 2u);
  EXPECT_EQ(due[1].instance_id, "b");
  EXPECT_EQ(due[1].timer_id, 7u);
  EXPECT_EQ(due[2].due_at, 200);
  EXPECT_EQ(due[3].due_at, 300);
  EXPECT_EQ(Timers(300).size(), 3u);  // strictly before
  EXPECT_EQ(Timers(INT64_MAX, 2).size(), 2u);
  EXPECT_EQ(Timers().back().instance_id, "b");
  EXPECT_EQ(Timers().back().timer_id, 9u);
  EXPECT_FALSE(store().TimersDueBefore(1, 0).ok());
}

TEST_P(StoreConformanceTest, TimersAreRemovedAndReArmed) {
  InstanceWrite a = Insert("a");
  a.add_timers = {{"a", 1, 100}, {"a", 2, 200}};
  ASSERT_EQ(CommitOne(a), 1);
  InstanceWrite next = Advance(MustGet("a"));
  next.remove_timers = {1, 42};                    // 42 does not exist: fine
  next.add_timers = {{"a", 2, 50}, {"a", 3, 75}};  // re-arming 2 moves it
  ASSERT_EQ(CommitOne(next), 2);
  std::vector<TimerRow> due = Timers();
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0].timer_id, 2u);
  EXPECT_EQ(due[0].due_at, 50);
  EXPECT_EQ(due[1].timer_id, 3u);

  InstanceWrite again = Advance(MustGet("a"));
  again.remove_timers = {3};
  again.add_timers = {{"a", 3, 10}};  // remove then add in one write: re-added
  ASSERT_EQ(CommitOne(again), 3);
  due = Timers();
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0].timer_id, 3u);
  EXPECT_EQ(due[0].due_at, 10);
}

// --- work ---

TEST_P(StoreConformanceTest, WorkIsAddedRemovedAndPagedByKeyset) {
  std::vector<InstanceWrite> writes;
  std::set<std::pair<std::string, uint64_t>> expected;
  for (int instance_idx = 0; instance_idx < 7; ++instance_idx) {
    std::string id = "w" + std::to_string(instance_idx);
    InstanceWrite write = Insert(id);
    for (uint64_t activity = 1; activity <= 3; ++activity) {
      write.add_work.push_back({id, activity, "task", "payload-" + std::to_string(activity), 5});
      expected.emplace(id, activity);
    }
    writes.push_back(write);
  }
  Commit(writes);

  for (int page_size : {1, 2, 4, 21, 100}) {
    std::vector<WorkRow> all = AllWork(page_size);
    ASSERT_EQ(all.size(), expected.size()) << "page size " << page_size;
    std::set<std::pair<std::string, uint64_t>> seen;
    for (size_t row_idx = 0; row_idx < all.size(); ++row_idx) {
      seen.emplace(all[row_idx].instance_id, all[row_idx].activity_id);
      if (row_idx > 0) {
        EXPECT_LT(std::make_pair(all[row_idx - 1].instance_id, all[row_idx - 1].activity_id),
                  std::make_pair(all[row_idx].instance_id, all[row_idx].activity_id));
      }
    }
    EXPECT_EQ(seen, expected);
  }
  std::vector<WorkRow> first = AllWork();
  EXPECT_EQ(first[0].kind, "task");
  EXPECT_EQ(first[0].payload, "payload-1");
  EXPECT_EQ(first[0].created_at, 5);

  InstanceWrite consume = Advance(MustGet("w3"));
  consume.remove_work = {2};
  consume.add_work = {{"w3", 1, "child", "replaced", 6}, {"w3", 9, "task", "new", 6}};
  ASSERT_EQ(CommitOne(consume), 2);
  Result<std::vector<WorkRow>> w3 = store().ListWork("w2", UINT64_MAX, 10);
  ASSERT_TRUE(w3.ok());
  ASSERT_GE(w3->size(), 3u);
  EXPECT_EQ((*w3)[0].instance_id, "w3");
  EXPECT_EQ((*w3)[0].activity_id, 1u);
  EXPECT_EQ((*w3)[0].kind, "child");
  EXPECT_EQ((*w3)[0].payload, "replaced");
  EXPECT_EQ((*w3)[1].activity_id, 3u);
  EXPECT_EQ((*w3)[2].activity_id, 9u);
  EXPECT_FALSE(store().ListWork("", 0, 0).ok());
}

// One removal and one addition in a write (a sequence's step): the result is the same
// whether the store moves the row or deletes and inserts, including when the new id is
// already taken (replaced) or the removed one is absent.
TEST_P(StoreConformanceTest, OneWorkRowConsumedAndOneIssuedInAWrite) {
  InstanceWrite insert = Insert("s");
  insert.add_work = {{"s", 1, "task", "first", 1}, {"s", 7, "task", "seven", 1}};
  ASSERT_EQ(CommitOne(insert), 1);
  auto work_of_s = [&] {
    std::vector<std::pair<uint64_t, std::string>> rows;
    for (const WorkRow& w : AllWork()) {
      if (w.instance_id == "s") rows.emplace_back(w.activity_id, w.payload);
    }
    return rows;
  };
  using Rows = std::vector<std::pair<uint64_t, std::string>>;

  InstanceWrite step = Advance(MustGet("s"));
  step.remove_work = {1};
  step.add_work = {{"s", 2, "task", "second", 2}};
  ASSERT_EQ(CommitOne(step), 2);
  EXPECT_EQ(work_of_s(), (Rows{{2, "second"}, {7, "seven"}}));
  EXPECT_EQ(AllWork()[0].kind, "task");
  EXPECT_EQ(AllWork()[0].created_at, 2);

  InstanceWrite onto_taken = Advance(MustGet("s"));
  onto_taken.remove_work = {2};
  onto_taken.add_work = {{"s", 7, "child", "seven again", 3}};
  ASSERT_EQ(CommitOne(onto_taken), 3);
  EXPECT_EQ(work_of_s(), (Rows{{7, "seven again"}}));

  InstanceWrite from_absent = Advance(MustGet("s"));
  from_absent.remove_work = {40};
  from_absent.add_work = {{"s", 8, "task", "eight", 4}};
  ASSERT_EQ(CommitOne(from_absent), 4);
  EXPECT_EQ(work_of_s(), (Rows{{7, "seven again"}, {8, "eight"}}));

  InstanceWrite same_id = Advance(MustGet("s"));
  same_id.remove_work = {8};
  same_id.add_work = {{"s", 8, "task", "eight, re-issued", 5}};
  ASSERT_EQ(CommitOne(same_id), 5);
  EXPECT_EQ(work_of_s(), (Rows{{7, "seven again"}, {8, "eight, re-issued"}}));
}

// --- inbox ---

TEST_P(StoreConformanceTest, InboxHoldsEventsInOrderUntilCleared) {
  InstanceWrite insert = Insert("i");
  insert.row.suspended = true;
  insert.add_inbox = {{"i", 1, "event-1"}, {"i", 0, std::string("event\0zero", 10)}};
  ASSERT_EQ(CommitOne(insert), 1);
  InstanceWrite more = Advance(MustGet("i"));
  more.add_inbox = {{"i", 2, "event-2"}};
  ASSERT_EQ(CommitOne(more), 2);

  Result<std::vector<InboxRow>> inbox = store().GetInbox("i");
  ASSERT_TRUE(inbox.ok());
  ASSERT_EQ(inbox->size(), 3u);
  EXPECT_EQ((*inbox)[0].seq, 0);
  EXPECT_EQ((*inbox)[0].payload, std::string("event\0zero", 10));
  EXPECT_EQ((*inbox)[2].payload, "event-2");
  EXPECT_EQ((*inbox)[2].instance_id, "i");

  InstanceWrite resume = Advance(MustGet("i"));
  resume.row.suspended = false;
  resume.clear_inbox = true;
  resume.add_inbox = {{"i", 3, "after-clear"}};  // cleared first, then added
  ASSERT_EQ(CommitOne(resume), 3);
  inbox = store().GetInbox("i");
  ASSERT_TRUE(inbox.ok());
  ASSERT_EQ(inbox->size(), 1u);
  EXPECT_EQ((*inbox)[0].payload, "after-clear");
  Result<std::vector<InboxRow>> none = store().GetInbox("nobody");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_P(StoreConformanceTest, TakenInboxSeqConflictsUnlessTheInboxIsCleared) {
  InstanceWrite insert = Insert("i");
  insert.add_inbox = {{"i", 0, "first"}};
  ASSERT_EQ(CommitOne(insert), 1);
  InstanceWrite again = Advance(MustGet("i"));
  again.add_inbox = {{"i", 0, "second"}};
  std::vector<WriteResult> results = Commit({again});
  EXPECT_EQ(results[0].status.code(), StatusCode::kConflict) << results[0].status.ToString();
  EXPECT_EQ(MustGet("i").row_version, 1);

  again.clear_inbox = true;
  ASSERT_EQ(CommitOne(again), 2);
  Result<std::vector<InboxRow>> inbox = store().GetInbox("i");
  ASSERT_TRUE(inbox.ok());
  ASSERT_EQ(inbox->size(), 1u);
  EXPECT_EQ((*inbox)[0].payload, "second");
}

TEST_P(StoreConformanceTest, MalformedWritesAreInvalid) {
  InstanceWrite two_seq_zero = Insert("a");
  two_seq_zero.history.push_back({"a", 0, 1, "[]"});
  InstanceWrite two_inbox_seqs = Insert("b");
  two_inbox_seqs.add_inbox = {{"b", 4, "x"}, {"b", 4, "y"}};
  InstanceWrite huge_id = Insert("c");
  huge_id.add_work = {{"c", uint64_t{1} << 63, "task", "", 1}};
  InstanceWrite negative = Insert("d");
  negative.expected_version = -1;
  std::vector<WriteResult> results = Commit({two_seq_zero, two_inbox_seqs, huge_id, negative});
  for (const WriteResult& result : results) {
    EXPECT_EQ(result.status.code(), StatusCode::kInvalidArgument) << result.status.ToString();
  }
  Result<StoreStats> stats = store().Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->instances, 0);
}

// --- listing ---

TEST_P(StoreConformanceTest, ListIsNewestFirstWithoutSnapshots) {
  Commit({Insert("old", 100), Insert("new", 300), Insert("mid", 200)});
  Result<InstancePage> page = store().ListInstances({});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->rows.size(), 3u);
  EXPECT_EQ(page->rows[0].id, "new");
  EXPECT_EQ(page->rows[1].id, "mid");
  EXPECT_EQ(page->rows[2].id, "old");
  EXPECT_TRUE(page->next_cursor.empty());
  for (const InstanceRow& row : page->rows) {
    EXPECT_TRUE(row.snapshot.empty());
    EXPECT_EQ(row.input_json, R"({"order":1})");
    EXPECT_EQ(row.row_version, 1);
  }
}

TEST_P(StoreConformanceTest, ListFilters) {
  std::vector<InstanceWrite> writes;
  for (int instance_idx = 0; instance_idx < 12; ++instance_idx) {
    InstanceWrite write = Insert("i" + std::to_string(100 + instance_idx), 1000 + instance_idx);
    write.row.status = instance_idx % 3 == 0 ? "completed" : "running";
    write.row.namespace_ = instance_idx % 2 == 0 ? "even" : "odd";
    write.row.name = instance_idx < 6 ? "low" : "high";
    write.row.version = instance_idx % 4 == 0 ? "2" : "1";
    writes.push_back(write);
  }
  Commit(writes);
  auto ids = [&](InstanceFilter filter) { return ListIds(std::move(filter)); };

  InstanceFilter completed;
  completed.status = "completed";
  EXPECT_EQ(ids(completed), (std::vector<std::string>{"i109", "i106", "i103", "i100"}));
  InstanceFilter even_low;
  even_low.namespace_ = "even";
  even_low.name = "low";
  EXPECT_EQ(ids(even_low), (std::vector<std::string>{"i104", "i102", "i100"}));
  InstanceFilter v2;
  v2.namespace_ = "even";
  v2.name = "high";
  v2.version = "2";
  EXPECT_EQ(ids(v2), (std::vector<std::string>{"i108"}));
  InstanceFilter only_name;
  only_name.name = "high";
  EXPECT_EQ(ids(only_name).size(), 6u);
  InstanceFilter window;
  window.since = 1003;
  window.until = 1006;
  EXPECT_EQ(ids(window), (std::vector<std::string>{"i105", "i104", "i103"}));
  InstanceFilter combined;
  combined.status = "running";
  combined.namespace_ = "odd";
  combined.since = 1004;
  EXPECT_EQ(ids(combined), (std::vector<std::string>{"i111", "i107", "i105"}));
  InstanceFilter nothing;
  nothing.status = "cancelled";
  EXPECT_TRUE(ids(nothing).empty());
}

TEST_P(StoreConformanceTest, ListPagesWithACursorWithoutDuplicatesOrGaps) {
  // 53 instances over 10 distinct created_at values: many ties, which the id breaks.
  std::vector<InstanceWrite> writes;
  for (int instance_idx = 0; instance_idx < 53; ++instance_idx) {
    InstanceWrite write = Insert("p" + std::to_string(instance_idx), 1000 + instance_idx % 10);
    write.row.status = instance_idx % 2 == 0 ? "running" : "completed";
    writes.push_back(write);
  }
  Commit(writes);

  for (const std::string& status : {std::string(), std::string("running")}) {
    for (int limit : {1, 5, 7, 53, 100}) {
      InstanceFilter filter;
      filter.status = status;
      filter.limit = limit;
      std::vector<std::pair<Millis, std::string>> seen;
      int pages = 0;
      while (true) {
        Result<InstancePage> page = store().ListInstances(filter);
        ASSERT_TRUE(page.ok()) << page.status().ToString();
        ASSERT_LE(static_cast<int>(page->rows.size()), limit);
        for (const InstanceRow& row : page->rows) seen.emplace_back(row.created_at, row.id);
        ++pages;
        ASSERT_LT(pages, 100);
        if (page->next_cursor.empty()) break;
        EXPECT_EQ(static_cast<int>(page->rows.size()), limit);  // no short page before the end
        filter.cursor = page->next_cursor;
      }
      const size_t expected = status.empty() ? 53 : 27;
      ASSERT_EQ(seen.size(), expected) << "status '" << status << "' limit " << limit;
      // Strictly descending by (created_at, id): no duplicates, and the order is total.
      for (size_t row_idx = 1; row_idx < seen.size(); ++row_idx) {
        EXPECT_GT(seen[row_idx - 1], seen[row_idx]);
      }
      EXPECT_EQ(pages, static_cast<int>((expected + limit - 1) / limit));
    }
  }
}

TEST_P(StoreConformanceTest, ListFiltersByAnyOfSeveralStatuses) {
  // The dead-letter view asks for faulted or compensation_failed instances in one page.
  std::vector<InstanceWrite> writes;
  const char* statuses[] = {"faulted", "completed", "compensation_failed", "running"};
  for (int instance_idx = 0; instance_idx < 12; ++instance_idx) {
    InstanceWrite write = Insert("s" + std::to_string(instance_idx), 1000 + instance_idx);
    write.row.status = statuses[instance_idx % 4];
    writes.push_back(write);
  }
  Commit(writes);
  InstanceFilter filter;
  filter.statuses = {"faulted", "compensation_failed"};
  filter.limit = 4;
  std::vector<std::string> seen;
  while (true) {
    Result<InstancePage> page = store().ListInstances(filter);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (const InstanceRow& row : page->rows) {
      EXPECT_TRUE(row.status == "faulted" || row.status == "compensation_failed") << row.status;
      seen.push_back(row.id);
    }
    if (page->next_cursor.empty()) break;
    filter.cursor = page->next_cursor;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"s10", "s8", "s6", "s4", "s2", "s0"}));
  // With `status` too, both apply.
  InstanceFilter both;
  both.status = "faulted";
  both.statuses = {"faulted", "compensation_failed"};
  Result<InstancePage> page = store().ListInstances(both);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->rows.size(), 3u);
}

TEST_P(StoreConformanceTest, ListRejectsABadCursorAndLimit) {
  ASSERT_EQ(CommitOne(Insert("a")), 1);
  for (const char* cursor : {"not a cursor!", "%%%", "Zm9v", "MTpub3RhbnVt"}) {
    InstanceFilter filter;
    filter.cursor = cursor;
    Result<InstancePage> page = store().ListInstances(filter);
    ASSERT_FALSE(page.ok()) << cursor;
    EXPECT_EQ(page.status().code(), StatusCode::kInvalidArgument);
  }
  InstanceFilter zero;
  zero.limit = 0;
  EXPECT_EQ(store().ListInstances(zero).status().code(), StatusCode::kInvalidArgument);
}

// --- recovery, retention, stats ---

TEST_P(StoreConformanceTest, StalledInstancesHaveNoTimerNoWorkAndAreLive) {
  InstanceWrite stalled = Insert("stalled");
  InstanceWrite with_timer = Insert("with-timer");
  with_timer.add_timers = {{"with-timer", 1, 10}};
  InstanceWrite with_work = Insert("with-work");
  with_work.add_work = {{"with-work", 1, "task", "", 1}};
  InstanceWrite suspended = Insert("suspended");
  suspended.row.suspended = true;
  InstanceWrite ended = Insert("ended");
  ended.row.status = "completed";
  ended.row.ended_at = 2000;
  InstanceWrite also_stalled = Insert("also-stalled");
  Commit({stalled, with_timer, with_work, suspended, ended, also_stalled});

  Result<std::vector<std::string>> ids = store().ListStalledInstances(10);
  ASSERT_TRUE(ids.ok());
  std::vector<std::string> sorted = *ids;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, (std::vector<std::string>{"also-stalled", "stalled"}));
  Result<std::vector<std::string>> one = store().ListStalledInstances(1);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->size(), 1u);

  InstanceWrite consumed = Advance(MustGet("with-work"));
  consumed.remove_work = {1};
  ASSERT_EQ(CommitOne(consumed), 2);
  ids = store().ListStalledInstances(10);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(ids->size(), 3u);
}

TEST_P(StoreConformanceTest, PruneDeletesEndedInstancesWithTheirRowsInBatches) {
  std::vector<InstanceWrite> writes;
  for (int instance_idx = 0; instance_idx < 25; ++instance_idx) {
    std::string id = "e" + std::to_string(instance_idx);
    InstanceWrite write = Insert(id);
    write.row.status = "completed";
    write.row.ended_at = 1000 + instance_idx;  // e0..e24 end at 1000..1024
    write.row.idempotency_key = "key-" + id;
    write.add_timers = {{id, 1, 5}};
    write.add_work = {{id, 1, "task", "", 1}};
    write.add_inbox = {{id, 0, "event"}};
    writes.push_back(write);
  }
  InstanceWrite live = Insert("live");
  live.add_timers = {{"live", 1, 5}};
  writes.push_back(live);
  // Dead letters wait for an operator: never pruned, however old.
  for (const char* status : {"faulted", "compensation_failed"}) {
    InstanceWrite dead = Insert(std::string("dead-") + status);
    dead.row.status = status;
    dead.row.ended_at = 900;
    writes.push_back(dead);
  }
  Commit(writes);

  Result<int64_t> pruned = store().PruneEnded(1020, 3);  // e0..e19, in batches of 3
  ASSERT_TRUE(pruned.ok()) << pruned.status().ToString();
  EXPECT_EQ(*pruned, 20);
  for (int instance_idx = 0; instance_idx < 25; ++instance_idx) {
    std::string id = "e" + std::to_string(instance_idx);
    EXPECT_EQ(Exists(id), instance_idx >= 20) << id;
    EXPECT_EQ(History(id).empty(), instance_idx < 20) << id;
    Result<std::vector<InboxRow>> inbox = store().GetInbox(id);
    ASSERT_TRUE(inbox.ok());
    EXPECT_EQ(inbox->empty(), instance_idx < 20) << id;
  }
  EXPECT_TRUE(Exists("live"));
  EXPECT_EQ(Timers().size(), 6u);  // e20..e24 and live
  EXPECT_EQ(AllWork().size(), 5u);

  Result<std::optional<std::string>> freed = store().FindByIdempotencyKey("key-e3");
  ASSERT_TRUE(freed.ok());
  EXPECT_FALSE(freed->has_value());

  Result<int64_t> again = store().PruneEnded(1020, 3);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);
  Result<int64_t> rest = store().PruneEnded(INT64_MAX, 100);
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(*rest, 5);
  EXPECT_TRUE(Exists("live"));  // never ended: never pruned
  EXPECT_TRUE(Exists("dead-faulted"));
  EXPECT_TRUE(Exists("dead-compensation_failed"));
  EXPECT_FALSE(store().PruneEnded(1, 0).ok());
}

TEST_P(StoreConformanceTest, StatsCountRows) {
  ASSERT_TRUE(store().PutDefinition(Def("1", "a", 1)).ok());
  InstanceWrite a = Insert("a");
  a.add_timers = {{"a", 1, 1}, {"a", 2, 2}};
  a.add_work = {{"a", 1, "task", "", 1}};
  Commit({a, Insert("b")});
  Result<StoreStats> stats = store().Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->definitions, 1);
  EXPECT_EQ(stats->instances, 2);
  EXPECT_EQ(stats->timers, 2);
  EXPECT_EQ(stats->work, 1);
}

// --- durability and concurrency ---

TEST_P(StoreConformanceTest, ReopenSeesEverythingCommitted) {
  ASSERT_TRUE(store().PutDefinition(Def("1.0.0", "doc", 10)).ok());
  InstanceWrite a = Insert("a");
  a.row.idempotency_key = "ka";
  a.add_timers = {{"a", 4, 40}};
  a.add_work = {{"a", 2, "task", "cmd", 3}};
  a.add_inbox = {{"a", 0, "held"}};
  Commit({a, Insert("b")});
  ASSERT_EQ(CommitOne(Advance(MustGet("b"), "waiting")), 2);

  Reopen();
  EXPECT_EQ(MustGet("a").snapshot, Row("a").snapshot);
  EXPECT_EQ(MustGet("b").row_version, 2);
  EXPECT_EQ(MustGet("b").status, "waiting");
  EXPECT_EQ(History("b").size(), 2u);
  ASSERT_EQ(Timers().size(), 1u);
  EXPECT_EQ(Timers()[0].due_at, 40);
  ASSERT_EQ(AllWork().size(), 1u);
  EXPECT_EQ(AllWork()[0].payload, "cmd");
  Result<std::vector<InboxRow>> inbox = store().GetInbox("a");
  ASSERT_TRUE(inbox.ok());
  EXPECT_EQ(inbox->size(), 1u);
  Result<std::optional<std::string>> by_key = store().FindByIdempotencyKey("ka");
  ASSERT_TRUE(by_key.ok() && by_key->has_value());
  Result<std::optional<Definition>> def = store().GetDefinition("default", "order", "");
  ASSERT_TRUE(def.ok() && def->has_value());
  EXPECT_EQ((*def)->content, "doc");
  // And the store still writes after a reopen.
  ASSERT_EQ(CommitOne(Advance(MustGet("b"), "completed")), 3);
}

TEST_P(StoreConformanceTest, ConcurrentCommitsAndReadsFromManyThreads) {
  constexpr int kWriters = 3;
  constexpr int kBatches = 20;
  constexpr int kBatchSize = 10;
  std::atomic<bool> done{false};
  std::atomic<int> read_failures{0};
  std::vector<std::thread> threads;
  for (int writer = 0; writer < kWriters; ++writer) {
    threads.emplace_back([&, writer] {
      for (int batch = 0; batch < kBatches; ++batch) {
        std::vector<InstanceWrite> writes;
        for (int item = 0; item < kBatchSize; ++item) {
          writes.push_back(Insert("t" + std::to_string(writer) + "-" + std::to_string(batch) + "-" +
                                  std::to_string(item)));
        }
        std::vector<WriteResult> results;
        Status status = store().CommitTransitions(writes, &results);
        EXPECT_TRUE(status.ok()) << status.ToString();
        for (const WriteResult& result : results) EXPECT_TRUE(result.status.ok());
      }
    });
  }
  std::thread reader([&] {
    while (!done.load()) {
      InstanceFilter filter;
      filter.limit = 5;
      if (!store().ListInstances(filter).ok() || !store().Stats().ok() ||
          !store().GetInstance("t0-0-0").ok()) {
        read_failures.fetch_add(1);
      }
    }
  });
  for (std::thread& thread : threads) thread.join();
  done.store(true);
  reader.join();
  EXPECT_EQ(read_failures.load(), 0);
  Result<StoreStats> stats = store().Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->instances, kWriters * kBatches * kBatchSize);
}

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreConformanceTest, ::testing::Values(SqliteBackendFactory()),
                         [](const ::testing::TestParamInfo<BackendFactory>& param_info) {
                           return param_info.param.name;
                         });

}  // namespace
}  // namespace baton::store::testing
