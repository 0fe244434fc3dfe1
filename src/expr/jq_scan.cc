#include "expr/jq_scan.h"

#include <algorithm>
#include <cstddef>

namespace baton::expr {
namespace {

bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || (c >= '0' && c <= '9'); }

// Length of jq's IDENT at text[pos] (`([a-zA-Z_][a-zA-Z_0-9]*::)*[a-zA-Z_][a-zA-Z_0-9]*`), or 0.
size_t IdentLength(std::string_view text, size_t pos) {
  size_t end = pos;
  if (end >= text.size() || !IsIdentStart(text[end])) return 0;
  while (true) {
    while (end < text.size() && IsIdentChar(text[end])) ++end;
    if (end + 2 < text.size() && text[end] == ':' && text[end + 1] == ':' &&
        IsIdentStart(text[end + 2])) {
      end += 2;
      continue;
    }
    return end - pos;
  }
}

size_t SkipComment(std::string_view text, size_t pos) {
  while (pos < text.size() && text[pos] != '\n' && text[pos] != '\r') ++pos;
  return pos;
}

// Skips what the jq 1.6 lexer ignores between tokens: blanks and comments.
size_t SkipIgnored(std::string_view text, size_t pos) {
  while (pos < text.size()) {
    char c = text[pos];
    if (c == ' ' || c == '\t' || c == '\n') {
      ++pos;
    } else if (c == '#') {
      pos = SkipComment(text, pos);
    } else {
      break;
    }
  }
  return pos;
}

// The opener that `closer` must match.
char OpenerOf(char closer) {
  switch (closer) {
    case ')':
      return '(';
    case ']':
      return '[';
    default:
      return '{';
  }
}

}  // namespace

JqScan ScanJq(std::string_view text) {
  JqScan scan;
  // What is open, innermost last: '(', '[' and '{' in code; 'i' for the `\(` that starts an
  // interpolation (closed by ')' like a parenthesis, back into the string); '"' for a string.
  std::vector<char> open;
  size_t pos = 0;
  while (pos < text.size()) {
    char c = text[pos];
    if (!open.empty() && open.back() == '"') {
      if (c == '\\') {
        if (pos + 1 < text.size() && text[pos + 1] == '(') open.push_back('i');
        pos += 2;  // An escaped character never ends the string.
        continue;
      }
      if (c == '"') open.pop_back();
      ++pos;
      continue;
    }
    switch (c) {
      case '#':
        pos = SkipComment(text, pos);
        continue;
      case '"':
      case '(':
      case '[':
      case '{':
        open.push_back(c);
        break;
      case ')':
      case ']':
      case '}': {
        bool matches =
            !open.empty() && (open.back() == OpenerOf(c) || (c == ')' && open.back() == 'i'));
        if (matches) {
          open.pop_back();
        } else {
          scan.balanced = false;
        }
        break;
      }
      case '$': {
        size_t start = SkipIgnored(text, pos + 1);
        size_t length = IdentLength(text, start);
        if (length == 0) break;
        std::string_view name = text.substr(start, length);
        if (name != "__loc__" &&
            std::find(scan.variables.begin(), scan.variables.end(), name) == scan.variables.end()) {
          scan.variables.push_back(name);
        }
        pos = start + length;
        continue;
      }
      default:
        break;
    }
    ++pos;
  }
  if (!open.empty()) scan.balanced = false;
  return scan;
}

}  // namespace baton::expr
