// YAML 1.2 reader on yaml-cpp's event parser.
//
// Why events and not YAML::Node: the node API expands nothing but also checks nothing. With
// events we see every node once, in order, with its mark, so we can (1) record positions,
// (2) reject duplicate keys, (3) apply the YAML 1.2 core schema to plain scalars (yaml-cpp
// leaves typing to the caller), and (4) stop hostile input early: the handler throws as
// soon as the nesting or the alias-expanded node count crosses ParseLimits, which unwinds
// yaml-cpp's recursive descent before it can exhaust the stack.
//
// yaml-cpp reports errors by throwing; nothing escapes ReadYaml.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include "model/source_readers.h"

namespace baton::model::internal {
namespace {

constexpr std::string_view kTagPrefix = "tag:yaml.org,2002:";

// Our own error, thrown from the handler through yaml-cpp and caught in ReadYaml.
struct ReadError {
  SourcePosition at;
  std::string message;
};

SourcePosition ToPosition(const YAML::Mark& mark) {
  if (mark.is_null()) return {1, 1};
  return {mark.line + 1, mark.column + 1};
}

bool IsDigits(std::string_view s, bool (*digit)(char)) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!digit(c)) return false;
  }
  return true;
}
bool IsDec(char c) { return c >= '0' && c <= '9'; }
bool IsOct(char c) { return c >= '0' && c <= '7'; }
bool IsHex(char c) { return IsDec(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool IsNullWord(std::string_view s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

std::optional<bool> BoolWord(std::string_view s) {
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  return std::nullopt;
}

// YAML 1.2 core schema integers: [-+]?[0-9]+ | 0o[0-7]+ | 0x[0-9a-fA-F]+.
std::optional<double> IntWord(std::string_view s) {
  if (s.size() > 2 && s[0] == '0' && s[1] == 'o' && IsDigits(s.substr(2), IsOct)) {
    return static_cast<double>(std::strtoull(std::string(s.substr(2)).c_str(), nullptr, 8));
  }
  if (s.size() > 2 && s[0] == '0' && s[1] == 'x' && IsDigits(s.substr(2), IsHex)) {
    return static_cast<double>(std::strtoull(std::string(s.substr(2)).c_str(), nullptr, 16));
  }
  std::string_view digits = s;
  if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) digits.remove_prefix(1);
  if (!IsDigits(digits, IsDec)) return std::nullopt;
  // strtod, not strtoll: out-of-range integers become the nearest double, as in jq.
  return std::strtod(std::string(s).c_str(), nullptr);
}

// YAML 1.2 core schema floats:
// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? | [-+]?\.(inf|Inf|INF) | \.(nan|NaN|NAN)
std::optional<double> FloatWord(std::string_view s) {
  if (s == ".nan" || s == ".NaN" || s == ".NAN") return std::numeric_limits<double>::quiet_NaN();
  std::string_view body = s;
  bool negative = false;
  if (!body.empty() && (body[0] == '-' || body[0] == '+')) {
    negative = body[0] == '-';
    body.remove_prefix(1);
  }
  if (body == ".inf" || body == ".Inf" || body == ".INF") {
    return negative ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity();
  }
  size_t i = 0;
  size_t int_digits = 0;
  while (i < body.size() && IsDec(body[i])) ++i, ++int_digits;
  size_t frac_digits = 0;
  if (i < body.size() && body[i] == '.') {
    ++i;
    while (i < body.size() && IsDec(body[i])) ++i, ++frac_digits;
    // "5." is a float; "." alone is not.
    if (int_digits == 0 && frac_digits == 0) return std::nullopt;
  } else if (int_digits == 0) {
    return std::nullopt;
  }
  if (i < body.size() && (body[i] == 'e' || body[i] == 'E')) {
    ++i;
    if (i < body.size() && (body[i] == '-' || body[i] == '+')) ++i;
    size_t exp_digits = 0;
    while (i < body.size() && IsDec(body[i])) ++i, ++exp_digits;
    if (exp_digits == 0) return std::nullopt;
  }
  if (i != body.size()) return std::nullopt;
  return std::strtod(std::string(s).c_str(), nullptr);
}

// Resolves a plain scalar with the core schema.
Json ResolvePlain(const std::string& value) {
  if (IsNullWord(value)) return Json::Null();
  if (auto b = BoolWord(value)) return Json::Bool(*b);
  if (auto i = IntWord(value)) return Json::Number(*i);
  if (auto f = FloatWord(value)) return Json::Number(*f);
  return Json::String(value);
}

class Builder : public YAML::EventHandler {
 public:
  Builder(const ParseLimits& limits, Document* doc) : limits_(limits), doc_(doc) {}

  bool has_root() const { return has_root_; }
  Json TakeRoot() { return std::move(root_); }

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (documents_++ > 0) {
      throw ReadError{ToPosition(mark),
                      "a workflow file must hold one YAML document, found a second one"};
    }
  }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (ExpectingKey()) {
      BeginMember(mark, "null");
      return;
    }
    AddLeaf(mark, anchor, Json::Null(), "null");
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end() || !it->second.complete) {
      throw ReadError{ToPosition(mark), "an alias cannot refer to a node that contains it"};
    }
    const Anchored& target = it->second;
    if (ExpectingKey()) {
      if (!target.scalar_text) {
        throw ReadError{ToPosition(mark), "mapping keys must be scalars"};
      }
      BeginMember(mark, *target.scalar_text);
      return;
    }
    // An alias stands for every value under its anchor: count them all, which is the cost of
    // walking the expanded document later, and its nesting, which an alias chain could
    // otherwise grow far past the limit (and every recursive walk with it). Positions are
    // not copied: values under an alias take the alias's position (Document::PositionOf
    // finds the nearest ancestor).
    CountNodes(mark, target.nodes);
    CheckDepth(mark, static_cast<int>(stack_.size()) + target.height);
    NextPointer(mark);
    Place(target.value, target.height);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    if (ExpectingKey()) {
      BeginMember(mark, value);
      if (anchor != 0) {
        // A key can be anchored and reused as a key (or a value) elsewhere.
        anchors_[anchor] = Anchored{Json::String(value), 1, 0, true, value};
      }
      return;
    }
    Json v = Scalar(mark, tag, value);
    AddLeaf(mark, anchor, std::move(v), value);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    CheckCollectionTag(mark, tag, "seq");
    Open(mark, anchor, /*is_map=*/false);
  }
  void OnSequenceEnd() override { Close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    CheckCollectionTag(mark, tag, "map");
    Open(mark, anchor, /*is_map=*/true);
  }
  void OnMapEnd() override { Close(); }

 private:
  struct Frame {
    Json value;
    bool is_map = false;
    std::string pointer;
    YAML::anchor_t anchor = 0;
    size_t nodes_at_open = 0;
    int height = 1;         // nested collections along the deepest path, this included
    size_t next_index = 0;  // sequences
    bool has_key = false;   // maps: a key was read, its value comes next
    std::string key;
  };
  struct Anchored {
    Json value;
    size_t nodes = 0;  // values under the anchor, itself included
    int height = 0;    // nested collections along its deepest path, itself included
    bool complete = false;
    std::optional<std::string> scalar_text;  // for aliases used as keys
  };

  bool ExpectingKey() const {
    return !stack_.empty() && stack_.back().is_map && !stack_.back().has_key;
  }

  void BeginMember(const YAML::Mark& mark, const std::string& key) {
    Frame& f = stack_.back();
    if (f.value.Has(key)) {
      std::string member = f.pointer + "/" + PointerEscape(key);
      SourcePosition first = doc_->positions[member];
      throw ReadError{ToPosition(mark), "duplicate key '" + key + "' (first defined at line " +
                                            std::to_string(first.line) + ", column " +
                                            std::to_string(first.column) + ")"};
    }
    f.has_key = true;
    f.key = key;
    doc_->positions[f.pointer + "/" + PointerEscape(key)] = ToPosition(mark);
  }

  // Pointer for the value that comes next; records its position unless it is a member
  // (members are recorded at their key).
  std::string NextPointer(const YAML::Mark& mark) {
    if (stack_.empty()) {
      doc_->positions[""] = ToPosition(mark);
      return "";
    }
    Frame& f = stack_.back();
    if (f.is_map) return f.pointer + "/" + PointerEscape(f.key);
    std::string p = f.pointer + "/" + std::to_string(f.next_index);
    doc_->positions[p] = ToPosition(mark);
    return p;
  }

  void CountNodes(const YAML::Mark& mark, size_t n) {
    nodes_ += n;
    if (nodes_ > limits_.max_nodes) {
      throw ReadError{ToPosition(mark), "document has more than " +
                                            std::to_string(limits_.max_nodes) +
                                            " values (after expanding aliases)"};
    }
  }

  // Puts a finished value where the parent expects it.
  void CheckDepth(const YAML::Mark& mark, int depth) {
    if (depth > limits_.max_depth) {
      throw ReadError{ToPosition(mark),
                      "nesting is deeper than " + std::to_string(limits_.max_depth) + " levels"};
    }
  }

  void Place(Json v, int height) {
    if (stack_.empty()) {
      root_ = std::move(v);
      has_root_ = true;
      return;
    }
    Frame& f = stack_.back();
    f.height = std::max(f.height, height + 1);
    if (f.is_map) {
      f.value.Set(f.key, std::move(v));
      f.has_key = false;
    } else {
      f.value.Append(std::move(v));
      ++f.next_index;
    }
  }

  void AddLeaf(const YAML::Mark& mark, YAML::anchor_t anchor, Json v,
               std::optional<std::string> text = std::nullopt) {
    CountNodes(mark, 1);
    NextPointer(mark);
    if (anchor != 0) anchors_[anchor] = Anchored{v, 1, 0, true, std::move(text)};
    Place(std::move(v), 0);
  }

  Json Scalar(const YAML::Mark& mark, const std::string& tag, const std::string& value) {
    if (tag == "?") return ResolvePlain(value);
    if (tag == "!") return Json::String(value);  // quoted or block scalar
    std::string_view t = tag;
    if (t.substr(0, kTagPrefix.size()) == kTagPrefix) {
      std::string_view type = t.substr(kTagPrefix.size());
      if (type == "str") return Json::String(value);
      if (type == "null" && IsNullWord(value)) return Json::Null();
      if (type == "bool") {
        if (auto b = BoolWord(value)) return Json::Bool(*b);
      }
      if (type == "int") {
        if (auto i = IntWord(value)) return Json::Number(*i);
      }
      if (type == "float") {
        if (auto f = FloatWord(value)) return Json::Number(*f);
        if (auto i = IntWord(value)) return Json::Number(*i);
      }
      if (type == "null" || type == "bool" || type == "int" || type == "float") {
        throw ReadError{ToPosition(mark),
                        "'" + value + "' is not a valid !!" + std::string(type) + " value"};
      }
    }
    throw ReadError{ToPosition(mark), "unsupported YAML tag '" + tag + "'"};
  }

  void CheckCollectionTag(const YAML::Mark& mark, const std::string& tag, std::string_view kind) {
    if (tag.empty() || tag == "?" || tag == "!") return;
    if (tag == std::string(kTagPrefix) + std::string(kind)) return;
    throw ReadError{ToPosition(mark), "unsupported YAML tag '" + tag + "'"};
  }

  void Open(const YAML::Mark& mark, YAML::anchor_t anchor, bool is_map) {
    if (ExpectingKey()) throw ReadError{ToPosition(mark), "mapping keys must be scalars"};
    CheckDepth(mark, static_cast<int>(stack_.size()) + 1);
    CountNodes(mark, 1);
    Frame f;
    f.pointer = NextPointer(mark);
    f.is_map = is_map;
    f.value = is_map ? Json::Object() : Json::Array();
    f.anchor = anchor;
    f.nodes_at_open = nodes_;
    if (anchor != 0) anchors_[anchor] = Anchored{};  // open: aliases to it are recursive
    stack_.push_back(std::move(f));
  }

  void Close() {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    if (f.anchor != 0) {
      anchors_[f.anchor] =
          Anchored{f.value, nodes_ - f.nodes_at_open + 1, f.height, true, std::nullopt};
    }
    Place(std::move(f.value), f.height);
  }

  const ParseLimits& limits_;
  Document* doc_;
  std::vector<Frame> stack_;
  std::unordered_map<YAML::anchor_t, Anchored> anchors_;
  Json root_;
  bool has_root_ = false;
  int documents_ = 0;
  size_t nodes_ = 0;
};

}  // namespace

Status ReadYaml(std::string_view text, const ParseLimits& limits, Document* doc,
                SourcePosition* error_at) {
  std::istringstream in{std::string(text)};
  Builder builder(limits, doc);
  SourcePosition at;
  std::string message;
  try {
    YAML::Parser parser(in);
    // The handler rejects a second document itself, at its start.
    while (parser.HandleNextDocument(builder)) {
    }
    doc->root = builder.has_root() ? builder.TakeRoot() : Json::Null();
    return Status::Ok();
  } catch (const ReadError& e) {
    at = e.at;
    message = e.message;
  } catch (const YAML::Exception& e) {
    at = ToPosition(e.mark);
    message = e.msg;
  } catch (const std::bad_alloc&) {
    throw;  // STYLE.md §3.4: running out of memory ends the process
  } catch (const std::exception& e) {
    // yaml-cpp may throw standard exceptions on malformed input (e.g. from std::stoi).
    at = {1, 1};
    message = std::string("cannot read YAML: ") + e.what();
  }
  if (error_at != nullptr) *error_at = at;
  return SyntaxError(doc->file, at, message);
}

}  // namespace baton::model::internal
