#include "engine/json_schema.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "base/json.h"
#include "base/status.h"

namespace baton::engine {
namespace {

Json ParseOrDie(std::string_view text) {
  Result<Json> parsed = Json::Parse(text);
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString() << " in " << text;
  return parsed.ok() ? *parsed : Json();
}

JsonSchema CompileOrDie(std::string_view schema_text) {
  Result<JsonSchema> schema = JsonSchema::Compile(ParseOrDie(schema_text));
  EXPECT_TRUE(schema.ok()) << schema.status().ToString();
  if (!schema.ok()) return *JsonSchema::Compile(Json::Object());
  return *std::move(schema);
}

// The message of Validate, or "OK".
std::string Check(const JsonSchema& schema, std::string_view value_text) {
  Status status = schema.Validate(ParseOrDie(value_text));
  if (status.ok()) return "OK";
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
  return status.message();
}

// The message of Compile, or "OK".
std::string CompileError(std::string_view schema_text) {
  Result<JsonSchema> schema = JsonSchema::Compile(ParseOrDie(schema_text));
  if (schema.ok()) return "OK";
  EXPECT_EQ(schema.status().code(), StatusCode::kInvalidArgument);
  return schema.status().message();
}

TEST(JsonSchemaTest, EmptySchemaAcceptsEverything) {
  JsonSchema schema = CompileOrDie("{}");
  for (const char* value : {"null", "true", "1", "1.5", "\"s\"", "[1]", "{\"a\":{}}"}) {
    EXPECT_EQ(Check(schema, value), "OK") << value;
  }
}

TEST(JsonSchemaTest, TypeErrorsNameTheActualKind) {
  JsonSchema schema = CompileOrDie(R"({
    "type": "object",
    "properties": {"name": {"type": "string"}, "tags": {"type": "array"}}
  })");
  EXPECT_EQ(Check(schema, R"({"name": "x", "tags": []})"), "OK");
  EXPECT_EQ(Check(schema, R"({"name": 5})"),
            "/name: Value type number not permitted by 'type' constraint.");
  EXPECT_EQ(Check(schema, "[]"), ": Value type array not permitted by 'type' constraint.");
  EXPECT_EQ(Check(schema, "null"), ": Value type null not permitted by 'type' constraint.");

  JsonSchema multi = CompileOrDie(R"({"type": ["string", "null"]})");
  EXPECT_EQ(Check(multi, "null"), "OK");
  EXPECT_EQ(Check(multi, "\"x\""), "OK");
  EXPECT_EQ(Check(multi, "false"), ": Value type boolean not permitted by 'type' constraint.");
}

TEST(JsonSchemaTest, EveryViolationIsListed) {
  JsonSchema schema = CompileOrDie(R"({
    "type": "object",
    "required": ["id"],
    "properties": {"name": {"type": "string"}, "count": {"type": "integer", "minimum": 0}}
  })");
  std::string message = Check(schema, R"({"name": 5, "count": -1})");
  EXPECT_NE(message.find(": Missing required property 'id'."), std::string::npos) << message;
  EXPECT_NE(message.find("/name: Value type number not permitted by 'type' constraint."),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("/count: Expected number greater than or equal to 0"), std::string::npos)
      << message;
  // The summaries valijson adds for failed property subschemas are not repeated.
  EXPECT_EQ(message.find("Failed to validate against schema associated"), std::string::npos)
      << message;
  EXPECT_EQ(std::count(message.begin(), message.end(), ';'), 2) << message;
}

TEST(JsonSchemaTest, Required) {
  JsonSchema schema = CompileOrDie(R"({"required": ["a", "b"]})");
  EXPECT_EQ(Check(schema, R"({"a": 1, "b": null})"), "OK");
  EXPECT_EQ(Check(schema, R"({"a": 1})"), ": Missing required property 'b'.");
  EXPECT_EQ(Check(schema, "{}"),
            ": Missing required property 'a'.; : Missing required property 'b'.");
  EXPECT_EQ(Check(schema, "[]"), "OK");  // `required` only constrains objects.
}

TEST(JsonSchemaTest, AdditionalProperties) {
  JsonSchema closed = CompileOrDie(R"({
    "properties": {"a": {}}, "patternProperties": {"^x-": {}}, "additionalProperties": false
  })");
  EXPECT_EQ(Check(closed, R"({"a": 1, "x-trace": 2})"), "OK");
  EXPECT_EQ(Check(closed, R"({"a": 1, "b": 2})"),
            ": Object contains a property that could not be validated using 'properties' or "
            "'additionalProperties' constraints: 'b'.");

  JsonSchema typed = CompileOrDie(R"({"properties": {"a": {}}, "additionalProperties": {
    "type": "string"}})");
  EXPECT_EQ(Check(typed, R"({"a": 1, "b": "s"})"), "OK");
  EXPECT_EQ(Check(typed, R"({"a": 1, "b": 2})"),
            "/b: Value type number not permitted by 'type' constraint.");
}

TEST(JsonSchemaTest, Enum) {
  JsonSchema schema = CompileOrDie(R"({"enum": ["red", 1, null, {"k": [true]}]})");
  EXPECT_EQ(Check(schema, "\"red\""), "OK");
  EXPECT_EQ(Check(schema, "1.0"), "OK");
  EXPECT_EQ(Check(schema, "null"), "OK");
  EXPECT_EQ(Check(schema, R"({"k": [true]})"), "OK");
  EXPECT_EQ(Check(schema, "\"blue\""), ": Failed to match against any enum values.");
  EXPECT_EQ(Check(schema, "true"), ": Failed to match against any enum values.");
  EXPECT_EQ(Check(schema, R"({"k": [false]})"), ": Failed to match against any enum values.");

  JsonSchema nested = CompileOrDie(R"({"properties": {"color": {"enum": ["red"]}}})");
  EXPECT_EQ(Check(nested, R"({"color": "blue"})"),
            "/color: Failed to match against any enum values.");
}

TEST(JsonSchemaTest, NestedPointersAreEscaped) {
  JsonSchema schema = CompileOrDie(R"({
    "properties": {"a": {"properties": {"b/c": {"properties": {"d~e": {
      "items": {"type": "string"}}}}}}}
  })");
  EXPECT_EQ(Check(schema, R"({"a": {"b/c": {"d~e": ["x", "y"]}}})"), "OK");
  EXPECT_EQ(Check(schema, R"({"a": {"b/c": {"d~e": ["x", 2, "z", false]}}})"),
            "/a/b~1c/d~0e/1: Value type number not permitted by 'type' constraint.; "
            "/a/b~1c/d~0e/3: Value type boolean not permitted by 'type' constraint.");
}

TEST(JsonSchemaTest, Arrays) {
  JsonSchema schema = CompileOrDie(R"({
    "type": "array", "minItems": 1, "maxItems": 3, "uniqueItems": true,
    "items": {"type": "object", "required": ["id"]}
  })");
  EXPECT_EQ(Check(schema, R"([{"id": 1}, {"id": 2}])"), "OK");
  EXPECT_EQ(Check(schema, "[]"), ": Array should contain no fewer than 1 elements.");
  EXPECT_EQ(Check(schema, R"([{"id": 1}, {"id": 2}, {"id": 3}, {"id": 4}])"),
            ": Array should contain no more than 3 elements.");
  EXPECT_EQ(Check(schema, R"([{"id": 1}, {"id": 1}])"),
            ": Elements at indexes #0 and #1 violate uniqueness constraint.");
  EXPECT_EQ(Check(schema, R"([{"id": 1}, {}])"), "/1: Missing required property 'id'.");

  JsonSchema tuple = CompileOrDie(R"({
    "items": [{"type": "string"}, {"type": "integer"}], "additionalItems": false
  })");
  EXPECT_EQ(Check(tuple, R"(["a", 1])"), "OK");
  EXPECT_EQ(Check(tuple, R"(["a", 1.5])"),
            "/1: Value type number not permitted by 'type' constraint.");
  EXPECT_EQ(Check(tuple, R"(["a", 1, 2])"),
            ": Array contains more items than allowed by items constraint.");

  JsonSchema contains = CompileOrDie(R"({"contains": {"const": 5}})");
  EXPECT_EQ(Check(contains, "[1, 5.0]"), "OK");
  EXPECT_EQ(Check(contains, "[1, 2]"), ": No array item matches the 'contains' schema.");
}

TEST(JsonSchemaTest, IntegerVersusNumber) {
  JsonSchema integer = CompileOrDie(R"({"type": "integer"})");
  EXPECT_EQ(Check(integer, "1"), "OK");
  EXPECT_EQ(Check(integer, "1.0"), "OK");
  EXPECT_EQ(Check(integer, "-0.0"), "OK");
  EXPECT_EQ(Check(integer, "1e3"), "OK");
  EXPECT_TRUE(integer.Validate(Json::Number(42.0)).ok());
  EXPECT_EQ(Check(integer, "1.5"), ": Value type number not permitted by 'type' constraint.");
  EXPECT_EQ(Check(integer, "\"1\""), ": Value type string not permitted by 'type' constraint.");

  JsonSchema number = CompileOrDie(R"({"type": "number"})");
  EXPECT_EQ(Check(number, "1"), "OK");
  EXPECT_EQ(Check(number, "1.5"), "OK");
  EXPECT_EQ(Check(number, "\"1.5\""), ": Value type string not permitted by 'type' constraint.");

  // Keywords whose argument must be an integer accept a jq number like 2.0.
  JsonSchema length = CompileOrDie(R"({"maxLength": 2.0, "multipleOf": 1})");
  EXPECT_EQ(Check(length, "\"ab\""), "OK");
  EXPECT_EQ(Check(length, "\"abc\""), ": String should be no more than 2 characters in length.");

  JsonSchema multiple = CompileOrDie(R"({"multipleOf": 0.5, "maximum": 10, "minimum": 0.25})");
  EXPECT_EQ(Check(multiple, "2.5"), "OK");
  EXPECT_EQ(Check(multiple, "2.25"), ": Value should be a multiple of 0.5");
  EXPECT_EQ(Check(multiple, "10.5"), ": Expected number less than or equal to 10");
  EXPECT_EQ(Check(multiple, "0"), ": Expected number greater than or equal to 0.25");
}

TEST(JsonSchemaTest, StringsAndPatterns) {
  JsonSchema schema = CompileOrDie(R"({"type": "string", "minLength": 2, "pattern": "^[a-z]+$"})");
  EXPECT_EQ(Check(schema, "\"ab\""), "OK");
  EXPECT_EQ(Check(schema, "\"a\""), ": String should be no fewer than 2 characters in length.");
  EXPECT_EQ(Check(schema, "\"AB\""), ": Failed to match regex specified by 'pattern' constraint.");
  EXPECT_EQ(Check(schema, "\"é\""),
            ": String should be no fewer than 2 characters in length.; "
            ": Failed to match regex specified by 'pattern' constraint.");
}

TEST(JsonSchemaTest, Combinators) {
  JsonSchema any_of = CompileOrDie(R"({"anyOf": [{"type": "string"}, {"minimum": 10}]})");
  EXPECT_EQ(Check(any_of, "\"s\""), "OK");
  EXPECT_EQ(Check(any_of, "12"), "OK");
  std::string message = Check(any_of, "5");
  EXPECT_NE(message.find(": Failed to validate against any schemas allowed by anyOf constraint."),
            std::string::npos)
      << message;

  JsonSchema one_of = CompileOrDie(R"({"oneOf": [{"type": "integer"}, {"minimum": 2}]})");
  EXPECT_EQ(Check(one_of, "1"), "OK");
  EXPECT_EQ(Check(one_of, "2.5"), "OK");
  EXPECT_EQ(Check(one_of, "3"), ": Failed to validate against exactly one child schema.");

  JsonSchema not_schema = CompileOrDie(R"({"not": {"type": "null"}})");
  EXPECT_EQ(Check(not_schema, "1"), "OK");
  EXPECT_EQ(Check(not_schema, "null"),
            ": Target should not validate against schema specified in 'not' constraint.");

  JsonSchema all_of = CompileOrDie(R"({"allOf": [{"required": ["a"]}, {"required": ["b"]}]})");
  EXPECT_EQ(Check(all_of, R"({"a": 1, "b": 2})"), "OK");
  EXPECT_EQ(Check(all_of, R"({"a": 1})"), ": Missing required property 'b'.");

  JsonSchema conditional = CompileOrDie(R"({
    "if": {"properties": {"kind": {"const": "http"}}},
    "then": {"required": ["endpoint"]}
  })");
  EXPECT_EQ(Check(conditional, R"({"kind": "grpc"})"), "OK");
  EXPECT_EQ(Check(conditional, R"({"kind": "http"})"), ": Missing required property 'endpoint'.");
}

TEST(JsonSchemaTest, BooleanSchemas) {
  JsonSchema accept = CompileOrDie("true");
  EXPECT_EQ(Check(accept, R"({"anything": [1]})"), "OK");
  JsonSchema reject = CompileOrDie("false");
  EXPECT_EQ(Check(reject, "1"), ": Value not allowed by the schema.");

  // A property whose schema is `false` fails without details of its own: the summary stays.
  JsonSchema forbidden =
      CompileOrDie(R"({"properties": {"secret": false, "n": {"type": "string"}}})");
  EXPECT_EQ(Check(forbidden, R"({"n": "x"})"), "OK");
  std::string message = Check(forbidden, R"({"secret": 1, "n": 2})");
  EXPECT_NE(message.find("property name 'secret'"), std::string::npos) << message;
  EXPECT_NE(message.find("/n: Value type number"), std::string::npos) << message;
}

TEST(JsonSchemaTest, LocalReferences) {
  JsonSchema schema = CompileOrDie(R"({
    "definitions": {"id": {"type": "string", "minLength": 1}},
    "properties": {"id": {"$ref": "#/definitions/id"}, "parent": {"$ref": "#"}}
  })");
  EXPECT_EQ(Check(schema, R"({"id": "a", "parent": {"id": "b"}})"), "OK");
  EXPECT_EQ(Check(schema, R"({"id": "a", "parent": {"id": 3}})"),
            "/parent/id: Value type number not permitted by 'type' constraint.");
}

TEST(JsonSchemaTest, AtMostTenViolationsAreListed) {
  JsonSchema schema = CompileOrDie(R"({"items": {"type": "string"}})");
  std::string message = Check(schema, "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]");
  EXPECT_EQ(std::count(message.begin(), message.end(), ';'), 10) << message;
  EXPECT_NE(message.find("/9: Value type number"), std::string::npos) << message;
  EXPECT_EQ(message.find("/10:"), std::string::npos) << message;
  EXPECT_TRUE(message.ends_with("; and 3 more")) << message;
}

TEST(JsonSchemaTest, ManyViolationsAreCountedNotListed) {
  JsonSchema schema = CompileOrDie(R"({"items": {"properties": {"n": {"type": "string"}}}})");
  Json value = Json::Array();
  for (int i = 0; i < 2000; ++i) {
    Json item = Json::Object();
    item.Set("n", Json::Number(i));
    value.Append(std::move(item));
  }
  Status status = schema.Validate(value);
  EXPECT_TRUE(status.message().starts_with(
      "/0/n: Value type number not permitted by 'type' constraint.; /1/n: "))
      << status.message();
  EXPECT_TRUE(status.message().ends_with("; and 1990 more")) << status.message();
}

TEST(JsonSchemaTest, InvalidSchemasFailToCompile) {
  EXPECT_EQ(CompileError("\"string\""),
            "invalid JSON Schema: expected an object or a boolean, got string");
  EXPECT_EQ(CompileError("[]"), "invalid JSON Schema: expected an object or a boolean, got array");
  for (const char* bad : {
           R"({"type": "strin"})",
           R"({"type": 5})",
           R"({"properties": 3})",
           R"({"properties": {"a": 3}})",
           R"({"required": "a"})",
           R"({"minLength": "x"})",
           R"({"minLength": -1})",
           R"({"items": [1]})",
           R"({"enum": 1})",
           R"({"$schema": 4})",
       }) {
    std::string message = CompileError(bad);
    EXPECT_TRUE(message.starts_with("invalid JSON Schema: ")) << bad << " → " << message;
  }
  EXPECT_TRUE(CompileError(R"({"pattern": "(unclosed"})")
                  .starts_with("invalid JSON Schema: bad regular expression '(unclosed' at "
                               "/pattern: "));
  EXPECT_TRUE(CompileError(R"({"properties": {"a/b": {"patternProperties": {"[": {}}}}})")
                  .starts_with("invalid JSON Schema: bad regular expression '[' at "
                               "/properties/a~1b/patternProperties/["));
  EXPECT_EQ(CompileError(R"({"type": 5})"),
            "invalid JSON Schema: /type: Failed to match against any enum values.; "
            "/type: Value type number not permitted by 'type' constraint.; "
            "/type: Failed to validate against any schemas allowed by anyOf constraint.");
  EXPECT_EQ(CompileError(R"({"properties": {"a": {"minLength": -1}}})"),
            "invalid JSON Schema: /properties/a/minLength: Expected number greater than or "
            "equal to 0");
  EXPECT_EQ(CompileError(R"({"properties": {"a": {"$ref": "#/definitions/missing"}}})"),
            "invalid JSON Schema: $ref '#/definitions/missing' at /properties/a does not resolve");
  EXPECT_EQ(CompileError(R"({"$ref": "#anchor"})"),
            "invalid JSON Schema: $ref '#anchor' at the root is not a JSON pointer (anchors are "
            "not supported)");
  EXPECT_EQ(CompileError(R"({"definitions": {"a%b": {"type": "string"}},
                            "$ref": "#/definitions/a%25b"})"),
            "OK");
  EXPECT_EQ(CompileError(R"({"$ref": "#"})"), "invalid JSON Schema: circular $ref '#' at the root");
  EXPECT_EQ(CompileError(R"({"definitions": {"a": {"$ref": "#/definitions/b"},
                                             "b": {"$ref": "#/definitions/a"}},
                            "properties": {"x": {"$ref": "#/definitions/a"}}})")
                .substr(0, 36),
            "invalid JSON Schema: circular $ref '");
}

TEST(JsonSchemaTest, RemoteReferencesAreNotFetched) {
  EXPECT_EQ(CompileError(R"({"$ref": "https://example.com/schemas/person.json"})"),
            "remote $ref not supported: https://example.com/schemas/person.json");
  EXPECT_EQ(CompileError(R"({"properties": {"a": {"$ref": "other.json#/definitions/x"}}})"),
            "remote $ref not supported: other.json");
}

TEST(JsonSchemaTest, Drafts) {
  // Draft 4: boolean exclusiveMaximum; boolean schemas are not allowed.
  JsonSchema draft4 = CompileOrDie(R"({
    "$schema": "http://json-schema.org/draft-04/schema#", "maximum": 3, "exclusiveMaximum": true
  })");
  EXPECT_EQ(Check(draft4, "2"), "OK");
  EXPECT_EQ(Check(draft4, "3"), ": Expected number less than 3");
  EXPECT_NE(CompileError(R"({"$schema": "http://json-schema.org/draft-04/schema#",
                             "properties": {"a": false}})"),
            "OK");

  // Draft 6/7: numeric exclusiveMaximum.
  for (const char* uri :
       {"http://json-schema.org/draft-06/schema#", "http://json-schema.org/draft-07/schema#"}) {
    JsonSchema schema =
        CompileOrDie(std::string(R"({"$schema": ")") + uri + R"(", "exclusiveMaximum": 3})");
    EXPECT_EQ(Check(schema, "2.5"), "OK") << uri;
    EXPECT_EQ(Check(schema, "3"), ": Expected number less than 3") << uri;
  }

  // 2020-12 is read with draft 7 rules: shared keywords and $defs references work.
  JsonSchema modern = CompileOrDie(R"({
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$defs": {"name": {"type": "string"}},
    "type": "object",
    "properties": {"name": {"$ref": "#/$defs/name"}},
    "required": ["name"]
  })");
  EXPECT_EQ(Check(modern, R"({"name": "x"})"), "OK");
  EXPECT_EQ(Check(modern, R"({"name": 1})"),
            "/name: Value type number not permitted by 'type' constraint.");
  EXPECT_EQ(Check(modern, "{}"), ": Missing required property 'name'.");
}

TEST(JsonSchemaTest, CopiesShareTheCompiledSchemaAcrossThreads) {
  JsonSchema schema = CompileOrDie(R"({
    "type": "object", "properties": {"n": {"type": "integer"}, "s": {"pattern": "^a+$"}}
  })");
  JsonSchema copy = schema;
  JsonSchema moved = std::move(copy);
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&schema, &moved, &failures, t] {
      // Json values may not cross threads: each thread parses its own.
      Json good = *Json::Parse(R"({"n": 1, "s": "aaa"})");
      Json bad = *Json::Parse(R"({"n": 1.5, "s": "b"})");
      const JsonSchema& use = t % 2 == 0 ? schema : moved;
      // Compiling concurrently is fine too (the shared meta-schema is built once).
      Result<JsonSchema> own = JsonSchema::Compile(*Json::Parse(R"({"type": "array"})"));
      if (!own.ok() || own->Validate(good).ok()) ++failures[t];
      for (int i = 0; i < 50; ++i) {
        if (!use.Validate(good).ok()) ++failures[t];
        if (use.Validate(bad).ok()) ++failures[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(failures[t], 0) << "thread " << t;
}

TEST(JsonSchemaTest, DeeplyNestedValueIsRefusedNotCrashed) {
  JsonSchema schema = CompileOrDie("{}");
  Json value = Json::Number(1);
  for (int i = 0; i < 600; ++i) {
    Json outer = Json::Array();
    outer.Append(std::move(value));
    value = std::move(outer);
  }
  Status status = schema.Validate(value);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("nested more than"), std::string::npos) << status.message();
}

// The JSON-Schema-Test-Suite (Debian package json-schema-test-suite), draft 7, for the core
// keywords. Every case of every listed file must agree with its expected `valid`.
constexpr const char* kSuiteDir = "/usr/share/json-schema-test-suite/tests/draft7";

class JsonSchemaSuiteTest : public testing::TestWithParam<const char*> {};

TEST_P(JsonSchemaSuiteTest, MatchesExpectedValidity) {
  std::filesystem::path path = std::filesystem::path(kSuiteDir) / GetParam();
  if (!std::filesystem::is_directory(kSuiteDir)) {
    GTEST_SKIP() << kSuiteDir
                 << " is missing: install the Debian package json-schema-test-suite "
                    "(scripts/install-deps.sh) to run the JSON-Schema-Test-Suite cases";
  }
  std::ifstream in(path);
  ASSERT_TRUE(in) << "cannot read " << path;
  std::stringstream text;
  text << in.rdbuf();
  Json groups = ParseOrDie(text.str());
  ASSERT_TRUE(groups.IsArray()) << path;
  ASSERT_FALSE(groups.empty()) << path;
  size_t cases = 0;
  groups.ForEachItem([&](size_t, const Json& group) {
    std::string group_name(group.Get("description").AsString());
    Result<JsonSchema> schema = JsonSchema::Compile(group.Get("schema"));
    if (!schema.ok()) {
      ADD_FAILURE() << GetParam() << " / " << group_name << ": " << schema.status().ToString();
      return;
    }
    group.Get("tests").ForEachItem([&](size_t, const Json& test) {
      ++cases;
      Status status = schema->Validate(test.Get("data"));
      EXPECT_EQ(status.ok(), test.Get("valid").AsBool())
          << GetParam() << " / " << group_name << " / " << test.Get("description").AsString()
          << "\n  schema: " << group.Get("schema").Dump() << "\n  data: " << test.Get("data").Dump()
          << "\n  status: " << status.ToString();
    });
  });
  EXPECT_GT(cases, 0u) << path;
}

INSTANTIATE_TEST_SUITE_P(Draft7, JsonSchemaSuiteTest,
                         testing::Values("type.json", "required.json", "properties.json",
                                         "items.json", "enum.json", "minimum.json", "maximum.json",
                                         "minLength.json", "pattern.json", "anyOf.json",
                                         "allOf.json", "oneOf.json", "not.json"),
                         [](const testing::TestParamInfo<const char*>& param) {
                           std::string name(param.param);
                           return name.substr(0, name.find('.'));
                         });

}  // namespace
}  // namespace baton::engine
