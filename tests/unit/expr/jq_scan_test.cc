#include "expr/jq_scan.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace baton::expr {
namespace {

std::vector<std::string> Vars(std::string_view text) {
  std::vector<std::string> out;
  for (std::string_view v : ScanJq(text).variables) out.emplace_back(v);
  return out;
}

using Names = std::vector<std::string>;

TEST(JqScanTest, FindsVariablesInOrderWithoutDuplicates) {
  EXPECT_EQ(Vars("$input.a + $context.b + $input.c"), (Names{"input", "context"}));
  EXPECT_EQ(Vars(".a"), Names{});
  EXPECT_EQ(Vars("[$item,$index]"), (Names{"item", "index"}));
  EXPECT_EQ(Vars("$a_1|$_b"), (Names{"a_1", "_b"}));
}

TEST(JqScanTest, SkipsStringTextButNotInterpolations) {
  EXPECT_EQ(Vars(R"jq("$input costs \($price)")jq"), Names{"price"});
  EXPECT_EQ(Vars(R"jq("\("nested \($deep)")")jq"), Names{"deep"});
  EXPECT_EQ(Vars(R"jq("escaped \"$no\" \\($no2)")jq"), Names{});
  EXPECT_EQ(Vars(R"jq(@base64 "$no \($yes)")jq"), Names{"yes"});
}

TEST(JqScanTest, SkipsComments) { EXPECT_EQ(Vars("$a # $b\n| $c"), (Names{"a", "c"})); }

TEST(JqScanTest, FollowsTheJq16Lexer) {
  EXPECT_EQ(Vars("$ input"), Names{"input"});  // blanks after `$` are allowed in 1.6
  EXPECT_EQ(Vars("$__loc__"), Names{});        // a keyword, not a variable
  EXPECT_EQ(Vars("$__loc__x"), Names{"__loc__x"});
  EXPECT_EQ(Vars("$mod::name"), Names{"mod::name"});
  EXPECT_EQ(Vars("$"), Names{});
}

TEST(JqScanTest, Balance) {
  EXPECT_TRUE(ScanJq("").balanced);
  EXPECT_TRUE(ScanJq("(.a | [.b, {c: .d}])").balanced);
  EXPECT_TRUE(ScanJq(R"jq("(" + "]" + "\(.a))")jq").balanced);
  EXPECT_TRUE(ScanJq("# (\n.a").balanced);
  EXPECT_TRUE(ScanJq(R"jq("\\(")jq").balanced);
  EXPECT_FALSE(ScanJq(".a) | (.b").balanced);
  EXPECT_FALSE(ScanJq("(.a").balanced);
  EXPECT_FALSE(ScanJq("[.a}").balanced);
  EXPECT_FALSE(ScanJq(R"jq("abc)jq").balanced);
  EXPECT_FALSE(ScanJq(R"jq("\(.a")jq").balanced);
  EXPECT_FALSE(ScanJq("]").balanced);
}

}  // namespace
}  // namespace baton::expr
