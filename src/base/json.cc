#include "base/json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "base/check.h"

namespace baton {

Json Json::Adopt(jv v) {
  BATON_CHECK(jv_is_valid(v));
  return Json(v);
}

Json Json::String(std::string_view s) {
  return Json(jv_string_sized(s.data(), static_cast<int>(s.size())));
}

namespace {

// libjq 1.6's parser leaks the string it has just read when that string follows another value
// inside an array or object without a separator (`["a" "b"]`, `{"k": 1 "x"}`): a few bytes per
// malformed request, which a client could repeat forever. Such text is never JSON, so it is
// refused here, before libjq sees it, with libjq's own wording. Returns the offset just after
// the offending string, or npos.
size_t LeakingSeparatorError(std::string_view text) {
  int depth = 0;
  bool pending = false;  // a value (or key) ended and no ',' or ':' came since
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    switch (c) {
      case ' ':
      case '\t':
      case '\n':
      case '\r':
        break;
      case '"': {
        bool adjacent = depth > 0 && pending;
        for (++i; i < text.size() && text[i] != '"'; ++i) {
          if (text[i] == '\\') ++i;
        }
        if (adjacent) return std::min(i + 1, text.size());
        pending = true;
        break;
      }
      case '[':
      case '{':
        ++depth;
        pending = false;
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        pending = true;
        break;
      case ',':
      case ':':
        pending = false;
        break;
      default:
        pending = true;  // part of a number or a literal
        break;
    }
  }
  return std::string_view::npos;
}

}  // namespace

Result<Json> Json::Parse(std::string_view text) {
  if (size_t end = LeakingSeparatorError(text); end != std::string_view::npos) {
    size_t line = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < end; ++i) {
      if (text[i] == '\n') {
        ++line;
        line_start = i + 1;
      }
    }
    return Status::InvalidArgument("Expected separator between values at line " +
                                   std::to_string(line) + ", column " +
                                   std::to_string(end - line_start));
  }
  jv v = jv_parse_sized(text.data(), static_cast<int>(text.size()));
  if (!jv_is_valid(v)) {
    jv msg = jv_invalid_get_msg(v);
    std::string m = jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) : "invalid JSON";
    jv_free(msg);
    return Status::InvalidArgument(m);
  }
  return Json(v);
}

Json::Kind Json::kind() const {
  switch (jv_get_kind(v_)) {
    case JV_KIND_NULL:
      return Kind::kNull;
    case JV_KIND_FALSE:
      return Kind::kFalse;
    case JV_KIND_TRUE:
      return Kind::kTrue;
    case JV_KIND_NUMBER:
      return Kind::kNumber;
    case JV_KIND_STRING:
      return Kind::kString;
    case JV_KIND_ARRAY:
      return Kind::kArray;
    case JV_KIND_OBJECT:
      return Kind::kObject;
    case JV_KIND_INVALID:
      break;
  }
  BATON_CHECK(false);
  return Kind::kNull;
}

const char* Json::KindName() const {
  switch (jv_get_kind(v_)) {
    case JV_KIND_NULL:
      return "null";
    case JV_KIND_FALSE:
    case JV_KIND_TRUE:
      return "boolean";
    case JV_KIND_NUMBER:
      return "number";
    case JV_KIND_STRING:
      return "string";
    case JV_KIND_ARRAY:
      return "array";
    case JV_KIND_OBJECT:
      return "object";
    case JV_KIND_INVALID:
      break;
  }
  return "invalid";
}

bool Json::IsInteger() const {
  if (!IsNumber()) return false;
  double d = jv_number_value(v_);
  return std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9.2e18;
}

bool Json::Truthy() const {
  jv_kind k = jv_get_kind(v_);
  return k != JV_KIND_NULL && k != JV_KIND_FALSE;
}

int64_t Json::AsInt() const {
  if (!IsNumber()) return 0;
  double d = jv_number_value(v_);
  if (!std::isfinite(d)) return 0;
  if (d >= 9.2e18) return std::numeric_limits<int64_t>::max();
  if (d <= -9.2e18) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(d);
}

std::string_view Json::AsString() const {
  if (!IsString()) return {};
  return {jv_string_value(v_), static_cast<size_t>(jv_string_length_bytes(jv_copy(v_)))};
}

size_t Json::size() const {
  switch (jv_get_kind(v_)) {
    case JV_KIND_ARRAY:
      return static_cast<size_t>(jv_array_length(jv_copy(v_)));
    case JV_KIND_OBJECT:
      return static_cast<size_t>(jv_object_length(jv_copy(v_)));
    default:
      return 0;
  }
}

Json Json::Get(std::string_view key) const {
  if (!IsObject()) return Json();
  jv r = jv_object_get(jv_copy(v_), jv_string_sized(key.data(), static_cast<int>(key.size())));
  if (!jv_is_valid(r)) {
    jv_free(r);
    return Json();
  }
  return Json(r);
}

bool Json::Has(std::string_view key) const {
  if (!IsObject()) return false;
  return jv_object_has(jv_copy(v_), jv_string_sized(key.data(), static_cast<int>(key.size())));
}

Json Json::At(size_t index) const {
  if (!IsArray() || index >= size()) return Json();
  jv r = jv_array_get(jv_copy(v_), static_cast<int>(index));
  if (!jv_is_valid(r)) {
    jv_free(r);
    return Json();
  }
  return Json(r);
}

Json Json::AtPointer(std::string_view pointer) const {
  Json cur = *this;
  size_t pos = 0;
  if (pointer.empty()) return cur;
  if (pointer[0] != '/') return Json();
  while (pos < pointer.size()) {
    size_t next = pointer.find('/', pos + 1);
    if (next == std::string_view::npos) next = pointer.size();
    std::string token;
    for (size_t i = pos + 1; i < next; ++i) {
      if (pointer[i] == '~' && i + 1 < next) {
        token += pointer[i + 1] == '1' ? '/' : '~';
        ++i;
      } else {
        token += pointer[i];
      }
    }
    if (cur.IsObject()) {
      if (!cur.Has(token)) return Json();
      cur = cur.Get(token);
    } else if (cur.IsArray()) {
      if (token.empty() || token.find_first_not_of("0123456789") != std::string::npos) {
        return Json();
      }
      cur = cur.At(std::stoul(token));
    } else {
      return Json();
    }
    pos = next;
  }
  return cur;
}

void Json::Set(std::string_view key, Json value) {
  if (IsNull()) v_ = jv_object();
  BATON_CHECK(IsObject());
  v_ =
      jv_object_set(v_, jv_string_sized(key.data(), static_cast<int>(key.size())), value.Release());
}

void Json::Erase(std::string_view key) {
  if (!IsObject()) return;
  v_ = jv_object_delete(v_, jv_string_sized(key.data(), static_cast<int>(key.size())));
}

void Json::Append(Json value) {
  if (IsNull()) v_ = jv_array();
  BATON_CHECK(IsArray());
  v_ = jv_array_append(v_, value.Release());
}

void Json::SetAt(size_t index, Json value) {
  BATON_CHECK(IsArray());
  v_ = jv_array_set(v_, static_cast<int>(index), value.Release());
}

void Json::ForEachMember(
    const std::function<void(std::string_view key, const Json& value)>& fn) const {
  if (!IsObject()) return;
  for (int it = jv_object_iter(v_); jv_object_iter_valid(v_, it);
       it = jv_object_iter_next(v_, it)) {
    jv key = jv_object_iter_key(v_, it);
    Json value(jv_object_iter_value(v_, it));
    fn(std::string_view(jv_string_value(key),
                        static_cast<size_t>(jv_string_length_bytes(jv_copy(key)))),
       value);
    jv_free(key);
  }
}

namespace {

// jq 1.6's (and 1.7's) array storage: {int refcount; int length; int alloc_length; jv
// elements[];}, the elements after padding to jv's alignment; a jv array is a window
// (offset, size) on it. Not part of jq's API: PeekArrayItems checks it once and is null when
// it does not hold.
constexpr size_t kJqArrayElementsOffset =
    (3 * sizeof(int) + alignof(jv) - 1) / alignof(jv) * alignof(jv);

const jv* ItemsAt(jv v) {
  return reinterpret_cast<const jv*>(static_cast<const char*>(static_cast<const void*>(v.u.ptr)) +
                                     kJqArrayElementsOffset) +
         v.offset;
}

bool ArrayLayoutHolds() {
  jv probe = jv_array();
  for (int i = 0; i < 40; ++i) probe = jv_array_append(probe, jv_number(i * 3 + 1));
  probe = jv_array_set(probe, 40, jv_string("forty"));
  jv window = jv_array_slice(jv_copy(probe), 5, 30);  // an offset into shared storage
  bool holds = true;
  for (jv a : {probe, window}) {
    const int n = jv_array_length(jv_copy(a));
    const jv* items = ItemsAt(a);
    for (int i = 0; i < n && holds; ++i) {
      jv item = jv_array_get(jv_copy(a), i);
      holds =
          jv_get_kind(items[i]) == jv_get_kind(item) && jv_equal(jv_copy(items[i]), jv_copy(item));
      jv_free(item);
    }
  }
  jv_free(window);
  jv_free(probe);
  return holds;
}

}  // namespace

const jv* PeekArrayItems(jv v) {
  static const bool kLayoutHolds = ArrayLayoutHolds();
  return kLayoutHolds ? ItemsAt(v) : nullptr;
}

void Json::ForEachItem(const std::function<void(size_t index, const Json& value)>& fn) const {
  if (!IsArray()) return;
  int n = jv_array_length(jv_copy(v_));
  for (int i = 0; i < n; ++i) {
    Json value(jv_array_get(jv_copy(v_), i));
    fn(static_cast<size_t>(i), value);
  }
}

namespace {

std::string JqDump(jv v, int flags) {
  jv s = jv_dump_string(v, flags);
  std::string out(jv_string_value(s), static_cast<size_t>(jv_string_length_bytes(jv_copy(s))));
  jv_free(s);
  return out;
}

// The compact text of `v`, byte for byte what jv_dump_string(v, 0) writes (json_test compares
// them on many values), without its costs: jq 1.6 builds the text in a jv string that it
// grows and copies, decodes every character of every string, and formats every number with
// its dtoa; that was 8 % of the server's CPU under load (instance views, history entries).
void AppendCompact(jv v, std::string* out) {
  switch (jv_get_kind(v)) {
    case JV_KIND_NULL:
      out->append("null");
      return;
    case JV_KIND_FALSE:
      out->append("false");
      return;
    case JV_KIND_TRUE:
      out->append("true");
      return;
    case JV_KIND_NUMBER: {
      double d = jv_number_value(v);
      // Integers below 1e15 print as their digits in jq (its dtoa switches to an exponent
      // only past 15 digits after the significant ones); everything else goes to jq.
      if (d == std::floor(d) && std::fabs(d) < 1e15 && !(d == 0 && std::signbit(d))) {
        char buf[24];
        auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), static_cast<int64_t>(d));
        out->append(buf, static_cast<size_t>(end - buf));
        static_cast<void>(ec);
      } else {
        out->append(JqDump(jv_copy(v), 0));
      }
      return;
    }
    case JV_KIND_STRING:
      AppendJsonString(out,
                       std::string_view(jv_string_value(v),
                                        static_cast<size_t>(jv_string_length_bytes(jv_copy(v)))));
      return;
    case JV_KIND_ARRAY: {
      out->push_back('[');
      const int n = jv_array_length(jv_copy(v));
      BorrowedItems items(v);
      for (int i = 0; i < n; ++i) {
        if (i > 0) out->push_back(',');
        AppendCompact(items[static_cast<size_t>(i)], out);
      }
      out->push_back(']');
      return;
    }
    case JV_KIND_OBJECT: {
      out->push_back('{');
      bool first = true;
      for (int i = jv_object_iter(v); jv_object_iter_valid(v, i); i = jv_object_iter_next(v, i)) {
        if (!first) out->push_back(',');
        first = false;
        jv key = jv_object_iter_key(v, i);
        AppendCompact(key, out);
        jv_free(key);
        out->push_back(':');
        jv value = jv_object_iter_value(v, i);
        AppendCompact(value, out);
        jv_free(value);
      }
      out->push_back('}');
      return;
    }
    case JV_KIND_INVALID:
      break;
  }
  out->append(JqDump(jv_copy(v), 0));
}

}  // namespace

std::string Json::Dump(bool pretty) const {
  if (pretty) return JqDump(jv_copy(v_), JV_PRINT_INDENT_FLAGS(2));
  std::string out;
  AppendCompact(v_, &out);
  return out;
}

// Straight on jv, without the callbacks of ForEachMember: values cross threads this way on
// every activity and start.
jv DeepCopyJv(jv v) {
  switch (jv_get_kind(v)) {
    case JV_KIND_STRING:
      return jv_string_sized(jv_string_value(v), jv_string_length_bytes(jv_copy(v)));
    case JV_KIND_ARRAY: {
      const int n = jv_array_length(jv_copy(v));
      jv out = jv_array_sized(n);
      BorrowedItems items(v);
      for (int i = 0; i < n; ++i) {
        out = jv_array_append(out, DeepCopyJv(items[static_cast<size_t>(i)]));
      }
      return out;
    }
    case JV_KIND_OBJECT: {
      jv out = jv_object();
      for (int i = jv_object_iter(v); jv_object_iter_valid(v, i); i = jv_object_iter_next(v, i)) {
        jv key = jv_object_iter_key(v, i);
        jv value = jv_object_iter_value(v, i);
        out = jv_object_set(out, DeepCopyJv(key), DeepCopyJv(value));
        jv_free(key);
        jv_free(value);
      }
      return out;
    }
    default:
      // null, booleans and numbers carry no shared storage.
      return jv_copy(v);
  }
}

Json Json::DeepCopy() const { return Json(DeepCopyJv(v_)); }

bool Json::operator==(const Json& other) const { return jv_equal(jv_copy(v_), jv_copy(other.v_)); }

std::string PointerEscape(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

void AppendJsonString(std::string* out, std::string_view s) {
  static const char* kHex = "0123456789abcdef";
  out->push_back('"');
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      default:
        if (c < 0x20 || c == 0x7F) {  // as jq writes them
          out->append("\\u00");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 15]);
        } else {
          out->push_back(ch);
        }
    }
  }
  out->push_back('"');
}

}  // namespace baton
