#include "expr/detach.h"

#include <algorithm>
#include <vector>

#include "base/json.h"

namespace baton::expr {
namespace {

bool HasStorage(jv_kind kind) {
  return kind == JV_KIND_STRING || kind == JV_KIND_ARRAY || kind == JV_KIND_OBJECT;
}

int StringLength(jv s) { return jv_string_length_bytes(jv_copy(s)); }

// Adds the weight of `v` (borrowed) to *total; false as soon as *total exceeds max.
bool AddWeight(jv v, size_t max, size_t* total) {
  ++*total;
  switch (jv_get_kind(v)) {
    case JV_KIND_STRING:
      *total += static_cast<size_t>(StringLength(v));
      break;
    case JV_KIND_ARRAY: {
      int n = jv_array_length(jv_copy(v));
      for (int i = 0; i < n && *total <= max; ++i) {
        jv item = jv_array_get(jv_copy(v), i);
        bool ok = AddWeight(item, max, total);
        jv_free(item);
        if (!ok) return false;
      }
      break;
    }
    case JV_KIND_OBJECT:
      for (int it = jv_object_iter(v); jv_object_iter_valid(v, it) && *total <= max;
           it = jv_object_iter_next(v, it)) {
        jv key = jv_object_iter_key(v, it);
        *total += 1 + static_cast<size_t>(StringLength(key));
        jv_free(key);
        jv value = jv_object_iter_value(v, it);
        bool ok = AddWeight(value, max, total);
        jv_free(value);
        if (!ok) return false;
      }
      break;
    default:
      break;
  }
  return *total <= max;
}

class Detacher {
 public:
  explicit Detacher(size_t max_constant_weight) : max_(max_constant_weight) {}

  // Returns a new reference to a detached equivalent of `v`, which is borrowed; the caller
  // holds `extra` temporary references to it besides those of the result tree.
  jv Detach(jv v, int extra) {
    jv_kind kind = jv_get_kind(v);
    if (!HasStorage(kind)) return jv_copy(v);
    int refs = jv_get_refcnt(v) - extra;
    if (refs > 1) {
      size_t weight = 0;
      if (AddWeight(v, max_, &weight)) return DeepCopyJv(v);  // Maybe a constant.
      // Too big to be a constant. A string holds nothing else; a container comes from the
      // inputs unless every reference to it turns out to be inside the result.
      if (kind != JV_KIND_STRING) large_.push_back({v.u.ptr, refs});
      return jv_copy(v);
    }
    switch (kind) {
      case JV_KIND_ARRAY: {
        int n = jv_array_length(jv_copy(v));
        jv out = jv_array_sized(n);
        for (int i = 0; i < n; ++i) {
          jv item = jv_array_get(jv_copy(v), i);
          out = jv_array_append(out, Detach(item, 1));
          jv_free(item);
        }
        return out;
      }
      case JV_KIND_OBJECT: {
        jv out = jv_object();
        for (int it = jv_object_iter(v); jv_object_iter_valid(v, it);
             it = jv_object_iter_next(v, it)) {
          jv key = jv_object_iter_key(v, it);
          jv value = jv_object_iter_value(v, it);
          out = jv_object_set(out, Detach(key, 1), Detach(value, 1));
          jv_free(key);
          jv_free(value);
        }
        return out;
      }
      default:  // A string built by this evaluation.
        return jv_copy(v);
    }
  }

  // True when a large shared container had all its references inside the result: it was
  // built by this evaluation, may hold constants, and was not looked into.
  bool MissedBuiltValues() {
    if (large_.empty()) return false;
    std::sort(large_.begin(), large_.end(), [](const Sighting& a, const Sighting& b) {
      return a.node < b.node || (a.node == b.node && a.refs < b.refs);
    });
    for (size_t i = 0; i < large_.size();) {
      size_t j = i;
      while (j < large_.size() && large_[j].node == large_[i].node) ++j;
      // Each sighting added one reference (the copy kept in the output), so the smallest
      // count seen is the count before the walk.
      if (static_cast<int>(j - i) >= large_[i].refs) return true;
      i = j;
    }
    return false;
  }

 private:
  struct Sighting {
    const void* node;
    int refs;
  };
  const size_t max_;
  std::vector<Sighting> large_;
};

}  // namespace

size_t BoundedWeight(jv v, size_t max) {
  size_t total = 0;
  AddWeight(v, max, &total);
  return total;
}

jv DetachFromProgram(jv result, size_t max_constant_weight) {
  Detacher detacher(max_constant_weight);
  jv out = detacher.Detach(result, 0);
  if (detacher.MissedBuiltValues()) {
    jv_free(out);
    out = DeepCopyJv(result);
  }
  jv_free(result);
  return out;
}

}  // namespace baton::expr
