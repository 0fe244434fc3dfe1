#include "model/duration_syntax.h"

namespace baton::model::internal {

IsoDurationCheck CheckIsoDuration(std::string_view s) {
  if (s.size() < 2 || s[0] != 'P') return IsoDurationCheck::kInvalid;
  // Designators in the only order the pattern allows; 'M' means months before 'T' and
  // minutes after it.
  static constexpr char kDate[] = {'Y', 'M', 'W', 'D'};
  static constexpr char kTime[] = {'H', 'M', 'S'};
  size_t i = 1;
  bool in_time = false;
  bool any = false;
  bool any_time = false;
  bool variable = false;
  size_t next = 0;  // index of the next designator allowed in the current part
  while (i < s.size()) {
    if (s[i] == 'T') {
      if (in_time) return IsoDurationCheck::kInvalid;
      in_time = true;
      next = 0;
      ++i;
      if (i == s.size()) return IsoDurationCheck::kInvalid;
      continue;
    }
    size_t digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++digits;
    if (digits == 0) return IsoDurationCheck::kInvalid;
    if (i < s.size() && s[i] == '.') {
      ++i;
      size_t fraction = 0;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++fraction;
      if (fraction == 0) return IsoDurationCheck::kInvalid;
    }
    if (i == s.size()) return IsoDurationCheck::kInvalid;
    char designator = s[i++];
    const char* order = in_time ? kTime : kDate;
    size_t count = in_time ? sizeof(kTime) : sizeof(kDate);
    while (next < count && order[next] != designator) ++next;
    if (next == count) return IsoDurationCheck::kInvalid;
    if (!in_time && (designator == 'Y' || designator == 'M')) variable = true;
    ++next;
    any = true;
    if (in_time) any_time = true;
  }
  if (!any || (in_time && !any_time)) return IsoDurationCheck::kInvalid;
  return variable ? IsoDurationCheck::kVariableLength : IsoDurationCheck::kValid;
}

}  // namespace baton::model::internal
