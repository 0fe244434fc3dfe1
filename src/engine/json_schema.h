// JsonSchema: JSON Schema validation for the DSL's `input.schema`, `output.schema` and
// `export.schema` (dsl.md "Schema"). This class only sees the inner schema document, i.e. the
// `document` of `{format: "json", document: {...}}`; resolving `{resource: ...}` is the
// caller's job.
//
// Backed by valijson (header-only). Supported dialects, chosen by the document's `$schema`:
//   - draft-04                      → valijson draft 4 rules;
//   - draft-03                      → valijson draft 3 rules (legacy, as valijson has it);
//   - draft-06, draft-07, no/unknown `$schema` → draft 7 rules (a superset of draft 6);
//   - 2019-09 and 2020-12           → draft 7 rules: valijson has no support for them, so
//     their new keywords (prefixItems, $anchor, dependentRequired, unevaluated*, ...) are
//     ignored, while everything they share with draft 7 is enforced. `$ref` into
//     `#/$defs/...` works, since references are plain JSON pointers.
// Draft 6+ documents are first checked against the draft-07 meta-schema, so a malformed
// keyword is reported with its location ("/properties/a/minLength: ...").
// `$ref` must be a JSON pointer into the same document ("#/definitions/x"); `$id` does not
// change the base URI. Remote `$ref`s (to any other document) are never fetched: Compile
// fails with "remote $ref not supported: URI". `format` is checked for date, time and
// date-time only. Patterns are ECMAScript regular expressions as std::regex understands them
// (no \p{..}); an invalid one fails Compile.
//
// Numbers: baton values are doubles (jq); a number without a fractional part is an integer,
// so 1.0 satisfies {"type": "integer"} in every draft.
//
// Thread-safety: immutable after Compile. Validate is const and may run concurrently on
// copies or on the same object. Copies are cheap (shared, immutable state).
#pragma once

#include <cstddef>
#include <memory>
#include <utility>

#include "base/json.h"
#include "base/status.h"

namespace baton::engine {

class JsonSchema {
 public:
  // Compiles a schema document (an object, or a boolean in draft 6+). InvalidArgument with a
  // message naming the problem when the document is not a valid schema, uses an invalid
  // regular expression, or refers to another document ("remote $ref not supported: URI").
  static Result<JsonSchema> Compile(const Json& schema_document);

  // OK when `value` conforms. Otherwise InvalidArgument whose message lists the violations as
  // "<JSON pointer of the offending value>: <reason>" joined by "; " (the whole value's
  // pointer is the empty string, so a root violation reads ": <reason>"). At most 10 are
  // listed; when there are more, "; and N more" ends the message.
  Status Validate(const Json& value) const;

  // Maximum number of violations listed in a Validate message.
  static constexpr size_t kMaxListedViolations = 10;

 private:
  struct Impl;
  explicit JsonSchema(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

  std::shared_ptr<const Impl> impl_;
};

}  // namespace baton::engine
