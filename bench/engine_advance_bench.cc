// Interpreter cost, printed side by side with bare libjq (issue 2's figures):
//  1. a `set` task with a small jq expression vs the bare libjq evaluation of that expression;
//  2. the per-iteration cost of a sequential `for` of set tasks at N = 10k, 100k and 1M,
//     to show that the cost of task N does not grow with N.
// Run a Release build: build/release/bench/engine_advance_bench
// `--profile N` runs only a loop of N set tasks, `--profile-bare N` only the bare evaluation
// (for perf or valgrind --tool=callgrind).
// The loops include the one-time compile (~20 ms) of the hot expression's own program after
// its first 20,000 evaluations (expr/program_set.h, kHotEvaluations): 100 ns per task at
// N = 200,000; below 20,000 iterations the expression stays on the shared program.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

extern "C" {
#include <jq.h>
}

#include "engine/interpreter.h"
#include "engine/workflow.h"
#include "model/document.h"

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

const char* kExpr = "{count: (.count + 1), label: \"x\"}";

double BareJqNanos(int n) {
  jq_state* jq = jq_init();
  if (!jq_compile(jq, kExpr)) return -1;
  jv input = jv_parse("{\"count\": 1, \"label\": \"x\"}");
  auto start = Clock::now();
  for (int i = 0; i < n; ++i) {
    jq_start(jq, jv_copy(input), 0);
    jv out = jq_next(jq);
    jv_free(out);
  }
  auto end = Clock::now();
  jv_free(input);
  jq_teardown(&jq);
  return Seconds(start, end) * 1e9 / n;
}

std::shared_ptr<const baton::engine::CompiledWorkflow> CompileDoc(const std::string& yaml) {
  auto doc = baton::model::ParseDocument(yaml, "bench.yaml");
  if (!doc.ok()) {
    std::fprintf(stderr, "%s\n", doc.status().message().c_str());
    std::exit(1);
  }
  auto wf = baton::engine::Compile(*doc, nullptr);
  if (!wf.ok()) {
    std::fprintf(stderr, "%s\n", wf.status().message().c_str());
    std::exit(1);
  }
  return *wf;
}

// Runs a `for` of `n` iterations of one set task to its end; returns seconds.
double RunLoop(int n, bool lifecycle, bool single_threaded = true) {
  std::string yaml = R"(document: {dsl: '1.0.3', namespace: bench, name: loop, version: '1.0.0'}
do:
  - loop:
      for:
        in: ${ [range(0; )" +
                     std::to_string(n) + R"()] }
      do:
        - step:
            set: '${ {count: (.count + 1), label: "x"} }'
)";
  auto wf = CompileDoc(yaml);
  wf->programs->SetSingleThreaded(single_threaded);
  baton::engine::Interpreter::Options options;
  options.record_task_lifecycle = lifecycle;
  baton::engine::Interpreter interpreter(options);
  baton::engine::InstanceState state;
  baton::Json input = *baton::Json::Parse(R"({"count": 0, "label": "x"})");
  auto start = Clock::now();
  baton::engine::Event e{1, baton::engine::InstanceStarted{"bench", input, 1}};
  uint64_t timer = 0;
  while (true) {
    auto t = interpreter.Advance(*wf, std::move(state), e);
    state = std::move(t->state);
    if (baton::engine::IsTerminal(state.status)) break;
    for (auto& c : t->commands) {
      if (auto* st = std::get_if<baton::engine::StartTimer>(&c)) timer = st->timer_id;
    }
    e = baton::engine::Event{1, baton::engine::TimerFired{timer}};  // the slice's yield timer
  }
  auto end = Clock::now();
  if (state.output.Get("count").AsInt() != n) {
    std::fprintf(stderr, "wrong result: %s\n", state.output.Dump().c_str());
    std::exit(1);
  }
  return Seconds(start, end);
}

}  // namespace

int main(int argc, char** argv) {
  // `--profile N`: only the loop of N set tasks, for perf or callgrind.
  if (argc == 3 && std::string(argv[1]) == "--profile") {
    int n = std::atoi(argv[2]);
    std::printf("%.0f ns/iteration\n", RunLoop(n, true) * 1e9 / n);
    return 0;
  }
  if (argc == 3 && std::string(argv[1]) == "--profile-bare") {
    std::printf("%.0f ns/evaluation\n", BareJqNanos(std::atoi(argv[2])));
    return 0;
  }
  const int kSetRuns = 200000;
  double bare = BareJqNanos(kSetRuns);
  // Per-task cost from a loop (includes the for bookkeeping, i.e. it is an upper bound).
  double loop_s = RunLoop(kSetRuns, true);
  double task = loop_s * 1e9 / kSetRuns;
  std::printf("bare libjq evaluation      : %8.0f ns\n", bare);
  std::printf("set task (in a for loop)   : %8.0f ns   ratio %.2fx (target <= 2x)\n", task,
              task / bare);
  double no_lifecycle = RunLoop(kSetRuns, false) * 1e9 / kSetRuns;
  std::printf("set task, no task events   : %8.0f ns   ratio %.2fx\n", no_lifecycle,
              no_lifecycle / bare);
  double shared = RunLoop(kSetRuns, true, false) * 1e9 / kSetRuns;
  std::printf(
      "set task, thread-shareable : %8.0f ns   ratio %.2fx (results detached for other "
      "threads, as the server will need)\n",
      shared, shared / bare);
  std::printf(
      "\nper-iteration cost of a sequential for (must not grow with N; at 10k the expression "
      "is never hot enough for a program of its own):\n");
  for (int n : {10000, 100000, 1000000}) {
    double s = RunLoop(n, true);
    std::printf("  N = %8d : %8.0f ns/iteration  (%.2f s)\n", n, s * 1e9 / n, s);
  }
  return 0;
}
