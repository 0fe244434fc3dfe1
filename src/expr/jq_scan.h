// ScanJq: a lexical pass over jq 1.6 source text, just deep enough for ProgramSet to wrap an
// author's expression safely.
//
// It follows the jq 1.6 lexer (src/lexer.l) for the parts that matter here: string literals
// with `\(...)` interpolation, `#` comments to the end of the line, bracket nesting, and
// `$name` references (jq 1.6 allows blanks between `$` and the name; `$__loc__` is a keyword,
// not a variable). It does not parse: a text that scans cleanly can still be a syntax error.
//
// Thread-safety: a pure function.
#pragma once

#include <string_view>
#include <vector>

namespace baton::expr {

struct JqScan {
  // Names referenced as `$name` outside string text (interpolations count), without '$', in
  // order of first appearance, without duplicates. Views into the scanned text.
  std::vector<std::string_view> variables;
  // False when brackets do not nest or a string is not terminated. Such a text could close
  // the parentheses ProgramSet puts around it and change the meaning of the whole program.
  bool balanced = true;
};

JqScan ScanJq(std::string_view text);

}  // namespace baton::expr
