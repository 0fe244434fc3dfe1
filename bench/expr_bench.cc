// Cost of baton's jq layer (expr::ProgramSet) against bare libjq.
//
// The engine's target: a `set` task costs at most 2x the bare libjq evaluation of the same
// small expression, so ProgramSet::Evaluate must add little beyond jq_start/jq_next. Compare
//   BM_BareLibjq             a jq_state compiled with just the expression, first result taken
//   BM_ProgramSet/300        the same expression inside a 300-expression set, $input and
//                            $context bound (the expression references neither)
// and, for the variables, BM_BareLibjqWithVars against BM_ProgramSetWithVars;
// BM_ProgramSetSingleThreaded is the same with SetSingleThreaded(true). BM_Compile/300 is
// loading a 300-expression document (target: under 100 ms).
//
// Each thread evaluates on a jq_state of its own (program_set.h): BM_ProgramSetShared runs
// one set on 1 and 2 threads at once (with a shared state they would take turns), and
// BM_FirstEvaluateOnNewThread/N is what a thread pays on its first evaluation of an
// N-expression document (CPU time): one jq_compile of the whole program, one evaluation.
#include <benchmark/benchmark.h>

extern "C" {
#include <jq.h>
}

#include <ctime>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "expr/program_set.h"

namespace baton::expr {
namespace {

constexpr char kExpression[] = "{a: (.x + 1)}";
constexpr char kVarsExpression[] = "{a: (.x + 1), b: $input.y, c: $context.z}";

Json Parse(const char* text) { return *Json::Parse(text); }

// A document's worth of expressions; `target` sits in the middle.
void AddExpressions(ProgramSet* set, int count, const std::string& target, ExprId* target_id) {
  for (int i = 0; i < count; ++i) {
    if (i == count / 2) {
      *target_id = set->Add(target, {});
      continue;
    }
    switch (i % 3) {
      case 0:
        set->Add("{a: (.x + " + std::to_string(i) + ")}", {});
        break;
      case 1:
        set->Add("$input.y + " + std::to_string(i), {});
        break;
      default:
        set->Add("\"v\\(.x) \\($item // " + std::to_string(i) + ")\"", {"item"});
        break;
    }
  }
}

jq_state* CompileBare(const char* program) {
  jq_state* jq = jq_init();
  if (!jq_compile(jq, program)) std::abort();
  return jq;
}

void RunBare(benchmark::State& state, jq_state* jq, jv input) {
  for (auto _ : state) {
    jq_start(jq, jv_copy(input), 0);
    jv result = jq_next(jq);
    benchmark::DoNotOptimize(result);
    jv_free(result);
  }
  jv_free(input);
  jq_teardown(&jq);
}

void BM_BareLibjq(benchmark::State& state) {
  RunBare(state, CompileBare(kExpression), jv_parse("{\"x\": 1}"));
}
BENCHMARK(BM_BareLibjq);

// The same variables, bound the way the implementers' notes suggest for one program per
// expression.
void BM_BareLibjqWithVars(benchmark::State& state) {
  std::string program =
      std::string(". as [$input, $context, $__d] | $__d | (") + kVarsExpression + ")";
  RunBare(state, CompileBare(program.c_str()), jv_parse(R"([{"y": 2}, {"z": 3}, {"x": 1}])"));
}
BENCHMARK(BM_BareLibjqWithVars);

void RunSet(benchmark::State& state, const char* expression, bool single_threaded = false) {
  ProgramSet set;
  set.SetSingleThreaded(single_threaded);
  ExprId id = 0;
  AddExpressions(&set, static_cast<int>(state.range(0)), expression, &id);
  std::vector<CompileError> errors;
  if (!set.Compile(&errors).ok()) std::abort();
  Json data = Parse(R"({"x": 1})");
  Json input = Parse(R"({"y": 2})");
  Json context = Parse(R"({"z": 3})");
  Bindings bindings;
  bindings.args[static_cast<int>(Arg::kInput)] = &input;
  bindings.args[static_cast<int>(Arg::kContext)] = &context;
  for (auto _ : state) {
    Result<Json> result = set.Evaluate(id, data, bindings);
    benchmark::DoNotOptimize(result);
  }
}

void BM_ProgramSet(benchmark::State& state) { RunSet(state, kExpression); }
BENCHMARK(BM_ProgramSet)->Arg(1)->Arg(300);

void BM_ProgramSetWithVars(benchmark::State& state) { RunSet(state, kVarsExpression); }
BENCHMARK(BM_ProgramSetWithVars)->Arg(300);

// SetSingleThreaded(true): no detaching, no reset after the evaluation.
void BM_ProgramSetSingleThreaded(benchmark::State& state) { RunSet(state, kExpression, true); }
BENCHMARK(BM_ProgramSetSingleThreaded)->Arg(1)->Arg(300);

// A compiled 300-expression set and the id of its target expression.
struct SharedSet {
  SharedSet() {
    AddExpressions(&set, 300, kExpression, &id);
    std::vector<CompileError> errors;
    if (!set.Compile(&errors).ok()) std::abort();
  }
  ProgramSet set;
  ExprId id = 0;
};

SharedSet& TheSharedSet() {
  static SharedSet shared;
  return shared;
}

void BM_ProgramSetShared(benchmark::State& state) {
  SharedSet& shared = TheSharedSet();
  // Every thread has its own values: Json handles that share storage must stay on one thread.
  Json data = Parse(R"({"x": 1})");
  // A thread's first evaluation compiles its state; keep that out of the timing.
  if (!shared.set.Evaluate(shared.id, data, {}).ok()) std::abort();
  for (auto _ : state) {
    Result<Json> result = shared.set.Evaluate(shared.id, data, {});
    benchmark::DoNotOptimize(result);
  }
}
BENCHMARK(BM_ProgramSetShared)->Threads(1)->Threads(2)->UseRealTime();

// The CPU time of the new thread's first evaluation (its compile, mostly): real time would
// mostly measure the other users of a shared machine.
void BM_FirstEvaluateOnNewThread(benchmark::State& state) {
  ProgramSet set;
  ExprId id = 0;
  AddExpressions(&set, static_cast<int>(state.range(0)), kExpression, &id);
  std::vector<CompileError> errors;
  if (!set.Compile(&errors).ok()) std::abort();
  for (auto _ : state) {
    double seconds = 0;
    std::thread thread([&set, id, &seconds] {
      Json data = Parse(R"({"x": 1})");
      timespec start;
      timespec end;
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start);
      Result<Json> result = set.Evaluate(id, data, {});
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &end);
      if (!result.ok()) std::abort();
      seconds = static_cast<double>(end.tv_sec - start.tv_sec) +
                static_cast<double>(end.tv_nsec - start.tv_nsec) * 1e-9;
    });
    thread.join();
    state.SetIterationTime(seconds);
  }
}
BENCHMARK(BM_FirstEvaluateOnNewThread)
    ->Arg(1)
    ->Arg(30)
    ->Arg(300)
    ->Unit(benchmark::kMillisecond)
    ->UseManualTime();

void BM_CompileBare(benchmark::State& state) {
  for (auto _ : state) {
    jq_state* jq = CompileBare(kExpression);
    jq_teardown(&jq);
  }
}
BENCHMARK(BM_CompileBare)->Unit(benchmark::kMillisecond);

void BM_Compile(benchmark::State& state) {
  for (auto _ : state) {
    ProgramSet set;
    ExprId id = 0;
    AddExpressions(&set, static_cast<int>(state.range(0)), kExpression, &id);
    std::vector<CompileError> errors;
    if (!set.Compile(&errors).ok()) std::abort();
  }
}
BENCHMARK(BM_Compile)->Arg(300)->Arg(1000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace baton::expr

BENCHMARK_MAIN();
