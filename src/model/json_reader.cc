// Strict RFC 8259 JSON reader with positions.
//
// Why not jq's parser: its messages give a character offset that is hard to map back to a
// line and column, and it silently keeps the last of duplicate keys. Documents that start
// with '{' or '[' are read here first; see ParseDocument for the YAML fallback.
#include <cerrno>
#include <cstdlib>
#include <string>

#include "model/source_readers.h"

namespace baton::model::internal {
namespace {

class JsonReader {
 public:
  JsonReader(std::string_view text, const ParseLimits& limits, Document* doc)
      : text_(text), limits_(limits), doc_(doc) {}

  Status Read() {
    SkipSpace();
    if (AtEnd()) {
      Fail("empty JSON document");
      return error_;
    }
    Json root;
    if (!Value("", 0, &root)) return error_;
    SkipSpace();
    if (!AtEnd()) {
      Fail("unexpected text after the JSON value");
      return error_;
    }
    doc_->root = std::move(root);
    return Status::Ok();
  }

  SourcePosition error_at() const { return error_at_; }

 private:
  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return AtEnd() ? '\0' : text_[pos_]; }
  SourcePosition Here() const { return {line_, column_}; }

  void Advance() {
    if (text_[pos_] == '\n') {
      ++line_;
      column_ = 1;
    } else {
      ++column_;
    }
    ++pos_;
  }

  void SkipSpace() {
    while (!AtEnd()) {
      char c = text_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
      Advance();
    }
  }

  // Records the first error only; the reader stops at it.
  void Fail(std::string_view message) { FailAt(Here(), message); }
  void FailAt(SourcePosition at, std::string_view message) {
    error_ = SyntaxError(doc_->file, at, message);
    error_at_ = at;
  }

  std::string Describe() const {
    if (AtEnd()) return "end of input";
    unsigned char c = static_cast<unsigned char>(text_[pos_]);
    if (c < 0x20 || c >= 0x7f) return "character 0x" + Hex(c);
    return std::string("'") + static_cast<char>(c) + "'";
  }
  static std::string Hex(unsigned v) {
    static const char kDigits[] = "0123456789abcdef";
    return std::string{kDigits[(v >> 4) & 0xf], kDigits[v & 0xf]};
  }

  bool CountNode() {
    if (++nodes_ > limits_.max_nodes) {
      Fail("document has more than " + std::to_string(limits_.max_nodes) + " values");
      return false;
    }
    return true;
  }

  bool Value(const std::string& pointer, int depth, Json* out) {
    if (!CountNode()) return false;
    SkipSpace();
    SourcePosition at = Here();
    // Members are recorded at their key by Object(); everything else here.
    if (!doc_->positions.count(pointer)) doc_->positions[pointer] = at;
    char c = Peek();
    if (c == '{' || c == '[') {
      if (depth + 1 > limits_.max_depth) {
        Fail("nesting is deeper than " + std::to_string(limits_.max_depth) + " levels");
        return false;
      }
      return c == '{' ? Object(pointer, depth + 1, out) : Array(pointer, depth + 1, out);
    }
    if (c == '"') {
      std::string s;
      if (!String(&s)) return false;
      *out = Json::String(s);
      return true;
    }
    if (c == '-' || (c >= '0' && c <= '9')) return Number(out);
    if (Literal("true")) {
      *out = Json::Bool(true);
      return true;
    }
    if (Literal("false")) {
      *out = Json::Bool(false);
      return true;
    }
    if (Literal("null")) {
      *out = Json::Null();
      return true;
    }
    Fail("expected a JSON value, got " + Describe());
    return false;
  }

  bool Literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    for (size_t i = 0; i < word.size(); ++i) Advance();
    return true;
  }

  bool Object(const std::string& pointer, int depth, Json* out) {
    Advance();  // '{'
    Json obj = Json::Object();
    SkipSpace();
    if (Peek() == '}') {
      Advance();
      *out = std::move(obj);
      return true;
    }
    while (true) {
      SkipSpace();
      if (Peek() != '"') {
        Fail("expected a string key, got " + Describe());
        return false;
      }
      SourcePosition key_at = Here();
      std::string key;
      if (!String(&key)) return false;
      std::string member = pointer + "/" + PointerEscape(key);
      if (obj.Has(key)) {
        SourcePosition first = doc_->positions[member];
        FailAt(key_at, "duplicate key '" + key + "' (first defined at line " +
                           std::to_string(first.line) + ", column " + std::to_string(first.column) +
                           ")");
        return false;
      }
      doc_->positions[member] = key_at;
      SkipSpace();
      if (Peek() != ':') {
        Fail("expected ':' after object key, got " + Describe());
        return false;
      }
      Advance();
      Json value;
      if (!Value(member, depth, &value)) return false;
      obj.Set(key, std::move(value));
      SkipSpace();
      if (Peek() == ',') {
        Advance();
        continue;
      }
      if (Peek() == '}') {
        Advance();
        *out = std::move(obj);
        return true;
      }
      Fail("expected ',' or '}' after object member, got " + Describe());
      return false;
    }
  }

  bool Array(const std::string& pointer, int depth, Json* out) {
    Advance();  // '['
    Json arr = Json::Array();
    SkipSpace();
    if (Peek() == ']') {
      Advance();
      *out = std::move(arr);
      return true;
    }
    for (size_t index = 0;; ++index) {
      Json item;
      if (!Value(pointer + "/" + std::to_string(index), depth, &item)) return false;
      arr.Append(std::move(item));
      SkipSpace();
      if (Peek() == ',') {
        Advance();
        continue;
      }
      if (Peek() == ']') {
        Advance();
        *out = std::move(arr);
        return true;
      }
      Fail("expected ',' or ']' after array item, got " + Describe());
      return false;
    }
  }

  bool Number(Json* out) {
    size_t start = pos_;
    SourcePosition at = Here();
    if (Peek() == '-') Advance();
    if (Peek() == '0') {
      Advance();
    } else if (Peek() >= '1' && Peek() <= '9') {
      while (Peek() >= '0' && Peek() <= '9') Advance();
    } else {
      FailAt(at, "invalid number: expected a digit after '-'");
      return false;
    }
    if (Peek() == '.') {
      Advance();
      if (!(Peek() >= '0' && Peek() <= '9')) {
        Fail("invalid number: expected a digit after '.'");
        return false;
      }
      while (Peek() >= '0' && Peek() <= '9') Advance();
    }
    if (Peek() == 'e' || Peek() == 'E') {
      Advance();
      if (Peek() == '+' || Peek() == '-') Advance();
      if (!(Peek() >= '0' && Peek() <= '9')) {
        Fail("invalid number: expected a digit in the exponent");
        return false;
      }
      while (Peek() >= '0' && Peek() <= '9') Advance();
    }
    std::string literal(text_.substr(start, pos_ - start));
    *out = Json::Number(std::strtod(literal.c_str(), nullptr));
    return true;
  }

  static void AppendUtf8(uint32_t cp, std::string* s) {
    if (cp < 0x80) {
      s->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      s->push_back(static_cast<char>(0xc0 | (cp >> 6)));
      s->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      s->push_back(static_cast<char>(0xe0 | (cp >> 12)));
      s->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      s->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
      s->push_back(static_cast<char>(0xf0 | (cp >> 18)));
      s->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
      s->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      s->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
  }

  bool Hex4(uint32_t* out) {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = Peek();
      uint32_t d;
      if (c >= '0' && c <= '9') {
        d = static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        d = static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        d = static_cast<uint32_t>(c - 'A' + 10);
      } else {
        Fail("invalid \\u escape: expected 4 hexadecimal digits");
        return false;
      }
      v = v * 16 + d;
      Advance();
    }
    *out = v;
    return true;
  }

  bool String(std::string* out) {
    SourcePosition open = Here();
    Advance();  // '"'
    while (true) {
      if (AtEnd()) {
        FailAt(open, "unterminated string");
        return false;
      }
      char c = text_[pos_];
      if (c == '"') {
        Advance();
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) {
        Fail(c == '\n' ? std::string("unterminated string (newline in a string)")
                       : "control character " + Describe() + " in a string must be escaped");
        return false;
      }
      if (c != '\\') {
        out->push_back(c);
        Advance();
        continue;
      }
      SourcePosition escape_at = Here();
      Advance();
      char e = Peek();
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out->push_back(e);
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {
          Advance();
          uint32_t cp;
          if (!Hex4(&cp)) return false;
          if (cp >= 0xd800 && cp <= 0xdbff) {
            uint32_t low = 0;
            if (Peek() != '\\' || text_.substr(pos_, 2) != "\\u") {
              FailAt(escape_at, "invalid \\u escape: high surrogate without a low surrogate");
              return false;
            }
            Advance();
            Advance();
            if (!Hex4(&low)) return false;
            if (low < 0xdc00 || low > 0xdfff) {
              FailAt(escape_at, "invalid \\u escape: high surrogate without a low surrogate");
              return false;
            }
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          } else if (cp >= 0xdc00 && cp <= 0xdfff) {
            FailAt(escape_at, "invalid \\u escape: unpaired low surrogate");
            return false;
          }
          AppendUtf8(cp, out);
          continue;  // Hex4 consumed the digits
        }
        default:
          FailAt(escape_at, "invalid escape sequence '\\" +
                                std::string(AtEnd() ? "" : std::string(1, e)) + "' in a string");
          return false;
      }
      Advance();
    }
  }

  std::string_view text_;
  const ParseLimits& limits_;
  Document* doc_;
  size_t pos_ = 0;
  int line_ = 1;
  int column_ = 1;
  size_t nodes_ = 0;
  Status error_;
  SourcePosition error_at_;
};

}  // namespace

Status ReadJson(std::string_view text, const ParseLimits& limits, Document* doc,
                SourcePosition* error_at) {
  JsonReader reader(text, limits, doc);
  Status status = reader.Read();
  if (error_at != nullptr) *error_at = reader.error_at();
  return status;
}

}  // namespace baton::model::internal
