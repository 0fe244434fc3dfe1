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
#include <benchmark/benchmark.h>

extern "C" {
#include <jq.h>
}

#include <string>
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
