// Cost of the state codec, which runs after every transition of every instance:
//  - a finished 5-task workflow (the common final snapshot);
//  - a fork of 500 branches, each waiting on a call (a wide mid-flight tree);
//  - a parallel `for` over 10,000 items with 100 iterations in flight;
//  - a command and an event (work rows and held events).
// Run a Release build: build/release/bench/codec_bench
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <variant>
#include <vector>

#include <benchmark/benchmark.h>

#include "engine/codec.h"
#include "engine/interpreter.h"
#include "engine/workflow.h"
#include "model/document.h"

namespace {

using baton::Json;
using namespace baton::engine;

std::shared_ptr<const CompiledWorkflow> CompileDoc(const std::string& yaml) {
  auto doc = baton::model::ParseDocument(yaml, "bench.yaml");
  if (!doc.ok()) {
    std::fprintf(stderr, "%s\n", doc.status().message().c_str());
    std::exit(1);
  }
  auto wf = Compile(*doc, nullptr);
  if (!wf.ok()) {
    std::fprintf(stderr, "%s\n", wf.status().message().c_str());
    std::exit(1);
  }
  return *wf;
}

Json Parse(const char* text) { return *Json::Parse(text); }

// Starts an instance and feeds it `answers` successful results (in activity id order), so
// that its state is a realistic one.
InstanceState Drive(const CompiledWorkflow& wf, const Json& input, int answers) {
  Interpreter interpreter;
  auto t = interpreter.Advance(wf, InstanceState(),
                               Event{1700000000000, InstanceStarted{"bench", input, 7}});
  if (!t.ok()) std::exit(1);
  InstanceState state = std::move(t->state);
  std::vector<uint64_t> pending;
  for (const auto& c : t->commands) {
    if (auto* e = std::get_if<ExecuteTask>(&c)) pending.push_back(e->activity_id);
  }
  for (int i = 0; i < answers && !pending.empty(); ++i) {
    uint64_t id = pending.front();
    pending.erase(pending.begin());
    auto next = interpreter.Advance(
        wf, std::move(state),
        Event{1700000000000 + i,
              TaskSucceeded{id, Parse(R"({"status": 200, "body": {"ok": true}})")}});
    if (!next.ok()) std::exit(1);
    state = std::move(next->state);
    for (const auto& c : next->commands) {
      if (auto* e = std::get_if<ExecuteTask>(&c)) pending.push_back(e->activity_id);
    }
  }
  return state;
}

const char* kInput = R"({"order": {"id": "A-1029", "customer": {"name": "Ada Lovelace",
  "email": "ada@example.com"}, "lines": [{"sku": "X1", "qty": 2, "price": 9.95},
  {"sku": "Y7", "qty": 1, "price": 120}], "notes": "leave at the door"}})";

struct Case {
  std::shared_ptr<const CompiledWorkflow> wf;
  InstanceState state;
};

Case Finished() {
  auto wf = CompileDoc(R"(document: {dsl: '1.0.3', namespace: bench, name: five, version: '1.0.0'}
do:
  - a: {set: {order: '${ .order }', step: 1}}
  - b: {set: {order: '${ .order }', step: 2}}
  - c: {set: {order: '${ .order }', total: '${ [.order.lines[] | .qty * .price] | add }'}}
  - d: {set: {order: '${ .order }', total: '${ .total }', checked: true}}
  - e: {set: {id: '${ .order.id }', total: '${ .total }'}}
)");
  InstanceState s = Drive(*wf, Parse(kInput), 0);
  return {wf, std::move(s)};
}

Case Fork(int branches) {
  std::string yaml =
      "document: {dsl: '1.0.3', namespace: bench, name: fork, version: '1.0.0'}\n"
      "do:\n  - f:\n      fork:\n        branches:\n";
  for (int i = 0; i < branches; ++i) {
    yaml += "          - b" + std::to_string(i) +
            ":\n              call: http\n              with: {method: post, endpoint: "
            "'http://svc/orders', body: '${ .order }'}\n";
  }
  auto wf = CompileDoc(yaml);
  // A tenth of the branches have answered.
  InstanceState s = Drive(*wf, Parse(kInput), branches / 10);
  return {wf, std::move(s)};
}

Case ParallelFor() {
  auto wf =
      CompileDoc(R"yaml(document: {dsl: '1.0.3', namespace: bench, name: map, version: '1.0.0'}
do:
  - fan:
      for:
        each: item
        in: '${ [range(0; 10000)] | map({id: ., name: "item number \(.)"}) }'
        concurrency: 100
      do:
        - call:
            call: http
            with: {method: get, endpoint: 'http://svc/items/{id}'}
            input:
              from: '${ $item }'
)yaml");
  InstanceState s = Drive(*wf, Parse(kInput), 500);
  return {wf, std::move(s)};
}

void Encode(benchmark::State& st, Case (*make)()) {
  Case c = make();
  size_t bytes = 0;
  for (auto _ : st) {
    std::string b = EncodeState(*c.wf, c.state);
    bytes = b.size();
    benchmark::DoNotOptimize(b);
  }
  st.counters["bytes"] = static_cast<double>(bytes);
}

void Decode(benchmark::State& st, Case (*make)()) {
  Case c = make();
  std::string b = EncodeState(*c.wf, c.state);
  for (auto _ : st) {
    auto s = DecodeState(*c.wf, b);
    if (!s.ok()) st.SkipWithError(s.status().message().c_str());
    benchmark::DoNotOptimize(s);
  }
  st.counters["bytes"] = static_cast<double>(b.size());
}

Case Fork500() { return Fork(500); }

BENCHMARK_CAPTURE(Encode, finished_5_tasks, Finished);
BENCHMARK_CAPTURE(Decode, finished_5_tasks, Finished);
BENCHMARK_CAPTURE(Encode, fork_500_branches, Fork500);
BENCHMARK_CAPTURE(Decode, fork_500_branches, Fork500);
BENCHMARK_CAPTURE(Encode, parallel_for_10k_items, ParallelFor);
BENCHMARK_CAPTURE(Decode, parallel_for_10k_items, ParallelFor);

// For comparison: the same fork state's values as JSON text (what a text codec would cost).
void DumpJsonTextFork500(benchmark::State& st) {
  Case c = Fork500();
  for (auto _ : st) {
    std::string out;
    std::function<void(const Node&)> walk = [&](const Node& n) {
      out += n.data.Dump();
      out += n.raw_input.Dump();
      out += n.input.Dump();
      out += n.outputs.Dump();
      for (const auto& child : n.children) walk(*child);
    };
    walk(*c.state.root);
    benchmark::DoNotOptimize(out);
    st.counters["bytes"] = static_cast<double>(out.size());
  }
}
BENCHMARK(DumpJsonTextFork500);

void CommandRoundTrip(benchmark::State& st) {
  Command c = ExecuteTask{42,
                          "/do/0/f/fork/branches/7/b7",
                          "http",
                          Parse(R"({"method": "POST", "endpoint": "http://svc/orders",
                            "headers": {}, "query": {}, "body": {"id": "A-1029"}})"),
                          0,
                          "bench:/do/0/f/fork/branches/7/b7:0",
                          0};
  for (auto _ : st) {
    auto d = DecodeCommand(EncodeCommand(c));
    benchmark::DoNotOptimize(d);
  }
}
BENCHMARK(CommandRoundTrip);

void EventRoundTrip(benchmark::State& st) {
  Event e{1700000000000, TaskSucceeded{42, Parse(R"({"status": 200, "body": {"ok": true}})")}};
  for (auto _ : st) {
    auto d = DecodeEvent(EncodeEvent(e));
    benchmark::DoNotOptimize(d);
  }
}
BENCHMARK(EventRoundTrip);

}  // namespace

BENCHMARK_MAIN();
