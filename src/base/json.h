// Json: the one JSON value type of baton, a thin RAII handle over jq's `jv`.
//
// Why jv: jq is the DSL's expression language, so every task evaluation hands values to
// libjq. Keeping the engine's data as jv makes that hand-off a reference-count increment
// instead of a conversion (see docs/architecture/engine.md).
//
// Semantics: a value type with copy-on-write. Copying a Json is O(1) (a refcount bump);
// mutating (Set, Append) copies the underlying storage first if it is shared.
// Object members keep insertion order. Numbers are IEEE doubles, as in jq 1.6.
//
// Thread-safety: NOT thread-safe, and neither are copies: jv reference counts are plain
// integers, so two Json handles that share storage must stay on one thread. To hand a value
// to another thread either move a handle nobody else shares, or pass DeepCopy() (which
// shares nothing with the original).
#pragma once

// jq 1.6 headers lack extern "C" guards.
extern "C" {
#include <jv.h>
}

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace baton {

class Json {
 public:
  enum class Kind : uint8_t { kNull, kFalse, kTrue, kNumber, kString, kArray, kObject };

  Json() : v_(NullJv()) {}
  ~Json() {
    if (!OwnsNothing(v_)) jv_free(v_);
  }
  Json(const Json& other) : v_(OwnsNothing(other.v_) ? other.v_ : jv_copy(other.v_)) {}
  Json(Json&& other) noexcept : v_(other.v_) { other.v_ = NullJv(); }
  Json& operator=(const Json& other) {
    if (this != &other) {
      jv old = v_;
      v_ = OwnsNothing(other.v_) ? other.v_ : jv_copy(other.v_);
      if (!OwnsNothing(old)) jv_free(old);
    }
    return *this;
  }
  Json& operator=(Json&& other) noexcept {
    if (this != &other) {
      if (!OwnsNothing(v_)) jv_free(v_);
      v_ = other.v_;
      other.v_ = NullJv();
    }
    return *this;
  }

  // Takes ownership of `v`. REQUIRES: v is valid (not jv_invalid()).
  static Json Adopt(jv v);
  static Json Null() { return Json(); }
  static Json Bool(bool b) { return Adopt(b ? jv_true() : jv_false()); }
  static Json Number(double d) { return Adopt(jv_number(d)); }
  static Json String(std::string_view s);
  static Json Array() { return Adopt(jv_array()); }
  static Json Object() { return Adopt(jv_object()); }

  // Parses JSON text. On error the Status says where (jq's message has line/column).
  static Result<Json> Parse(std::string_view text);

  Kind kind() const;
  bool IsNull() const { return jv_get_kind(v_) == JV_KIND_NULL; }
  bool IsBool() const {
    return jv_get_kind(v_) == JV_KIND_TRUE || jv_get_kind(v_) == JV_KIND_FALSE;
  }
  bool IsNumber() const { return jv_get_kind(v_) == JV_KIND_NUMBER; }
  bool IsString() const { return jv_get_kind(v_) == JV_KIND_STRING; }
  bool IsArray() const { return jv_get_kind(v_) == JV_KIND_ARRAY; }
  bool IsObject() const { return jv_get_kind(v_) == JV_KIND_OBJECT; }
  // True for numbers with no fractional part that fit in int64.
  bool IsInteger() const;
  // jq truthiness: everything but null and false.
  bool Truthy() const;
  // Name of the kind as a user reads it: "object", "string", ...
  const char* KindName() const;

  // Accessors return a default (false, 0, "") when the kind does not match.
  bool AsBool() const { return jv_get_kind(v_) == JV_KIND_TRUE; }
  double AsNumber() const { return IsNumber() ? jv_number_value(v_) : 0.0; }
  int64_t AsInt() const;
  // The view stays valid while this Json (or a copy sharing its storage) lives unmodified.
  std::string_view AsString() const;

  // Number of array items or object members; 0 for other kinds.
  size_t size() const;
  bool empty() const { return size() == 0; }

  // Object member; Null when absent or when this is not an object.
  Json Get(std::string_view key) const;
  bool Has(std::string_view key) const;
  // Array item; Null when out of range or when this is not an array.
  Json At(size_t index) const;
  // Follows an RFC 6901 JSON pointer ("" is the whole value). Null when absent.
  Json AtPointer(std::string_view pointer) const;

  // REQUIRES: IsObject() (or IsNull(), which becomes an empty object first).
  void Set(std::string_view key, Json value);
  void Erase(std::string_view key);
  // REQUIRES: IsArray() (or IsNull(), which becomes an empty array first).
  void Append(Json value);
  // REQUIRES: IsArray() and index < size().
  void SetAt(size_t index, Json value);

  // Visits members in insertion order; the callback may not mutate this value.
  void ForEachMember(const std::function<void(std::string_view key, const Json& value)>& fn) const;
  void ForEachItem(const std::function<void(size_t index, const Json& value)>& fn) const;

  // Compact JSON text (pretty: two-space indentation).
  std::string Dump(bool pretty = false) const;
  // A value that shares no storage with this one: safe to give to another thread.
  Json DeepCopy() const;

  bool operator==(const Json& other) const;
  bool operator!=(const Json& other) const { return !(*this == other); }

  // Borrowed handle: valid while this Json lives; do not free it.
  jv Peek() const { return v_; }
  // A new reference for APIs that consume their argument.
  jv CopyJv() const { return jv_copy(v_); }
  // Gives up ownership; this becomes null.
  jv Release() {
    jv v = v_;
    v_ = jv_null();
    return v;
  }

 private:
  // null, false and true own no memory in any libjq (only strings, arrays, objects, invalid
  // values with a message and, from jq 1.7, number literals do): handles copy and free them
  // without a call into the library. The hottest Json operations are on null members of
  // the interpreter's nodes, and each call goes through the PLT. The low four bits of
  // `kind_flags` are the kind in jq 1.6 and 1.7 (json_test checks it against jv_get_kind).
  static bool OwnsNothing(jv v) {
    unsigned kind = v.kind_flags & 0xFu;
    return kind >= JV_KIND_NULL && kind <= JV_KIND_TRUE;
  }
  static jv NullJv() {
    jv v{};
    v.kind_flags = JV_KIND_NULL;
    return v;
  }

  explicit Json(jv v) : v_(v) {}
  jv v_;
};

// Consumes nothing; returns a copy of `v` that shares no storage with it (Json::DeepCopy on a
// raw jv).
jv DeepCopyJv(jv v);

// The items of array `v` where jq keeps them (v's length of them, in order), to read without
// a reference count round trip per item (jv_array_get copies the array and the item); the
// caller copies what it keeps. Null when this libjq lays arrays out differently than the
// jq 1.6/1.7 layout this reads (checked once against jv_array_get): then use jv_array_get.
// REQUIRES: `v` is an array, alive and unchanged while the pointer is used.
const jv* PeekArrayItems(jv v);

// Reads the items of array `v`: straight from jq's storage when PeekArrayItems allows, else
// through jv_array_get. An item is borrowed: valid until the next read.
// REQUIRES: `v` is an array, alive and unchanged while the reader is used.
class BorrowedItems {
 public:
  explicit BorrowedItems(jv array) : array_(array), items_(PeekArrayItems(array)) {}
  ~BorrowedItems() { jv_free(held_); }
  BorrowedItems(const BorrowedItems&) = delete;
  BorrowedItems& operator=(const BorrowedItems&) = delete;

  jv operator[](size_t i) {
    if (items_ != nullptr) return items_[i];
    jv_free(held_);
    held_ = jv_array_get(jv_copy(array_), static_cast<int>(i));
    return held_;
  }
  // References to a borrowed item held by the array and this reader.
  int refs_held() const { return items_ != nullptr ? 1 : 2; }

 private:
  jv array_;
  const jv* items_;
  jv held_ = jv_null();
};

// Escapes a key for use in a JSON pointer (RFC 6901: '~' → "~0", '/' → "~1").
std::string PointerEscape(std::string_view key);

// Appends `s` as a JSON string literal (quotes included) to `out`: for code that writes JSON
// text directly, without building jq values.
void AppendJsonString(std::string* out, std::string_view s);

}  // namespace baton
