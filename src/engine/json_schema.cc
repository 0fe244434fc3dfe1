// valijson reports errors through throwRuntimeError/throwLogicError, which abort() the process
// unless this is set before its headers are included. Nothing else in baton includes valijson;
// if something ever does, it must define this too (or the build should set it globally), or
// the inline functions would differ between translation units.
#ifndef VALIJSON_USE_EXCEPTIONS
#define VALIJSON_USE_EXCEPTIONS 1
#endif

#include "engine/json_schema.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

namespace baton::engine {

struct JsonSchema::Impl {
  valijson::Schema schema;
};

namespace {

// Deeper values are refused rather than risking the stack in the recursive conversion and in
// valijson's recursive validation. Workflow data is nowhere near this.
constexpr int kMaxDepth = 512;

// The draft-07 meta-schema (json-schema.org), checked against before compiling a draft 6/7 (or
// newer) schema: it reports a malformed keyword with its location, where valijson's parser only
// says what was wrong ("JSON value is not a string.").
constexpr const char* kDraft7MetaSchema = R"json({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "$id": "http://json-schema.org/draft-07/schema#",
  "title": "Core schema meta-schema",
  "definitions": {
    "schemaArray": {
      "type": "array",
      "minItems": 1,
      "items": { "$ref": "#" }
    },
    "nonNegativeInteger": {
      "type": "integer",
      "minimum": 0
    },
    "nonNegativeIntegerDefault0": {
      "allOf": [
        { "$ref": "#/definitions/nonNegativeInteger" },
        { "default": 0 }
      ]
    },
    "simpleTypes": {
      "enum": [
        "array",
        "boolean",
        "integer",
        "null",
        "number",
        "object",
        "string"
      ]
    },
    "stringArray": {
      "type": "array",
      "items": { "type": "string" },
      "uniqueItems": true,
      "default": []
    }
  },
  "type": ["object", "boolean"],
  "properties": {
    "$id": {
      "type": "string",
      "format": "uri-reference"
    },
    "$schema": {
      "type": "string",
      "format": "uri"
    },
    "$ref": {
      "type": "string",
      "format": "uri-reference"
    },
    "$comment": {
      "type": "string"
    },
    "title": {
      "type": "string"
    },
    "description": {
      "type": "string"
    },
    "default": true,
    "readOnly": {
      "type": "boolean",
      "default": false
    },
    "examples": {
      "type": "array",
      "items": true
    },
    "multipleOf": {
      "type": "number",
      "exclusiveMinimum": 0
    },
    "maximum": {
      "type": "number"
    },
    "exclusiveMaximum": {
      "type": "number"
    },
    "minimum": {
      "type": "number"
    },
    "exclusiveMinimum": {
      "type": "number"
    },
    "maxLength": { "$ref": "#/definitions/nonNegativeInteger" },
    "minLength": { "$ref": "#/definitions/nonNegativeIntegerDefault0" },
    "pattern": {
      "type": "string",
      "format": "regex"
    },
    "additionalItems": { "$ref": "#" },
    "items": {
      "anyOf": [
        { "$ref": "#" },
        { "$ref": "#/definitions/schemaArray" }
      ],
      "default": true
    },
    "maxItems": { "$ref": "#/definitions/nonNegativeInteger" },
    "minItems": { "$ref": "#/definitions/nonNegativeIntegerDefault0" },
    "uniqueItems": {
      "type": "boolean",
      "default": false
    },
    "contains": { "$ref": "#" },
    "maxProperties": { "$ref": "#/definitions/nonNegativeInteger" },
    "minProperties": { "$ref": "#/definitions/nonNegativeIntegerDefault0" },
    "required": { "$ref": "#/definitions/stringArray" },
    "additionalProperties": { "$ref": "#" },
    "definitions": {
      "type": "object",
      "additionalProperties": { "$ref": "#" },
      "default": {}
    },
    "properties": {
      "type": "object",
      "additionalProperties": { "$ref": "#" },
      "default": {}
    },
    "patternProperties": {
      "type": "object",
      "additionalProperties": { "$ref": "#" },
      "propertyNames": { "format": "regex" },
      "default": {}
    },
    "dependencies": {
      "type": "object",
      "additionalProperties": {
        "anyOf": [
          { "$ref": "#" },
          { "$ref": "#/definitions/stringArray" }
        ]
      }
    },
    "propertyNames": { "$ref": "#" },
    "const": true,
    "enum": {
      "type": "array",
      "items": true
    },
    "type": {
      "anyOf": [
        { "$ref": "#/definitions/simpleTypes" },
        {
          "type": "array",
          "items": { "$ref": "#/definitions/simpleTypes" },
          "minItems": 1,
          "uniqueItems": true
        }
      ]
    },
    "format": { "type": "string" },
    "contentMediaType": { "type": "string" },
    "contentEncoding": { "type": "string" },
    "if": {"$ref": "#"},
    "then": {"$ref": "#"},
    "else": {"$ref": "#"},
    "allOf": { "$ref": "#/definitions/schemaArray" },
    "anyOf": { "$ref": "#/definitions/schemaArray" },
    "oneOf": { "$ref": "#/definitions/schemaArray" },
    "not": { "$ref": "#" }
  },
  "default": true
})json";

// baton::Json → nlohmann::json. Numbers with no fractional part (that fit int64) become
// integers, so that {"type": "integer"} accepts jq's 1 (a double) and 1.0 alike.
Status ToNlohmann(const Json& value, int depth, nlohmann::json* out) {
  if (depth > kMaxDepth) {
    return Status::InvalidArgument("value nested more than " + std::to_string(kMaxDepth) +
                                   " levels deep");
  }
  switch (value.kind()) {
    case Json::Kind::kNull:
      *out = nullptr;
      return Status::Ok();
    case Json::Kind::kFalse:
      *out = false;
      return Status::Ok();
    case Json::Kind::kTrue:
      *out = true;
      return Status::Ok();
    case Json::Kind::kNumber:
      if (value.IsInteger()) {
        *out = value.AsInt();
      } else {
        *out = value.AsNumber();
      }
      return Status::Ok();
    case Json::Kind::kString:
      *out = std::string(value.AsString());
      return Status::Ok();
    case Json::Kind::kArray: {
      *out = nlohmann::json::array();
      Status status;
      value.ForEachItem([&](size_t, const Json& item) {
        if (!status.ok()) return;
        nlohmann::json converted;
        status = ToNlohmann(item, depth + 1, &converted);
        out->push_back(std::move(converted));
      });
      return status;
    }
    case Json::Kind::kObject: {
      *out = nlohmann::json::object();
      Status status;
      value.ForEachMember([&](std::string_view key, const Json& member) {
        if (!status.ok()) return;
        nlohmann::json converted;
        status = ToNlohmann(member, depth + 1, &converted);
        (*out)[std::string(key)] = std::move(converted);
      });
      return status;
    }
  }
  return Status::Internal("unknown JSON kind");
}

// Which valijson rules apply, from `$schema`.
Result<valijson::SchemaParser::Version> DraftOf(const Json& document) {
  if (!document.IsObject() || !document.Has("$schema")) return valijson::SchemaParser::kDraft7;
  Json uri = document.Get("$schema");
  if (!uri.IsString()) {
    return Status::InvalidArgument(std::string("invalid JSON Schema: '$schema' must be a string, "
                                               "got ") +
                                   uri.KindName());
  }
  std::string_view s = uri.AsString();
  if (s.find("json-schema.org/draft-04/") != std::string_view::npos) {
    return valijson::SchemaParser::kDraft4;
  }
  if (s.find("json-schema.org/draft-03/") != std::string_view::npos) {
    return valijson::SchemaParser::kDraft3;
  }
  // draft-06 and draft-07 use the draft 7 rules (draft 7 only adds if/then/else and a few
  // formats). valijson does not support 2019-09 or 2020-12: they are treated as draft 7, which
  // enforces every keyword they share with it and ignores the ones they added. Unknown
  // (custom meta-schema) URIs get the default, draft 7.
  return valijson::SchemaParser::kDraft7;
}

// "/a/b" + "c" → "/a/b/c", escaping the token.
std::string Child(const std::string& pointer, std::string_view token) {
  return pointer + "/" + PointerEscape(token);
}

// Checks what valijson would only find at validation time (invalid regular expressions:
// std::regex throws while validating) or not survive at all ($ref chains that loop back
// without ever reaching a schema: unbounded recursion in the parser).
class Precheck {
 public:
  explicit Precheck(const nlohmann::json& root) : root_(root) {}

  Status Check(const nlohmann::json& node, const std::string& path, int depth) {
    if (depth > kMaxDepth) {
      return Status::InvalidArgument("invalid JSON Schema: nested more than " +
                                     std::to_string(kMaxDepth) + " levels deep");
    }
    if (!node.is_object()) return Status::Ok();
    BATON_RETURN_IF_ERROR(CheckRefChain(node, path));
    if (auto it = node.find("pattern"); it != node.end() && it->is_string()) {
      BATON_RETURN_IF_ERROR(CheckRegex(it->get_ref<const std::string&>(), path + "/pattern"));
    }
    if (auto it = node.find("patternProperties"); it != node.end() && it->is_object()) {
      for (const auto& [key, sub] : it->items()) {
        BATON_RETURN_IF_ERROR(CheckRegex(key, Child(path + "/patternProperties", key)));
      }
    }
    for (const char* keyword : {"additionalItems", "additionalProperties", "contains", "not", "if",
                                "then", "else", "propertyNames", "items"}) {
      if (auto it = node.find(keyword); it != node.end() && it->is_object()) {
        BATON_RETURN_IF_ERROR(Check(*it, path + "/" + keyword, depth + 1));
      }
    }
    for (const char* keyword : {"allOf", "anyOf", "oneOf", "items"}) {
      if (auto it = node.find(keyword); it != node.end() && it->is_array()) {
        for (size_t i = 0; i < it->size(); ++i) {
          BATON_RETURN_IF_ERROR(
              Check((*it)[i], path + "/" + keyword + "/" + std::to_string(i), depth + 1));
        }
      }
    }
    for (const char* keyword :
         {"properties", "patternProperties", "definitions", "$defs", "dependencies"}) {
      if (auto it = node.find(keyword); it != node.end() && it->is_object()) {
        for (const auto& [key, sub] : it->items()) {
          BATON_RETURN_IF_ERROR(Check(sub, Child(path + "/" + keyword, key), depth + 1));
        }
      }
    }
    return Status::Ok();
  }

 private:
  static Status CheckRegex(const std::string& pattern, const std::string& path) {
    try {
      std::regex compiled(pattern);
    } catch (const std::exception& e) {
      return Status::InvalidArgument("invalid JSON Schema: bad regular expression '" + pattern +
                                     "' at " + path + ": " + e.what());
    }
    return Status::Ok();
  }

  // Follows local "$ref": "#/..." links from `node` while they lead to other references:
  // each must resolve, and the chain must end at a schema rather than loop.
  Status CheckRefChain(const nlohmann::json& node, const std::string& path) {
    std::set<std::string> seen;
    const nlohmann::json* current = &node;
    for (;;) {
      auto it = current->find("$ref");
      if (it == current->end() || !it->is_string()) return Status::Ok();
      const std::string& ref = it->get_ref<const std::string&>();
      if (ref.empty() || ref[0] != '#') return Status::Ok();  // Another document: Populate's.
      const std::string where = path.empty() ? "the root" : path;
      if (!seen.insert(ref).second) {
        return RefError("circular $ref '", ref, "' at " + where);
      }
      std::string pointer;
      if (!PercentDecode(std::string_view(ref).substr(1), &pointer) ||
          (!pointer.empty() && pointer[0] != '/')) {
        return RefError("$ref '", ref,
                        "' at " + where + " is not a JSON pointer (anchors are not supported)");
      }
      const nlohmann::json* target = nullptr;
      try {
        target = &root_.at(nlohmann::json::json_pointer(pointer));
      } catch (const std::exception&) {
        return RefError("$ref '", ref, "' at " + where + " does not resolve");
      }
      if (!target->is_object()) return Status::Ok();
      current = target;
    }
  }

  static Status RefError(std::string_view before, const std::string& ref,
                         const std::string& after) {
    std::string message = "invalid JSON Schema: ";
    message.append(before).append(ref).append(after);
    return Status::InvalidArgument(std::move(message));
  }

  // "%25" → "%", as in a URI fragment. False on a malformed escape.
  static bool PercentDecode(std::string_view in, std::string* out) {
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    for (size_t i = 0; i < in.size(); ++i) {
      if (in[i] != '%') {
        out->push_back(in[i]);
        continue;
      }
      if (i + 2 >= in.size()) return false;
      int high = hex(in[i + 1]);
      int low = hex(in[i + 2]);
      if (high < 0 || low < 0) return false;
      out->push_back(static_cast<char>(high * 16 + low));
      i += 2;
    }
    return true;
  }

  const nlohmann::json& root_;
};

// One violation as valijson reported it, with its context turned into a JSON pointer.
struct Violation {
  std::string pointer;
  std::string reason;
};

// valijson's context is {"<root>", "[key]", "[index]", ...}.
std::string PointerOf(const std::vector<std::string>& context) {
  std::string pointer;
  for (size_t i = 1; i < context.size(); ++i) {
    std::string_view token = context[i];
    if (token.size() >= 2 && token.front() == '[' && token.back() == ']') {
      token = token.substr(1, token.size() - 2);
    }
    pointer = Child(pointer, token);
  }
  return pointer;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// The digits after "#" in "...item #12 ..." ("" if none).
std::string ItemIndex(std::string_view reason) {
  size_t hash = reason.find('#');
  if (hash == std::string_view::npos) return "";
  size_t end = hash + 1;
  while (end < reason.size() && reason[end] >= '0' && reason[end] <= '9') ++end;
  return std::string(reason.substr(hash + 1, end - hash - 1));
}

// valijson reports a failing subschema twice: the subschema's own errors, then a summary at the
// parent ("Failed to validate against schema associated with property name 'a'."). The
// summaries add nothing when the errors they summarize are listed, so they are dropped then;
// they stay when the subschema failed silently (a `false` schema). True when `v` is such a
// summary; then *scope is the pointer at or below which the errors it summarizes lie.
bool IsSummary(const Violation& v, std::string* scope) {
  const std::string& r = v.reason;
  static constexpr std::string_view kProperty =
      "Failed to validate against schema associated with property name '";
  if (StartsWith(r, kProperty) && r.size() >= kProperty.size() + 2) {
    *scope = Child(v.pointer,
                   std::string_view(r).substr(kProperty.size(), r.size() - kProperty.size() - 2));
    return true;
  }
  if (StartsWith(r, "Failed to validate item #")) {
    // "... against corresponding item schema." is reported at the item itself.
    bool at_item = r.find("corresponding item schema") != std::string::npos;
    *scope = at_item ? v.pointer : Child(v.pointer, ItemIndex(r));
    return true;
  }
  if (StartsWith(r, "Failed to validate against schema associated with pattern '") ||
      StartsWith(r, "Failed to validate against additional properties schema") ||
      StartsWith(r, "Failed to validate against child schema #") ||
      StartsWith(r, "Failed to validate against a conditional schema") ||
      // Pushed (wrongly) after a tuple item failed, besides that item's own errors; and after
      // "Array contains more items than allowed by items constraint.", which says it better.
      StartsWith(r, "Cannot validate item #")) {
    *scope = v.pointer;
    return true;
  }
  return false;
}

// "Expected number less than 10.500000" → "... 10.5" (valijson formats with std::to_string).
std::string TrimTrailingDecimal(std::string reason) {
  size_t dot = reason.rfind('.');
  if (dot == std::string::npos || dot + 1 >= reason.size()) return reason;
  size_t start = dot;
  while (start > 0 && reason[start - 1] >= '0' && reason[start - 1] <= '9') --start;
  if (start == dot) return reason;
  for (size_t i = dot + 1; i < reason.size(); ++i) {
    if (reason[i] < '0' || reason[i] > '9') return reason;
  }
  size_t end = reason.size();
  while (end > dot + 1 && reason[end - 1] == '0') --end;
  if (end == dot + 1) end = dot;
  reason.resize(end);
  return reason;
}

std::string Describe(const Violation& v, const Json& value) {
  const std::string& r = v.reason;
  if (StartsWith(r, "Value type not permitted by 'type' constraint")) {
    return "Value type " + std::string(value.AtPointer(v.pointer).KindName()) +
           " not permitted by 'type' constraint.";
  }
  if (StartsWith(r, "Failed to any values against subschema in 'contains'")) {
    return "No array item matches the 'contains' schema.";
  }
  if (StartsWith(r, "Expected number") || StartsWith(r, "Value should be a multiple of")) {
    return TrimTrailingDecimal(r);
  }
  return r;
}

// Linear in the number of errors: an invalid value with a million bad items must not turn
// into a quadratic report.
std::string FormatViolations(const valijson::ValidationResults& results, const Json& value) {
  // Every pointer at or above a (non-summary) error reported so far.
  std::unordered_set<std::string> explained;
  std::unordered_set<std::string> seen;  // pointer + '\0' + reason, to drop repeats.
  std::vector<Violation> kept;
  size_t total = 0;
  for (const valijson::ValidationResults::Error& error : results) {
    Violation v{PointerOf(error.context), error.description};
    std::string scope;
    if (IsSummary(v, &scope)) {
      if (explained.count(scope) > 0) continue;
    } else {
      std::string_view ancestor = v.pointer;
      for (;;) {
        if (!explained.emplace(ancestor).second) break;  // Its ancestors are there too.
        if (ancestor.empty()) break;
        ancestor = ancestor.substr(0, ancestor.rfind('/'));
      }
    }
    if (!seen.insert(v.pointer + '\0' + v.reason).second) continue;
    ++total;
    if (kept.size() < JsonSchema::kMaxListedViolations) kept.push_back(std::move(v));
  }
  // A failing `false` schema at the root reports nothing.
  if (kept.empty()) return ": Value not allowed by the schema.";

  std::string message;
  for (const Violation& v : kept) {
    if (!message.empty()) message += "; ";
    message.append(v.pointer).append(": ").append(Describe(v, value));
  }
  if (total > kept.size()) message += "; and " + std::to_string(total - kept.size()) + " more";
  return message;
}

// Parses `document` into `schema`: valijson's exceptions become InvalidArgument.
Status Populate(const nlohmann::json& document, valijson::SchemaParser::Version version,
                valijson::Schema* schema) {
  std::string remote_uri;
  try {
    valijson::SchemaParser parser(version);
    valijson::adapters::NlohmannJsonAdapter adapter(document);
    // Remote documents are never fetched: record which one was wanted and fail.
    auto fetch = [&remote_uri](const std::string& uri) -> const nlohmann::json* {
      remote_uri = uri;
      return nullptr;
    };
    auto release = [](const nlohmann::json*) {};
    parser.populateSchema(adapter, *schema, fetch, release);
    return Status::Ok();
  } catch (const std::exception& e) {
    if (!remote_uri.empty()) {
      return Status::InvalidArgument("remote $ref not supported: " + remote_uri);
    }
    return Status::InvalidArgument(std::string("invalid JSON Schema: ") + e.what());
  } catch (...) {
    return Status::InvalidArgument("invalid JSON Schema: unknown error");
  }
}

}  // namespace

Result<JsonSchema> JsonSchema::Compile(const Json& schema_document) {
  if (!schema_document.IsObject() && !schema_document.IsBool()) {
    return Status::InvalidArgument(
        std::string("invalid JSON Schema: expected an object or a boolean, got ") +
        schema_document.KindName());
  }
  BATON_ASSIGN_OR_RETURN(valijson::SchemaParser::Version version, DraftOf(schema_document));
  if (version == valijson::SchemaParser::kDraft7) {
    // Built once, never destroyed (no static destructor); null only if the constant above
    // were broken, which the unit tests would show.
    static const JsonSchema* const kMetaSchema = []() -> const JsonSchema* {
      try {
        auto impl = std::make_shared<Impl>();
        nlohmann::json meta = nlohmann::json::parse(kDraft7MetaSchema);
        if (!Populate(meta, valijson::SchemaParser::kDraft7, &impl->schema).ok()) return nullptr;
        return new JsonSchema(std::move(impl));
      } catch (...) {
        return nullptr;
      }
    }();
    if (kMetaSchema == nullptr) {
      return Status::Internal("the draft-07 meta-schema does not compile");
    }
    Status conforms = kMetaSchema->Validate(schema_document);
    if (!conforms.ok()) {
      return Status::InvalidArgument("invalid JSON Schema: " + conforms.message());
    }
  }
  try {
    nlohmann::json document;
    Status converted = ToNlohmann(schema_document, 0, &document);
    if (!converted.ok()) {
      return Status::InvalidArgument("invalid JSON Schema: " + converted.message());
    }
    BATON_RETURN_IF_ERROR(Precheck(document).Check(document, "", 0));
    auto impl = std::make_shared<Impl>();
    BATON_RETURN_IF_ERROR(Populate(document, version, &impl->schema));
    return JsonSchema(std::move(impl));
  } catch (...) {  // nlohmann (or std::bad_alloc): nothing may escape.
    return Status::InvalidArgument("invalid JSON Schema: unexpected error while compiling");
  }
}

Status JsonSchema::Validate(const Json& value) const {
  if (impl_ == nullptr) return Status::Internal("JsonSchema used after being moved from");
  try {
    nlohmann::json document;
    BATON_RETURN_IF_ERROR(ToNlohmann(value, 0, &document));
    valijson::adapters::NlohmannJsonAdapter target(document);
    // A Validator caches compiled regular expressions in itself, so each call has its own:
    // that is what keeps Validate thread-safe. The Schema is only read.
    valijson::Validator validator;
    // First pass stops at the first failure: the common, valid case costs no bookkeeping.
    if (validator.validate(impl_->schema, target, nullptr)) return Status::Ok();
    valijson::ValidationResults results;
    validator.validate(impl_->schema, target, &results);
    return Status::InvalidArgument(FormatViolations(results, value));
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("JSON Schema validation failed: ") + e.what());
  } catch (...) {
    return Status::InvalidArgument("JSON Schema validation failed: unknown error");
  }
}

}  // namespace baton::engine
