#include "expr/program_set.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

namespace baton::expr {
namespace {

Json J(std::string_view text) {
  Result<Json> parsed = Json::Parse(text);
  EXPECT_TRUE(parsed.ok()) << parsed.status().message();
  return parsed.ok() ? parsed.value() : Json();
}

Status CompileOk(ProgramSet* set) {
  std::vector<CompileError> errors;
  Status status = set->Compile(&errors);
  for (const CompileError& e : errors) ADD_FAILURE() << set->Text(e.id) << ": " << e.message;
  return status;
}

// Evaluates `id`; returns the result's JSON text, or "error: <message>".
std::string Eval(const ProgramSet& set, ExprId id, const Json& data,
                 const Bindings& bindings = {}) {
  Result<Json> r = set.Evaluate(id, data, bindings);
  if (!r.ok()) return "error: " + r.status().message();
  return r->Dump();
}

// Evaluates one expression in a set of its own.
std::string EvalOne(std::string_view text, std::string_view data = "null",
                    const Bindings& bindings = {}, const std::vector<std::string>& scoped = {}) {
  ProgramSet set;
  ExprId id = set.Add(text, scoped);
  Status status = CompileOk(&set);
  if (!status.ok()) return "compile error: " + status.message();
  return Eval(set, id, J(data), bindings);
}

TEST(ProgramSetTest, EvaluatesManyExpressionsInOneSet) {
  ProgramSet set;
  std::vector<ExprId> ids;
  for (int i = 0; i < 40; ++i) ids.push_back(set.Add(".x + " + std::to_string(i), {}));
  ExprId object_id = set.Add("{sum: (.x + .y), names: [.items[].name]}", {});
  ExprId string_id = set.Add(".name | ascii_upcase", {});
  ASSERT_TRUE(CompileOk(&set).ok());
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(Eval(set, ids[i], J(R"({"x": 100})")), std::to_string(100 + i));
  }
  EXPECT_EQ(Eval(set, object_id, J(R"({"x": 1, "y": 2, "items": [{"name": "a"}, {"name": "b"}]})")),
            R"({"sum":3,"names":["a","b"]})");
  EXPECT_EQ(Eval(set, string_id, J(R"({"name": "ada"})")), R"("ADA")");
}

TEST(ProgramSetTest, IdenticalExpressionsShareAnId) {
  ProgramSet set;
  ExprId a = set.Add(".a", {});
  ExprId b = set.Add(".b", {"item"});
  EXPECT_EQ(set.Add(".a", {}), a);
  EXPECT_EQ(set.Add(".b", {"item"}), b);
  EXPECT_NE(a, b);
  EXPECT_EQ(set.size(), 2u);
  EXPECT_EQ(set.Text(b), ".b");
}

TEST(ProgramSetTest, BindsTheSpecArguments) {
  Json context = J(R"({"c": 1})");
  Json input = J(R"({"i": 2})");
  Json output = J("3");
  Json secrets = J(R"({"s": 4})");
  Json task = J(R"({"name": "t"})");
  Json workflow = J(R"({"id": "w"})");
  Json runtime = J(R"({"name": "baton"})");
  Json authorization = J(R"({"scheme": "Bearer"})");
  Bindings b;
  b.args[static_cast<int>(Arg::kContext)] = &context;
  b.args[static_cast<int>(Arg::kInput)] = &input;
  b.args[static_cast<int>(Arg::kOutput)] = &output;
  b.args[static_cast<int>(Arg::kSecrets)] = &secrets;
  b.args[static_cast<int>(Arg::kTask)] = &task;
  b.args[static_cast<int>(Arg::kWorkflow)] = &workflow;
  b.args[static_cast<int>(Arg::kRuntime)] = &runtime;
  b.args[static_cast<int>(Arg::kAuthorization)] = &authorization;
  EXPECT_EQ(EvalOne("[$context.c, $input.i, $output, $secrets.s, $task.name, $workflow.id, "
                    "$runtime.name, $authorization.scheme, .]",
                    "0", b),
            R"([1,2,3,4,"t","w","baton","Bearer",0])");
  // Order of reference and repetition do not matter.
  EXPECT_EQ(EvalOne("$input.i + $context.c + $input.i", "null", b), "5");
}

TEST(ProgramSetTest, UnboundArgumentsAreNull) {
  EXPECT_EQ(EvalOne("[$task, $secrets, $authorization]"), "[null,null,null]");
  Json input = J("1");
  Bindings b;
  b.args[static_cast<int>(Arg::kInput)] = &input;
  EXPECT_EQ(EvalOne("[$input, $context]", "null", b), "[1,null]");
}

TEST(ProgramSetTest, ArgNames) {
  EXPECT_STREQ(ArgName(Arg::kContext), "context");
  EXPECT_STREQ(ArgName(Arg::kAuthorization), "authorization");
}

TEST(ProgramSetTest, ScopedVariables) {
  Json item = J(R"({"n": "x"})");
  Json index = J("2");
  Json error = J(R"({"status": 500})");
  Bindings b;
  b.scoped = {{"item", &item}, {"index", &index}, {"error", &error}};
  EXPECT_EQ(EvalOne("[$item.n, $index, $error.status]", "null", b, {"item", "index", "error"}),
            R"(["x",2,500])");
}

TEST(ProgramSetTest, InnermostScopedVariableWins) {
  Json outer = J(R"("outer")");
  Json inner = J(R"("inner")");
  Bindings b;
  b.scoped = {{"item", &outer}, {"item", &inner}};
  EXPECT_EQ(EvalOne("$item", "null", b, {"item"}), R"("inner")");
}

TEST(ProgramSetTest, ScopedVariableShadowsAnArgument) {
  // `for: {each: input}` makes $input the loop item inside the loop.
  Json arg = J(R"("arg")");
  Json scoped = J(R"("scoped")");
  Bindings b;
  b.args[static_cast<int>(Arg::kInput)] = &arg;
  b.scoped = {{"input", &scoped}};
  EXPECT_EQ(EvalOne("$input", "null", b, {"input"}), R"("scoped")");
  EXPECT_EQ(EvalOne("$input", "null", b, {}), R"("arg")");
}

TEST(ProgramSetTest, ScopedVariableWithoutAValueIsNull) {
  EXPECT_EQ(EvalOne("[$item, $index]", "null", {}, {"item", "index"}), "[null,null]");
}

TEST(ProgramSetTest, VariablesInsideStringTextAreNotReferences) {
  EXPECT_EQ(EvalOne(R"("costs $foo")"), R"("costs $foo")");
  Json input = J(R"("in")");
  Bindings b;
  b.args[static_cast<int>(Arg::kInput)] = &input;
  EXPECT_EQ(EvalOne(R"jq("got \($input)")jq", "null", b), R"("got in")");
  // jq 1.6 accepts blanks between `$` and the name.
  EXPECT_EQ(EvalOne("$ input", "null", b), R"("in")");
}

TEST(ProgramSetTest, AuthorsOwnBindingsWork) {
  EXPECT_EQ(EvalOne(". as $x | $x + 1", "1"), "2");
  EXPECT_EQ(EvalOne("reduce .[] as $n (0; . + $n)", "[1,2,3]"), "6");
  EXPECT_EQ(EvalOne(". as [$a, $b] | $b", "[1,2]"), "2");
}

TEST(ProgramSetTest, StringInterpolation) {
  EXPECT_EQ(EvalOne(R"jq("Hello \(.name)")jq", R"({"name": "Ada"})"), R"("Hello Ada")");
  EXPECT_EQ(EvalOne(R"jq("a\(")")b")jq", "null"), R"("a)b")");
}

TEST(ProgramSetTest, NoResultIsNull) {
  EXPECT_EQ(EvalOne("empty"), "null");
  EXPECT_EQ(EvalOne(".[]", "[]"), "null");
  EXPECT_EQ(EvalOne("select(. > 5)", "1"), "null");
  // jq 1.6 cannot tell `error(null)` from the end of results.
  EXPECT_EQ(EvalOne("error(null)"), "null");
}

TEST(ProgramSetTest, MultipleResultsGiveTheFirst) {
  ProgramSet set;
  ExprId many = set.Add("1, 2, 3", {});
  ExprId each = set.Add(".[]", {});
  ExprId range = set.Add("range(1000000)", {});
  ASSERT_TRUE(CompileOk(&set).ok());
  EXPECT_EQ(Eval(set, many, Json()), "1");
  EXPECT_EQ(Eval(set, each, J("[5, 6]")), "5");
  // The unfinished evaluations leave nothing behind (LeakSanitizer checks that).
  EXPECT_EQ(Eval(set, range, Json()), "0");
  EXPECT_EQ(Eval(set, each, J(R"([{"a": [1]}, 2])")), R"({"a":[1]})");
}

TEST(ProgramSetTest, RuntimeErrorsCarryJqsMessage) {
  EXPECT_EQ(EvalOne(".a + 1", R"({"a": "x"})"),
            "error: string (\"x\") and number (1) cannot be added");
  EXPECT_EQ(EvalOne(R"(error("boom"))"), "error: boom");
  EXPECT_EQ(EvalOne(R"(error({code: 1}))"), R"(error: {"code":1} (not a string))");
  EXPECT_EQ(EvalOne(".[0]", R"({"a": 1})"), "error: Cannot index object with number");
  // try/catch inside the expression still works.
  EXPECT_EQ(EvalOne(R"jq(try error("x") catch "caught: \(.)")jq"), R"("caught: x")");
}

TEST(ProgramSetTest, ErrorsLeaveTheSetUsable) {
  ProgramSet set;
  ExprId bad = set.Add(R"(error("boom"))", {});
  ExprId good = set.Add(".a", {});
  ASSERT_TRUE(CompileOk(&set).ok());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Eval(set, bad, Json()), "error: boom");
    EXPECT_EQ(Eval(set, good, J(R"({"a": 1})")), "1");
  }
}

// Also a regression test for jq 1.6's reset, which frees a halt's message without forgetting
// it (a double free at the next reset; valgrind sees it, ASan does not: libjq is not
// instrumented).
TEST(ProgramSetTest, HaltErrorIsAnError) {
  ProgramSet set;
  ExprId halt = set.Add(R"("stop here" | halt_error)", {});
  ExprId halt_object = set.Add("{a: 1} | halt_error(1)", {});
  ExprId bare_halt = set.Add("halt", {});
  ExprId good = set.Add(". + 1", {});
  ASSERT_TRUE(CompileOk(&set).ok());
  EXPECT_EQ(Eval(set, halt, Json()), "error: stop here");
  EXPECT_EQ(Eval(set, good, J("1")), "2");  // The state is not left halted.
  EXPECT_EQ(Eval(set, halt_object, Json()), R"(error: {"a":1})");
  EXPECT_EQ(Eval(set, bare_halt, Json()), "error: halted");
  EXPECT_EQ(Eval(set, good, J("2")), "3");
}

TEST(ProgramSetTest, CompileErrorsNameExactlyTheBadExpressions) {
  ProgramSet set;
  std::vector<ExprId> bad;
  for (int i = 0; i < 50; ++i) {
    std::string text = "{n: (.x + " + std::to_string(i) + ")}";
    if (i == 3) text = ".a |";
    if (i == 17) text = "if . then 1 end";  // jq 1.6 needs `else`
    if (i == 18) text = "no_such_function(1)";
    if (i == 49) text = "{a: }";
    ExprId id = set.Add(text, {});
    if (i == 3 || i == 17 || i == 18 || i == 49) bad.push_back(id);
  }
  std::vector<CompileError> errors;
  Status status = set.Compile(&errors);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("4 of 50"), std::string::npos) << status.message();
  ASSERT_EQ(errors.size(), 4u);
  for (size_t i = 0; i < errors.size(); ++i) {
    EXPECT_EQ(errors[i].id, bad[i]);
    EXPECT_FALSE(errors[i].message.empty());
    // Messages are the author's business: no location in our generated program.
    EXPECT_EQ(errors[i].message.find("<top-level>"), std::string::npos) << errors[i].message;
  }
  EXPECT_EQ(errors[0].message, "syntax error, unexpected $end");
  EXPECT_NE(errors[1].message.find("syntax error"), std::string::npos);
  EXPECT_EQ(errors[2].message, "no_such_function/1 is not defined");
}

// Check() (baton validate) builds another program than Compile(): it must find exactly the
// same errors, with the same messages, including a variable in scope for one expression but
// not for another, text that would escape its parentheses, and definitions that collide.
TEST(ProgramSetTest, CheckFindsTheSameErrorsAsCompile) {
  auto fill = [](ProgramSet* set) {
    for (int i = 0; i < 40; ++i) set->Add("{n: (.x + " + std::to_string(i) + ")}", {});
    set->Add(".a |", {});
    set->Add("$item.name", {"item"});
    set->Add("$item.name", {});  // not in scope here
    set->Add(".a) | (.b", {});
    set->Add("def f: 1; f", {});
    set->Add("def f: 2; f", {});
    set->Add("if . then 1 end", {});
    set->Add("$input | no_such_function(1)", {});
    set->Add("$__loc__", {});
  };
  ProgramSet compiled;
  ProgramSet checked;
  fill(&compiled);
  fill(&checked);
  std::vector<CompileError> compile_errors;
  std::vector<CompileError> check_errors;
  Status a = compiled.Compile(&compile_errors);
  Status b = checked.Check(&check_errors);
  EXPECT_FALSE(a.ok());
  EXPECT_EQ(a.message(), b.message());
  ASSERT_EQ(compile_errors.size(), 5u);
  ASSERT_EQ(check_errors.size(), compile_errors.size());
  for (size_t i = 0; i < compile_errors.size(); ++i) {
    EXPECT_EQ(check_errors[i].id, compile_errors[i].id);
    EXPECT_EQ(check_errors[i].message, compile_errors[i].message);
  }
  // Valid sets pass both.
  ProgramSet good;
  good.Add("$item", {"item"});
  good.Add(".a + 1", {});
  EXPECT_TRUE(good.Check(nullptr).ok());
}

TEST(ProgramSetTest, UnboundVariableIsACompileErrorOfItsExpression) {
  ProgramSet set;
  set.Add(".a", {});
  ExprId bad = set.Add("$foo + 1", {});
  set.Add("$input", {});
  std::vector<CompileError> errors;
  ASSERT_FALSE(set.Compile(&errors).ok());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].id, bad);
  EXPECT_EQ(errors[0].message, "$foo is not defined");
}

TEST(ProgramSetTest, ScopedVariableOutOfScopeIsACompileError) {
  ProgramSet set;
  ExprId bad = set.Add("$item", {});
  std::vector<CompileError> errors;
  ASSERT_FALSE(set.Compile(&errors).ok());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].id, bad);
  EXPECT_EQ(errors[0].message, "$item is not defined");
}

TEST(ProgramSetTest, UnbalancedTextCannotEscapeItsParentheses) {
  // Wrapped as `(.[1] | (.a) | (.b\n))` this would compile, as two expressions.
  ProgramSet set;
  ExprId escaping = set.Add(".a) | (.b", {});
  ExprId fine = set.Add(R"jq("(" + .a + "\(.b))")jq", {});
  std::vector<CompileError> errors;
  ASSERT_FALSE(set.Compile(&errors).ok());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].id, escaping);
  EXPECT_NE(errors[0].message.find("syntax error"), std::string::npos) << errors[0].message;
  EXPECT_NE(fine, escaping);
  EXPECT_EQ(EvalOne(R"jq("(" + .a + "\(.b))")jq", R"({"a": "x", "b": 1})"), R"jq("(x1)")jq");
}

TEST(ProgramSetTest, TrailingCommentStaysInsideTheExpression) {
  EXPECT_EQ(EvalOne(".a # the a field", R"({"a": 7})"), "7");
  EXPECT_EQ(EvalOne(".a,\n# first\n.b # second", R"({"a": 7})"), "7");
}

TEST(ProgramSetTest, AuthorDefinitionsWork) {
  EXPECT_EQ(EvalOne("def inc: . + 1; inc | inc", "1"), "3");
  EXPECT_EQ(EvalOne("def twice(f): f | f; def add($n): . + $n; twice(add(10))", "1"), "21");
  // Two expressions may define the same name.
  ProgramSet set;
  ExprId a = set.Add("def f: 1; f", {});
  ExprId b = set.Add("def f: 2; f", {});
  ASSERT_TRUE(CompileOk(&set).ok());
  EXPECT_EQ(Eval(set, a, Json()), "1");
  EXPECT_EQ(Eval(set, b, Json()), "2");
}

TEST(ProgramSetTest, LocWorks) {
  EXPECT_EQ(EvalOne("$__loc__.file"), R"("<top-level>")");
  EXPECT_EQ(EvalOne("$__loc__.line | type"), R"("number")");
}

TEST(ProgramSetTest, EnvironmentIsHidden) {
  ASSERT_NE(std::getenv("PATH"), nullptr);
  EXPECT_EQ(EvalOne("env"), "{}");
  EXPECT_EQ(EvalOne("$ENV"), "{}");
  EXPECT_EQ(EvalOne("$ENV.PATH"), "null");
  // jq 1.6 accepts blanks and comments between `$` and the name.
  EXPECT_EQ(EvalOne("$ ENV"), "{}");
  EXPECT_EQ(EvalOne("$ # hidden?\nENV | length"), "0");
  EXPECT_EQ(EvalOne(R"jq("\($ENV)")jq"), R"jq("{}")jq");
  EXPECT_EQ(EvalOne("env.PATH"), "null");
}

TEST(ProgramSetTest, InputAndDebugAreSafe) {
  // jq 1.6 leaves these callbacks uninitialised; calling them used to crash.
  EXPECT_EQ(EvalOne("input"), "error: input is not available in workflow expressions");
  EXPECT_EQ(EvalOne("[inputs]"), "error: input is not available in workflow expressions");
  EXPECT_EQ(EvalOne("debug | . + 1", "1"), "2");
}

TEST(ProgramSetTest, BuiltinsStillListsTheBuiltins) {
  EXPECT_EQ(EvalOne(R"(builtins | map(select(. == "map/1")) | length)"), "1");
}

class HomeDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* home = std::getenv("HOME")) saved_home_ = home;
    char pattern[] = "/tmp/baton_expr_home_XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    ASSERT_EQ(setenv("HOME", dir_.c_str(), 1), 0);
  }
  void TearDown() override {
    if (saved_home_) {
      setenv("HOME", saved_home_->c_str(), 1);
    } else {
      unsetenv("HOME");
    }
    std::filesystem::remove_all(dir_);
  }
  void WriteJqFile(const std::string& text) {
    std::ofstream out(dir_ + "/.jq");
    out << text;
  }

  std::optional<std::string> saved_home_;
  std::string dir_;
};

TEST_F(HomeDirTest, BrokenDotJqDoesNotAffectCompile) {
  WriteJqFile("def broken: ((( ;\nthis is not jq at all }}}\n");
  ProgramSet set;
  ExprId id = set.Add(".a + 1", {});
  ASSERT_TRUE(CompileOk(&set).ok());
  EXPECT_EQ(Eval(set, id, J(R"({"a": 1})")), "2");
  // HOME is back once the compile is over.
  ASSERT_NE(std::getenv("HOME"), nullptr);
  EXPECT_EQ(std::string(std::getenv("HOME")), dir_);
}

TEST_F(HomeDirTest, DotJqDefinitionsAreNotVisible) {
  WriteJqFile("def from_home: 42;\n");
  ProgramSet set;
  ExprId id = set.Add("from_home", {});
  std::vector<CompileError> errors;
  EXPECT_FALSE(set.Compile(&errors).ok());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].id, id);
  EXPECT_EQ(errors[0].message, "from_home/0 is not defined");
}

// Other threads compile their own state on their first evaluation: HOME is hidden for
// those compiles too.
TEST_F(HomeDirTest, ThreadStatesIgnoreDotJq) {
  ProgramSet set;
  ExprId id = set.Add(".a + 1", {});
  ASSERT_TRUE(CompileOk(&set).ok());
  WriteJqFile("def broken: ((( ;\nthis is not jq at all }}}\n");
  std::string result;
  std::thread([&] { result = Eval(set, id, J(R"({"a": 1})")); }).join();
  EXPECT_EQ(result, "2");
  ASSERT_NE(std::getenv("HOME"), nullptr);
  EXPECT_EQ(std::string(std::getenv("HOME")), dir_);
}

TEST(ProgramSetTest, CompilesThreeHundredExpressions) {
  ProgramSet set;
  std::vector<ExprId> ids;
  for (int i = 0; i < 300; ++i) {
    ids.push_back(set.Add("{a: (.x + " + std::to_string(i) + "), b: $input.y, c: $context}", {}));
  }
  ASSERT_TRUE(CompileOk(&set).ok());
  Json input = J(R"({"y": "y"})");
  Bindings b;
  b.args[static_cast<int>(Arg::kInput)] = &input;
  for (int i : {0, 1, 150, 298, 299}) {
    EXPECT_EQ(Eval(set, ids[i], J(R"({"x": 1})"), b),
              R"({"a":)" + std::to_string(i + 1) + R"(,"b":"y","c":null})");
  }
}

TEST(ProgramSetTest, CompilingAgainPicksUpNewExpressions) {
  ProgramSet set;
  ExprId a = set.Add(".a", {});
  ASSERT_TRUE(CompileOk(&set).ok());
  ExprId b = set.Add(".b", {});
  ASSERT_TRUE(CompileOk(&set).ok());
  EXPECT_EQ(Eval(set, a, J(R"({"a": 1, "b": 2})")), "1");
  EXPECT_EQ(Eval(set, b, J(R"({"a": 1, "b": 2})")), "2");
}

TEST(ProgramSetTest, EmptySetCompiles) {
  ProgramSet set;
  EXPECT_TRUE(CompileOk(&set).ok());
  EXPECT_EQ(set.size(), 0u);
}

TEST(ProgramSetTest, SingleThreadedModeGivesTheSameResults) {
  ProgramSet set;
  set.SetSingleThreaded(true);
  ExprId object = set.Add(R"jq({a: (.x + 1), s: "lit", l: [1, "two"]})jq", {});
  ExprId many = set.Add("range(1000000)", {});
  ExprId failing = set.Add(R"jq(error("boom"))jq", {});
  ExprId halting = set.Add(R"jq("stop" | halt_error)jq", {});
  ExprId none = set.Add("empty", {});
  ExprId pass = set.Add(".", {});
  ASSERT_TRUE(CompileOk(&set).ok());
  Json data = J(R"({"x": 1})");
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(Eval(set, object, data), R"({"a":2,"s":"lit","l":[1,"two"]})");
    EXPECT_EQ(Eval(set, many, data), "0");
    EXPECT_EQ(Eval(set, failing, data), "error: boom");
    EXPECT_EQ(Eval(set, halting, data), "error: stop");
    EXPECT_EQ(Eval(set, none, data), "null");
  }
  // Results may share storage with the program; changing them must not change it.
  Result<Json> r = set.Evaluate(object, data, {});
  ASSERT_TRUE(r.ok());
  Json changed = *r;
  changed.Set("s", Json::String("changed"));
  EXPECT_EQ(Eval(set, object, data), R"({"a":2,"s":"lit","l":[1,"two"]})");
  EXPECT_EQ(Eval(set, pass, data), R"({"x":1})");
  // The last evaluation's values are still referenced by the state; LeakSanitizer checks
  // that destroying the set releases them.
}

TEST(ProgramSetTest, ResultsDoNotChangeTheInputs) {
  ProgramSet set;
  ExprId id = set.Add(".a = 2 | .b += [3]", {});
  ASSERT_TRUE(CompileOk(&set).ok());
  Json data = J(R"({"a": 1, "b": [1]})");
  EXPECT_EQ(Eval(set, id, data), R"({"a":2,"b":[1,3]})");
  EXPECT_EQ(data.Dump(), R"({"a":1,"b":[1]})");
}

TEST(ProgramSetTest, ConcurrentEvaluationsOfOneSet) {
  ProgramSet set;
  ExprId id = set.Add(R"jq({name: "n\(.i)", tags: ["t", .i], copy: .})jq", {});
  ASSERT_TRUE(CompileOk(&set).ok());
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&set, &failures, id, t] {
      for (int i = 0; i < 300; ++i) {
        Json data = Json::Object();
        data.Set("i", Json::Number(t * 1000 + i));
        Result<Json> r = set.Evaluate(id, data, {});
        std::string want = "n";
        want += std::to_string(t * 1000 + i);
        if (!r.ok() || r->Get("name").AsString() != want ||
            r->Get("tags").At(0).AsString() != "t") {
          ++failures[t];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(failures[t], 0) << "thread " << t;
}

TEST(IsRuntimeExpressionTest, StrictMode) {
  std::string_view inner;
  EXPECT_TRUE(IsRuntimeExpression("${ .a }", &inner));
  EXPECT_EQ(inner, ".a");
  EXPECT_TRUE(IsRuntimeExpression("  ${.a.b}\n", &inner));
  EXPECT_EQ(inner, ".a.b");
  EXPECT_TRUE(IsRuntimeExpression("${ {a: 1} }", &inner));
  EXPECT_EQ(inner, "{a: 1}");
  EXPECT_TRUE(IsRuntimeExpression("${\n  .a\n  | .b\n}", &inner));
  EXPECT_EQ(inner, ".a\n  | .b");
  EXPECT_TRUE(IsRuntimeExpression(R"(${ "}" })", &inner));
  EXPECT_EQ(inner, R"("}")");
  EXPECT_TRUE(IsRuntimeExpression("${ }", &inner));
  EXPECT_EQ(inner, "");
  EXPECT_TRUE(IsRuntimeExpression("${.a}", nullptr));

  EXPECT_FALSE(IsRuntimeExpression("${}", &inner));
  EXPECT_FALSE(IsRuntimeExpression(".a", &inner));
  EXPECT_FALSE(IsRuntimeExpression("$ {.a}", &inner));
  EXPECT_FALSE(IsRuntimeExpression("x ${.a}", &inner));
  EXPECT_FALSE(IsRuntimeExpression("${.a} x", &inner));
  EXPECT_FALSE(IsRuntimeExpression("${.a", &inner));
  EXPECT_FALSE(IsRuntimeExpression("", &inner));
  EXPECT_FALSE(IsRuntimeExpression("https://x/{id}", &inner));
}

TEST(IsValidVariableNameTest, IdentifiersThatAreNotKeywords) {
  for (const char* name : {"item", "index", "_x", "a1", "camelCase", "ending", "iff", "not"}) {
    EXPECT_TRUE(IsValidVariableName(name)) << name;
  }
  for (const char* name : {"", "1a", "a-b", "a.b", "$a", "a b", "é"}) {
    EXPECT_FALSE(IsValidVariableName(name)) << name;
  }
  for (const char* name :
       {"end", "then", "if", "as", "def", "reduce", "foreach", "try", "catch", "label", "import",
        "include", "and", "or", "elif", "else", "__loc__", "module", "break"}) {
    EXPECT_FALSE(IsValidVariableName(name)) << name;
  }
}

// A hot expression moves to a program of its own on its thread: every evaluation before and
// after the move gives the same result or the same error, variables included, `$ENV` stays
// hidden, `$__loc__` stays in the shared program (its line would change), and the programs
// are given back when the set goes.
void ExpectHotExpressionsKeepTheirResults(bool single_threaded) {
  const int before = ProgramSet::SoloPrograms();
  {
    ProgramSet set;
    set.SetSingleThreaded(single_threaded);
    constexpr uint32_t kHot = 50;
    set.SetHotEvaluations(kHot);
    struct Case {
      ExprId id;
      std::string first;
    };
    std::vector<Case> cases;
    for (const char* text : {"{count: (.count + 1), label: \"x\"}", "[$input.a, $item, .count]",
                             "$ENV", ".count.x", "error({boom: .count})", "$__loc__"}) {
      cases.push_back({set.Add(text, {"item"}), ""});
    }
    ASSERT_TRUE(CompileOk(&set).ok());
    Json data = J(R"({"count": 41})");
    Json input = J(R"({"a": "in"})");
    Json item = J(R"("it")");
    Bindings b;
    b.args[static_cast<int>(Arg::kInput)] = &input;
    b.scoped = {{"item", &item}};
    for (Case& c : cases) c.first = Eval(set, c.id, data, b);
    EXPECT_EQ(cases[0].first, R"({"count":42,"label":"x"})");
    EXPECT_EQ(cases[1].first, R"(["in","it",41])");
    EXPECT_EQ(cases[2].first, "{}");
    EXPECT_EQ(cases[3].first, "error: Cannot index number with string \"x\"");
    EXPECT_EQ(cases[4].first, R"(error: {"boom":41} (not a string))");
    for (uint32_t i = 0; i < kHot + 5; ++i) {
      for (const Case& c : cases) {
        ASSERT_EQ(Eval(set, c.id, data, b), c.first) << set.Text(c.id) << " at evaluation " << i;
      }
    }
    EXPECT_EQ(ProgramSet::SoloPrograms() - before, 5);  // all but $__loc__
  }
  EXPECT_EQ(ProgramSet::SoloPrograms(), before);
}

TEST(ProgramSetTest, HotExpressionsKeepTheirResults) {
  ExpectHotExpressionsKeepTheirResults(false);
}

TEST(ProgramSetTest, HotExpressionsKeepTheirResultsSingleThreaded) {
  ExpectHotExpressionsKeepTheirResults(true);
}

}  // namespace
}  // namespace baton::expr
