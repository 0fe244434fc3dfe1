// SharedString: an immutable string whose copies share one allocation.
//
// Why: the interpreter names the task in every lifecycle entry it records (two per task), and
// task references such as "/do/0/loop/for/do/0/step" are too long for std::string's inline
// buffer: copying them cost an allocation, a copy and a free per entry, about a tenth of a
// `set` task. A copy of a SharedString is a reference-count increment.
// Thread-safety: copies may be used and destroyed on any thread (the count is atomic).
#pragma once

#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

namespace baton {

class SharedString {
 public:
  SharedString() = default;
  // NOLINTNEXTLINE(google-explicit-constructor): a string is a SharedString.
  SharedString(std::string s)
      : p_(s.empty() ? nullptr : std::make_shared<const std::string>(std::move(s))) {}
  // NOLINTNEXTLINE(google-explicit-constructor)
  SharedString(std::string_view s) : SharedString(std::string(s)) {}
  // NOLINTNEXTLINE(google-explicit-constructor)
  SharedString(const char* s) : SharedString(std::string(s)) {}

  const std::string& str() const { return p_ ? *p_ : Empty(); }
  // NOLINTNEXTLINE(google-explicit-constructor): usable wherever a string is read.
  operator const std::string&() const { return str(); }
  // NOLINTNEXTLINE(google-explicit-constructor)
  operator std::string_view() const { return str(); }
  const char* c_str() const { return str().c_str(); }
  bool empty() const { return p_ == nullptr; }
  size_t size() const { return str().size(); }

  friend bool operator==(const SharedString& a, std::string_view b) { return a.str() == b; }
  friend std::ostream& operator<<(std::ostream& out, const SharedString& s) {
    return out << s.str();
  }

 private:
  static const std::string& Empty() {
    static const std::string empty;
    return empty;
  }
  std::shared_ptr<const std::string> p_;
};

}  // namespace baton
