// SQLite store throughput (Google Benchmark). Every commit is real: WAL, synchronous=FULL,
// one fsync per CommitTransitions. items_per_second counts instance writes per second.
//
//   build/h-store-rel/bench/store_bench [--benchmark_filter=Insert]
//
// Benchmarks (the argument is the batch size, i.e. InstanceWrites per CommitTransitions):
//   BM_InsertInstances    new instance (300-byte snapshot) + 1 history row
//   BM_UpdateInstances    expected_version update (300-byte snapshot) + 1 history row
//   BM_TimersAndWork      update + add 1 timer and 1 work row, next commit removes them
//   BM_GetInstance, BM_ListInstances   reads beside a populated database
// The database lives in a fresh directory under $TMPDIR (or /tmp), removed afterwards.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include <benchmark/benchmark.h>
#include <stdlib.h>

#include "store/sqlite/sqlite_store.h"

namespace baton::store {
namespace {

class BenchDb {
 public:
  BenchDb() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "baton-store-bench-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) std::abort();
    dir_ = pattern;
    Result<std::unique_ptr<Store>> opened = OpenSqliteStore({dir_ + "/bench.db", true});
    if (!opened.ok()) {
      std::fprintf(stderr, "%s\n", opened.status().ToString().c_str());
      std::abort();
    }
    store_ = std::move(opened).value();
  }
  ~BenchDb() {
    store_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  Store& store() { return *store_; }

 private:
  std::string dir_;
  std::unique_ptr<Store> store_;
};

InstanceRow NewRow(const std::string& id, Millis now) {
  InstanceRow row;
  row.id = id;
  row.namespace_ = "bench";
  row.name = "order-fulfilment";
  row.version = "1.0.0";
  row.status = "running";
  row.snapshot = std::string(300, 'x');
  row.input_json = R"({"order":{"id":12345,"items":3}})";
  row.tasks_json = R"([{"ref":"/do/0/reserve","status":"running"}])";
  row.history_length = 1;
  row.created_at = now;
  row.updated_at = now;
  return row;
}

HistoryRow NewHistory(const std::string& id, int64_t seq, Millis now) {
  return {id, seq, now, R"([{"type":"task.started","ref":"/do/0/reserve"}])"};
}

void Commit(benchmark::State& state, Store& store, const std::vector<InstanceWrite>& writes) {
  std::vector<WriteResult> results;
  Status status = store.CommitTransitions(writes, &results);
  if (!status.ok()) {
    state.SkipWithError(status.ToString().c_str());
    return;
  }
  for (const WriteResult& result : results) {
    if (!result.status.ok()) {
      state.SkipWithError(result.status.ToString().c_str());
      return;
    }
  }
}

void BM_InsertInstances(benchmark::State& state) {
  BenchDb db;
  const int batch = static_cast<int>(state.range(0));
  int64_t next_id = 0;
  std::vector<InstanceWrite> writes(static_cast<size_t>(batch));
  for (auto _ : state) {
    state.PauseTiming();
    for (InstanceWrite& write : writes) {
      const std::string id = "inst-" + std::to_string(next_id++);
      write.row = NewRow(id, 1'700'000'000'000 + next_id);
      write.expected_version = 0;
      write.history = {NewHistory(id, 0, write.row.created_at)};
    }
    state.ResumeTiming();
    Commit(state, db.store(), writes);
  }
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_InsertInstances)->Arg(1)->Arg(100)->Arg(1000)->UseRealTime();

// `batch` instances, inserted; returns their rows at version 1.
std::vector<InstanceRow> Populate(benchmark::State& state, Store& store, int batch) {
  std::vector<InstanceWrite> writes;
  std::vector<InstanceRow> rows;
  for (int item = 0; item < batch; ++item) {
    InstanceWrite write;
    write.row = NewRow("inst-" + std::to_string(item), 1'700'000'000'000 + item);
    write.history = {NewHistory(write.row.id, 0, write.row.created_at)};
    rows.push_back(write.row);
    rows.back().row_version = 1;
    writes.push_back(std::move(write));
  }
  Commit(state, store, writes);
  return rows;
}

void BM_UpdateInstances(benchmark::State& state) {
  BenchDb db;
  const int batch = static_cast<int>(state.range(0));
  std::vector<InstanceRow> rows = Populate(state, db.store(), batch);
  std::vector<InstanceWrite> writes(static_cast<size_t>(batch));
  for (auto _ : state) {
    state.PauseTiming();
    for (size_t item = 0; item < rows.size(); ++item) {
      InstanceRow& row = rows[item];
      InstanceWrite& write = writes[item];
      write.expected_version = row.row_version;
      write.history = {NewHistory(row.id, row.history_length, row.updated_at + 1)};
      row.history_length += 1;
      row.updated_at += 1;
      row.row_version += 1;
      write.row = row;
    }
    state.ResumeTiming();
    Commit(state, db.store(), writes);
  }
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_UpdateInstances)->Arg(1)->Arg(100)->Arg(1000)->UseRealTime();

// Each write is an update that adds one timer and one work row (even rounds) or removes them
// (odd rounds): the shape of "a task started" / "its result came back".
void BM_TimersAndWork(benchmark::State& state) {
  BenchDb db;
  const int batch = static_cast<int>(state.range(0));
  std::vector<InstanceRow> rows = Populate(state, db.store(), batch);
  std::vector<InstanceWrite> writes(static_cast<size_t>(batch));
  int64_t round = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const bool add = round % 2 == 0;
    for (size_t item = 0; item < rows.size(); ++item) {
      InstanceRow& row = rows[item];
      InstanceWrite& write = writes[item];
      write = InstanceWrite{};
      write.expected_version = row.row_version;
      const uint64_t activity = static_cast<uint64_t>(round / 2 + 1);
      if (add) {
        write.add_timers = {{row.id, activity, row.updated_at + 60'000}};
        write.add_work = {{row.id, activity, "task", std::string(200, 'p'), row.updated_at}};
      } else {
        write.remove_timers = {activity};
        write.remove_work = {activity};
      }
      row.updated_at += 1;
      row.row_version += 1;
      write.row = row;
    }
    ++round;
    state.ResumeTiming();
    Commit(state, db.store(), writes);
  }
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_TimersAndWork)->Arg(1)->Arg(100)->Arg(1000)->UseRealTime();

void BM_GetInstance(benchmark::State& state) {
  BenchDb db;
  constexpr int kInstances = 10'000;
  for (int chunk = 0; chunk < kInstances / 1000; ++chunk) {
    std::vector<InstanceWrite> writes;
    for (int item = 0; item < 1000; ++item) {
      InstanceWrite write;
      write.row = NewRow("inst-" + std::to_string(chunk * 1000 + item), chunk * 1000 + item);
      writes.push_back(std::move(write));
    }
    Commit(state, db.store(), writes);
  }
  int64_t lookups = 0;
  for (auto _ : state) {
    Result<std::optional<InstanceRow>> row =
        db.store().GetInstance("inst-" + std::to_string((lookups * 7919) % kInstances));
    if (!row.ok() || !row->has_value()) state.SkipWithError("lookup failed");
    ++lookups;
  }
  state.SetItemsProcessed(lookups);
}
BENCHMARK(BM_GetInstance);

void BM_ListInstances(benchmark::State& state) {
  BenchDb db;
  constexpr int kInstances = 10'000;
  for (int chunk = 0; chunk < kInstances / 1000; ++chunk) {
    std::vector<InstanceWrite> writes;
    for (int item = 0; item < 1000; ++item) {
      InstanceWrite write;
      write.row = NewRow("inst-" + std::to_string(chunk * 1000 + item), chunk * 1000 + item);
      write.row.status = item % 10 == 0 ? "faulted" : "running";
      writes.push_back(std::move(write));
    }
    Commit(state, db.store(), writes);
  }
  InstanceFilter filter;
  filter.limit = static_cast<int>(state.range(0));
  filter.status = "faulted";
  int64_t rows = 0;
  for (auto _ : state) {
    Result<InstancePage> page = db.store().ListInstances(filter);
    if (!page.ok()) {
      state.SkipWithError(page.status().ToString().c_str());
      break;
    }
    rows += static_cast<int64_t>(page->rows.size());
    filter.cursor = page->next_cursor;  // walks the pages, then starts again
  }
  state.SetItemsProcessed(rows);
}
BENCHMARK(BM_ListInstances)->Arg(50);

}  // namespace
}  // namespace baton::store

BENCHMARK_MAIN();
