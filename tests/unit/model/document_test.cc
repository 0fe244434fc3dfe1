#include "model/document.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace baton::model {
namespace {

Json ParseOk(std::string_view text) {
  Result<Document> doc = ParseDocument(text, "t.yaml");
  EXPECT_TRUE(doc.ok()) << doc.status().message();
  return doc.ok() ? doc->root : Json();
}

std::string ParseError(std::string_view text, std::string file = "t.yaml") {
  Result<Document> doc = ParseDocument(text, file);
  if (doc.ok()) return "parsed: " + doc->root.Dump();
  EXPECT_EQ(doc.status().code(), StatusCode::kInvalidArgument);
  return doc.status().message();
}

// ---- YAML 1.2 core schema -----------------------------------------------------------------

TEST(ParseDocumentTest, PlainScalarsFollowTheYaml12CoreSchema) {
  struct Case {
    const char* text;
    const char* json;
  };
  const Case cases[] = {
      {"~", "null"},
      {"null", "null"},
      {"Null", "null"},
      {"NULL", "null"},
      {"true", "true"},
      {"True", "true"},
      {"TRUE", "true"},
      {"false", "false"},
      {"False", "false"},
      {"FALSE", "false"},
      {"42", "42"},
      {"-17", "-17"},
      {"+5", "5"},
      {"0o17", "15"},
      {"0x1F", "31"},
      {"0x1f", "31"},
      {"1.5", "1.5"},
      {"-.5", "-0.5"},
      {"1e3", "1000"},
      {"2.5E-1", "0.25"},
      {"5.", "5"},
      {"010", "10"},
      {"1.0.3", "\"1.0.3\""},
      // YAML 1.1 spellings are strings in 1.2.
      {"yes", "\"yes\""},
      {"off", "\"off\""},
      {"0b101", "\"0b101\""},
      {"1_000", "\"1_000\""},
      {"0o8", "\"0o8\""},
      {"0x", "\"0x\""},
      {".", "\".\""},
      {"1e", "\"1e\""},
      {"hello world", "\"hello world\""},
  };
  for (const Case& c : cases) {
    Json v = ParseOk(std::string("v: ") + c.text).Get("v");
    EXPECT_EQ(v.Dump(), c.json) << "for plain scalar " << c.text;
  }
}

TEST(ParseDocumentTest, EmptyValueIsNull) {
  Json root = ParseOk("a:\nb: 1\n");
  EXPECT_TRUE(root.Has("a"));
  EXPECT_TRUE(root.Get("a").IsNull());
}

TEST(ParseDocumentTest, InfinityAndNanAreNumbers) {
  Json root = ParseOk("a: .inf\nb: -.Inf\nc: .NaN\n");
  ASSERT_TRUE(root.Get("a").IsNumber());
  EXPECT_TRUE(std::isinf(root.Get("a").AsNumber()));
  EXPECT_LT(root.Get("b").AsNumber(), 0);
  ASSERT_TRUE(root.Get("c").IsNumber());
  EXPECT_TRUE(std::isnan(root.Get("c").AsNumber()));
}

TEST(ParseDocumentTest, QuotedAndBlockScalarsAreAlwaysStrings) {
  Json root = ParseOk("a: '1.0'\nb: \"true\"\nc: 'null'\nd: |\n  42\ne: >-\n  ~\n");
  EXPECT_EQ(root.Get("a").Dump(), "\"1.0\"");
  EXPECT_EQ(root.Get("b").Dump(), "\"true\"");
  EXPECT_EQ(root.Get("c").Dump(), "\"null\"");
  EXPECT_EQ(root.Get("d").Dump(), "\"42\\n\"");
  EXPECT_EQ(root.Get("e").Dump(), "\"~\"");
}

TEST(ParseDocumentTest, CoreTagsAreApplied) {
  Json root = ParseOk("a: !!str 5\nb: !!int \"7\"\nc: !!float 1\nd: !!bool 'true'\ne: !!null ''\n");
  EXPECT_EQ(root.Dump(), R"({"a":"5","b":7,"c":1,"d":true,"e":null})");
}

TEST(ParseDocumentTest, UnknownTagsAndBadTaggedValuesAreErrors) {
  EXPECT_EQ(ParseError("a: !foo bar\n"), "t.yaml:1:4: error: unsupported YAML tag '!foo'");
  EXPECT_EQ(ParseError("a: !!int abc\n"), "t.yaml:1:4: error: 'abc' is not a valid !!int value");
  EXPECT_EQ(ParseError("a: !!set {x}\n"),
            "t.yaml:1:4: error: unsupported YAML tag 'tag:yaml.org,2002:set'");
}

TEST(ParseDocumentTest, KeysAreTextEvenWhenTheyLookTyped) {
  Json root = ParseOk("1: a\ntrue: b\n~: c\n");
  EXPECT_EQ(root.Dump(), R"({"1":"a","true":"b","null":"c"})");
}

TEST(ParseDocumentTest, AnchorsAndAliasesCopyTheValue) {
  Json root = ParseOk("base: &b {x: 1, y: [2, 3]}\ncopy: *b\nkey: &k name\n*k : 5\n");
  EXPECT_EQ(root.Get("copy").Dump(), R"({"x":1,"y":[2,3]})");
  EXPECT_EQ(root.Get("name").Dump(), "5");
}

TEST(ParseDocumentTest, EmptyTextIsANullDocument) {
  EXPECT_TRUE(ParseOk("").IsNull());
  EXPECT_TRUE(ParseOk("# only a comment\n").IsNull());
}

// ---- Positions ----------------------------------------------------------------------------

TEST(ParseDocumentTest, RecordsOneBasedPositionsOfKeysAndItems) {
  Result<Document> doc = ParseDocument(
      "document:\n"
      "  name: x\n"
      "do:\n"
      "  - first:\n"
      "      set: {a: 1}\n"
      "  -   second: {wait: PT1S}\n",
      "wf.yaml");
  ASSERT_TRUE(doc.ok()) << doc.status().message();
  auto at = [&](const std::string& p) {
    SourcePosition pos = doc->positions.at(p);
    return std::to_string(pos.line) + ":" + std::to_string(pos.column);
  };
  EXPECT_EQ(at(""), "1:1");
  EXPECT_EQ(at("/document"), "1:1");
  EXPECT_EQ(at("/document/name"), "2:3");
  EXPECT_EQ(at("/do"), "3:1");
  EXPECT_EQ(at("/do/0"), "4:5");
  EXPECT_EQ(at("/do/0/first"), "4:5");
  EXPECT_EQ(at("/do/0/first/set"), "5:7");
  EXPECT_EQ(at("/do/0/first/set/a"), "5:13");
  EXPECT_EQ(at("/do/1"), "6:7");
  EXPECT_EQ(at("/do/1/second/wait"), "6:16");
}

TEST(ParseDocumentTest, PositionsEscapeKeysAsJsonPointers) {
  Result<Document> doc = ParseDocument("a/b:\n  c~d: 1\n", "t.yaml");
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->positions.at("/a~1b/c~0d").line, 2);
}

TEST(DocumentTest, PositionOfFallsBackToTheNearestAncestor) {
  Result<Document> doc = ParseDocument("a:\n  b: &x {c: 1}\n  d: *x\n", "t.yaml");
  ASSERT_TRUE(doc.ok());
  // Values under an alias take the alias's position.
  EXPECT_EQ(doc->PositionOf("/a/d/c").line, 3);
  EXPECT_EQ(doc->PositionOf("/a/zz/yy").line, 1);
  EXPECT_EQ(doc->PositionOf("/nope").line, 1);
  Document empty;
  EXPECT_EQ(empty.PositionOf("/x").line, 0);
}

TEST(DocumentTest, MakeDiagnosticUsesThePosition) {
  Result<Document> doc = ParseDocument("a:\n  b: 1\n", "wf.yaml");
  ASSERT_TRUE(doc.ok());
  Diagnostic d = doc->MakeDiagnostic("/a/b", "bad b");
  EXPECT_EQ(d.ToString(), "wf.yaml:2:3: error: bad b (at /a/b)");
  d.is_warning = true;
  EXPECT_EQ(d.ToString(), "wf.yaml:2:3: warning: bad b (at /a/b)");
  EXPECT_EQ(doc->MakeDiagnostic("", "whole").ToString(), "wf.yaml:1:1: error: whole (at /)");
  Diagnostic unknown{"f.yaml", {}, "/x", "no position"};
  EXPECT_EQ(unknown.ToString(), "f.yaml: error: no position (at /x)");
}

// ---- YAML errors --------------------------------------------------------------------------

TEST(ParseDocumentTest, SyntaxErrorsSayFileLineAndColumn) {
  EXPECT_EQ(ParseError("a: 1\n b: 2\n", "wf.yaml"), "wf.yaml:2:3: error: illegal map value");
  EXPECT_EQ(ParseError("a: [1, 2\nb: 3\n"), "t.yaml:2:2: error: end of sequence flow not found");
  EXPECT_EQ(ParseError("a:\n\t- 1\n"), "t.yaml:2:2: error: illegal block entry");
  EXPECT_EQ(ParseError("a: *nope\n"), "t.yaml:1:4: error: the referenced anchor is not defined");
}

TEST(ParseDocumentTest, DuplicateKeysAreErrors) {
  EXPECT_EQ(ParseError("do:\n  - a:\n      set: 1\n      set: 2\n"),
            "t.yaml:4:7: error: duplicate key 'set' (first defined at line 3, column 7)");
  EXPECT_EQ(ParseError("{a: 1, a: 2}"),
            "t.yaml:1:8: error: duplicate key 'a' (first defined at line 1, column 2)");
}

TEST(ParseDocumentTest, OnlyScalarKeys) {
  EXPECT_EQ(ParseError("? [a]\n: 1\n"), "t.yaml:1:3: error: mapping keys must be scalars");
}

TEST(ParseDocumentTest, OneDocumentPerFile) {
  EXPECT_EQ(ParseError("a: 1\n---\nb: 2\n"),
            "t.yaml:2:1: error: a workflow file must hold one YAML document, found a second one");
  EXPECT_TRUE(ParseOk("---\na: 1\n...\n").IsObject());
}

TEST(ParseDocumentTest, RecursiveAliasIsAnError) {
  EXPECT_EQ(ParseError("a: &x [1, *x]\n"),
            "t.yaml:1:11: error: an alias cannot refer to a node that contains it");
}

TEST(ParseDocumentTest, DeepNestingIsAnErrorNotACrash) {
  std::string flow = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_EQ(ParseError("a: " + flow), "t.yaml:1:259: error: nesting is deeper than 256 levels");
  // Unterminated: yaml-cpp reads the brackets as complex keys; still an error, not a crash.
  EXPECT_NE(ParseError("a: " + std::string(100000, '[')).find("t.yaml:1:"), std::string::npos);
  std::string block;
  for (int i = 0; i < 5000; ++i) block += "- ";
  block += "x\n";
  EXPECT_EQ(ParseError(block), "t.yaml:1:513: error: nesting is deeper than 256 levels");
  std::string braces;
  for (int i = 0; i < 50000; ++i) braces += "{a: ";
  EXPECT_NE(ParseError(braces).find("error:"), std::string::npos);
  std::string json(100000, '[');
  EXPECT_EQ(ParseError(json, "t.json"), "t.json:1:257: error: nesting is deeper than 256 levels");
  // 256 levels are fine.
  std::string ok = std::string(255, '[') + std::string(255, ']');
  EXPECT_TRUE(ParseDocument("a: " + ok, "t.yaml").ok());
  EXPECT_TRUE(ParseDocument(std::string(256, '[') + std::string(256, ']'), "t.json").ok());
}

TEST(ParseDocumentTest, AliasChainsCannotNestPastTheLimit) {
  // Each anchor is 200 levels deep and holds the previous one at its bottom: expanded, the
  // chain would be 200 * 50 levels deep, enough to overflow any recursive walk.
  std::string text;
  for (int i = 0; i < 50; ++i) {
    text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " " + std::string(199, '[') +
            (i == 0 ? std::string("x") : "*a" + std::to_string(i - 1)) + std::string(199, ']') +
            "\n";
  }
  EXPECT_EQ(ParseError(text), "t.yaml:2:208: error: nesting is deeper than 256 levels");
}

TEST(ParseDocumentTest, AliasBombIsCappedWithoutExpanding) {
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'j'; ++c) {
    std::string prev(1, static_cast<char>(c - 1));
    bomb += std::string(1, c) + ": &" + c + " [*" + prev + ", *" + prev + ", *" + prev + ", *" +
            prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev +
            ", *" + prev + "]\n";
  }
  std::string error = ParseError(bomb);
  EXPECT_NE(error.find("error: document has more than 1000000 values (after expanding aliases)"),
            std::string::npos)
      << error;
  // A smaller cap applies as configured.
  ParseLimits limits;
  limits.max_nodes = 50;
  Result<Document> doc = ParseDocument(
      "a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nb: [*a, *a, *a, *a]\n", "t.yaml", limits);
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().message(),
            "t.yaml:2:17: error: document has more than 50 values (after expanding aliases)");
}

// ---- JSON ---------------------------------------------------------------------------------

TEST(ParseDocumentTest, JsonIsReadWithPositions) {
  Result<Document> doc = ParseDocument(
      "{\n  \"document\": {\"dsl\": \"1.0.3\"},\n  \"do\": [ {\"a\": {\"wait\": \"PT1S\"}} ]\n}\n",
      "wf.json");
  ASSERT_TRUE(doc.ok()) << doc.status().message();
  EXPECT_EQ(doc->root.Dump(), R"({"document":{"dsl":"1.0.3"},"do":[{"a":{"wait":"PT1S"}}]})");
  EXPECT_EQ(doc->positions.at("/document").line, 2);
  EXPECT_EQ(doc->positions.at("/document").column, 3);
  EXPECT_EQ(doc->positions.at("/document/dsl").column, 16);
  EXPECT_EQ(doc->positions.at("/do/0").column, 11);
  EXPECT_EQ(doc->positions.at("/do/0/a/wait").column, 18);
}

TEST(ParseDocumentTest, JsonValuesKeepTheirJsonTypes) {
  Json root =
      ParseOk(R"({"a": "1", "b": 1.5e2, "c": [true, false, null], "d": "\u00e9\ud83d\ude00\n"})");
  EXPECT_EQ(root.Dump(), "{\"a\":\"1\",\"b\":150,\"c\":[true,false,null],\"d\":\"é😀\\n\"}");
}

TEST(ParseDocumentTest, JsonSyntaxErrorsArePrecise) {
  EXPECT_EQ(ParseError("{\"a\" 1}", "f.json"),
            "f.json:1:6: error: expected ':' after object key, got '1'");
  EXPECT_EQ(ParseError("{\n  \"a\": 1\n  \"b\": 2\n}", "f.json"),
            "f.json:3:3: error: expected ',' or '}' after object member, got '\"'");
  EXPECT_EQ(ParseError("[1, 2", "f.json"),
            "f.json:1:6: error: expected ',' or ']' after array item, got end of input");
  EXPECT_EQ(ParseError("{\"a\": \"x", "f.json"), "f.json:1:7: error: unterminated string");
  EXPECT_EQ(ParseError("{\"a\": \"\\q\"}", "f.json"),
            "f.json:1:8: error: invalid escape sequence '\\q' in a string");
  EXPECT_EQ(ParseError("{\"a\": 01}", "f.json"),
            "f.json:1:8: error: expected ',' or '}' after object member, got '1'");
  EXPECT_EQ(ParseError("{\"a\": tru}", "f.json"),
            "f.json:1:7: error: expected a JSON value, got 't'");
  EXPECT_EQ(ParseError("{\"a\": 1, \"a\": 2}", "f.json"),
            "f.json:1:10: error: duplicate key 'a' (first defined at line 1, column 2)");
  EXPECT_EQ(ParseError("{\"a\": 1} x", "f.json"),
            "f.json:1:10: error: unexpected text after the JSON value");
  EXPECT_EQ(ParseError("{\"a\": \"\\ud800\"}", "f.json"),
            "f.json:1:8: error: invalid \\u escape: high surrogate without a low surrogate");
}

TEST(ParseDocumentTest, FlowYamlThatIsNotJsonStillParses) {
  EXPECT_EQ(ParseOk("{a: 1, b: [x, y]}").Dump(), R"({"a":1,"b":["x","y"]})");
  EXPECT_EQ(ParseOk("[a, 'b']").Dump(), R"(["a","b"])");
}

// ---- Files --------------------------------------------------------------------------------

TEST(LoadDocumentFileTest, ReadsAFile) {
  Result<Document> doc =
      LoadDocumentFile(BATON_SHARED_DIR "/serverless-workflow/examples/wait-duration-iso8601.yaml");
  ASSERT_TRUE(doc.ok()) << doc.status().message();
  EXPECT_EQ(doc->root.AtPointer("/do/0/wait30Seconds/wait").AsString(), "PT30S");
  EXPECT_EQ(doc->positions.at("/do/0/wait30Seconds/wait").line, 8);
}

TEST(LoadDocumentFileTest, MissingFileIsNotFound) {
  Result<Document> doc = LoadDocumentFile("/nonexistent/wf.yaml");
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(doc.status().message(), "/nonexistent/wf.yaml: error: no such file");
}

TEST(LoadDocumentFileTest, DirectoryIsInvalid) {
  Result<Document> doc = LoadDocumentFile(BATON_SHARED_DIR);
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().code(), StatusCode::kInvalidArgument);
}

TEST(LoadDocumentFileTest, SyntaxErrorNamesThePath) {
  std::filesystem::path path =
      std::filesystem::temp_directory_path() /
      ("baton_model_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
       ".yaml");
  {
    std::ofstream out(path);
    out << "a: 1\n b: 2\n";
  }
  Result<Document> doc = LoadDocumentFile(path.string());
  std::filesystem::remove(path);
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().message(), path.string() + ":2:3: error: illegal map value");
}

}  // namespace
}  // namespace baton::model
