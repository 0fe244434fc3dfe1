// Compile-time checks of engine::Compile: expression errors and flow directives.
#include <gtest/gtest.h>

#include "engine/workflow.h"

namespace baton::engine {
namespace {

std::vector<model::Diagnostic> CompileErrors(const std::string& yaml) {
  auto doc = model::ParseDocument(
      "document:\n  dsl: '1.0.3'\n  namespace: test\n  name: t\n  version: '1.0.0'\n" + yaml,
      "w.yaml");
  EXPECT_TRUE(doc.ok()) << doc.status().message();
  std::vector<model::Diagnostic> diags;
  (void)Compile(*doc, &diags);
  return diags;
}

TEST(CompileTest, BadExpressionIsReportedAtItsPointerAndLine) {
  auto diags = CompileErrors(R"(do:
  - a:
      set:
        ok: ${ .x }
        bad: ${ .x | | }
)");
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].pointer, "/do/0/a/set/bad");
  EXPECT_EQ(diags[0].position.line, 10);
  EXPECT_NE(diags[0].message.find(".x | |"), std::string::npos);
}

TEST(CompileTest, UnknownVariableIsACompileError) {
  auto diags = CompileErrors(R"(do:
  - a:
      set:
        v: ${ $nope }
)");
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_NE(diags[0].message.find("$nope"), std::string::npos);
}

TEST(CompileTest, ForVariablesAreOnlyVisibleInsideTheLoop) {
  EXPECT_TRUE(CompileErrors(R"(do:
  - loop:
      for: {each: pet, in: .pets}
      do:
        - a:
            set: {v: "${ $pet }"}
)")
                  .empty());
  EXPECT_EQ(CompileErrors(R"(do:
  - loop:
      for: {each: pet, in: .pets}
      do:
        - a:
            set: {v: 1}
  - b:
      set: {v: "${ $pet }"}
)")
                .size(),
            1u);
}

TEST(CompileTest, ThenCannotLeaveItsScope) {
  auto diags = CompileErrors(R"(do:
  - outer:
      do:
        - inner:
            set: {v: 1}
            then: after
  - after:
      set: {v: 2}
)");
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].pointer, "/do/0/outer/do/0/inner/then");
}

TEST(CompileTest, ThreeHundredExpressionsCompileAsOneProgram) {
  std::string yaml = "do:\n";
  for (int i = 0; i < 300; ++i) {
    yaml += "  - t" + std::to_string(i) + ":\n      set:\n        v: ${ .v + " + std::to_string(i) +
            " }\n";
  }
  auto diags = CompileErrors(yaml);
  EXPECT_TRUE(diags.empty());
}

}  // namespace
}  // namespace baton::engine
