// The byte layout of format version 1. Everything here is persisted: do not renumber tags,
// roles or field bits; a change of layout is a new version (and the decoder keeps reading
// the old ones).
//
// Record   'b' | type ('S' state, 'C' command, 'E' event) | version (1) | checksum (4 bytes,
//          little endian: MurmurHash64A of the payload, folded to 32 bits) | payload
// Numbers  varint = LEB128 (at most 10 bytes); signed = zigzag varint; fixed64 = 8 bytes LE
// String   varint byte length | bytes
// JSON     tag byte: 0 null, 1 false, 2 true, 3 integer (signed; integral doubles within
//          ±2^53 except -0), 4 double (fixed64 bits), 5 string, 6 array (varint n | n values),
//          7 object (members in iteration order, each varint key length + 1 | key bytes |
//          value; then a 0), 8 reference (varint d ≥ 1: the d-th last shareable value).
//          Shareable values are non-empty arrays and objects and strings of 16+ bytes,
//          numbered in the order they are completed (a container after its members); the
//          encoder writes a reference when the same jv (same storage) comes again, so a state
//          that shares a value (a fork's input in every branch, a `for` item in its
//          iteration's $item) stores it once.
// DefRef   varint (steps << 1 | absolute), then the steps. The walk starts at the parent
//          Node's TaskDef (or TaskList when the parent is a list node), or at the main list
//          when absolute. From a list, a step is a task index; from a task, a role:
//          0 children, 1 catch.do, 2 listen foreach.do, 3 function body.
// State    string instance_id | u8 status | JSON raw_input, context, output, error |
//          signed started_at, ended_at | fixed64 rng | varint next_id,
//          workflow_timeout_timer, yield_timer | u8 has_root | [Node root]
// Node     varint field mask (kBit* below) | u8 type | phase << 1 | inbox << 5 |
//          the fields whose bit is set, in bit order: list and task as DefRefs, started_at
//          as a signed delta to the instance's, matched as varint n | n bytes, vars as
//          varint n | n × (string, JSON), queued_events as varint n | n JSON |
//          varint child count | children
// Command  u8 tag (kCmd*) | fields in declaration order
// Event    signed now | u8 tag (kEvt*) | fields in declaration order
#include "engine/codec.h"

#include <algorithm>
#include <bit>
#include <climits>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <variant>

#include "base/check.h"

namespace baton::engine {
namespace {

// The codec writes every field of these structs; a new field must be added to the codec (and
// its tests) before these counts are bumped.
struct AnyField {
  template <typename T>
  operator T() const;  // NOLINT(google-explicit-constructor): only used in unevaluated context
};
template <typename T, typename... Fields>
constexpr size_t FieldCount() {
  if constexpr (requires { T{Fields{}..., AnyField{}}; }) {
    return FieldCount<T, Fields..., AnyField>();
  } else {
    return sizeof...(Fields);
  }
}
static_assert(FieldCount<Node>() == 27, "Node changed: update EncodeNode/DecodeNode");
static_assert(FieldCount<InstanceState>() == 14, "InstanceState changed: update the codec");
static_assert(FieldCount<ExecuteTask>() == 7 && FieldCount<StartChild>() == 7 &&
                  FieldCount<CancelActivity>() == 1 && FieldCount<StartTimer>() == 2 &&
                  FieldCount<CancelTimer>() == 1 && FieldCount<PublishEvent>() == 1 &&
                  FieldCount<Subscribe>() == 2 && FieldCount<Unsubscribe>() == 1,
              "a command changed: update EncodeCommand/DecodeCommand");
static_assert(std::variant_size_v<Command> == 8, "a new command: add it to the codec");
static_assert(FieldCount<InstanceStarted>() == 3 && FieldCount<TaskSucceeded>() == 2 &&
                  FieldCount<TaskFailed>() == 2 && FieldCount<TimerFired>() == 1 &&
                  FieldCount<CloudEventReceived>() == 1 && FieldCount<CancelRequested>() == 1 &&
                  FieldCount<OperatorAction>() == 8 && FieldCount<Event>() == 2,
              "an event changed: update EncodeEvent/DecodeEvent");
static_assert(std::variant_size_v<EventBody> == 7, "a new event: add it to the codec");
static_assert(FieldCount<LifecycleEntry>() == 6, "LifecycleEntry changed: update the codec");
// Type, phase and inbox share one byte: 1 + 4 + 3 bits.
static_assert(static_cast<int>(Node::Type::kTask) == 1 &&
                  static_cast<int>(Node::Phase::kCompensating) < 16 &&
                  static_cast<int>(Node::Inbox::kTimeout) < 8,
              "Node's enums outgrew their bits: a new format version is needed");

constexpr char kMagic = 'b';
constexpr char kTypeState = 'S';
constexpr char kTypeCommand = 'C';
constexpr char kTypeEvent = 'E';
constexpr size_t kHeaderSize = 7;
constexpr size_t kChecksumOffset = 3;

// Deeper JSON values or node trees are refused on decode (the decoder recurses).
constexpr int kMaxDepth = 1000;
constexpr size_t kMinSharedString = 16;

enum JsonTag : uint8_t {
  kTagNull = 0,
  kTagFalse = 1,
  kTagTrue = 2,
  kTagInt = 3,
  kTagDouble = 4,
  kTagString = 5,
  kTagArray = 6,
  kTagObject = 7,
  kTagRef = 8,
};

// Steps from a task in a DefRef.
enum Role : uint8_t {
  kRoleChildren = 0,
  kRoleCatch = 1,
  kRoleForeach = 2,
  kRoleFunction = 3,
  kRoleCompensate = 4,  // format 2
};

// Node fields that are written only when they differ from their defaults.
enum NodeBit : uint32_t {
  kBitList = 1u << 0,
  kBitTask = 1u << 1,
  kBitIndex = 1u << 2,
  kBitData = 1u << 3,
  kBitRawInput = 1u << 4,
  kBitInput = 1u << 5,
  kBitStartedAt = 1u << 6,
  kBitAttempt = 1u << 7,
  kBitActivityId = 1u << 8,
  kBitTimerId = 1u << 9,
  kBitTimeoutTimerId = 1u << 10,
  kBitItems = 1u << 11,
  kBitNext = 1u << 12,
  kBitOutputs = 1u << 13,
  kBitPending = 1u << 14,
  kBitSlot = 1u << 15,
  kBitError = 1u << 16,
  kBitEvents = 1u << 17,
  kBitMatched = 1u << 18,
  kBitVars = 1u << 19,
  kBitResult = 1u << 20,
  kBitQueuedEvents = 1u << 21,
  kBitRetryAt = 1u << 22,  // format 2
  kBitAll = (1u << 23) - 1,
};

enum CommandTag : uint8_t {
  kCmdExecuteTask = 1,
  kCmdStartChild = 2,
  kCmdCancelActivity = 3,
  kCmdStartTimer = 4,
  kCmdCancelTimer = 5,
  kCmdPublishEvent = 6,
  kCmdSubscribe = 7,
  kCmdUnsubscribe = 8,
};

enum EventTag : uint8_t {
  kEvtInstanceStarted = 1,
  kEvtTaskSucceeded = 2,
  kEvtTaskFailed = 3,
  kEvtTimerFired = 4,
  kEvtCloudEventReceived = 5,
  kEvtCancelRequested = 6,
  kEvtOperatorAction = 7,
};

uint64_t LoadLE64(const char* p) {
  uint64_t v = 0;
  std::memcpy(&v, p, 8);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  return v;
}

void StoreLE64(char* p, uint64_t v) {
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  std::memcpy(p, &v, 8);
}

// MurmurHash64A (Austin Appleby, public domain), folded to 32 bits: detects corruption and
// truncation at a few GB/s; it is not a defence against deliberate forgery.
uint32_t Checksum(std::string_view data) {
  constexpr uint64_t m = 0xc6a4a7935bd1e995ULL;
  constexpr int r = 47;
  const size_t n = data.size();
  uint64_t h = 0x6261746f6eULL ^ (n * m);
  const size_t words = n / 8;
  for (size_t i = 0; i < words; ++i) {
    uint64_t k = LoadLE64(data.data() + 8 * i);
    k *= m;
    k ^= k >> r;
    k *= m;
    h ^= k;
    h *= m;
  }
  if (size_t tail = n & 7; tail != 0) {
    uint64_t t = 0;
    for (size_t i = tail; i > 0; --i) {
      t = (t << 8) | static_cast<uint8_t>(data[words * 8 + i - 1]);
    }
    h ^= t;
    h *= m;
  }
  h ^= h >> r;
  h *= m;
  h ^= h >> r;
  return static_cast<uint32_t>(h ^ (h >> 32));
}

// ---- writing -------------------------------------------------------------------------------

// The identity of a jv's storage. jv's fields are private to jq; they are only read here.
struct Identity {
  uintptr_t ptr;
  uint64_t shape = 0;
  bool operator==(const Identity& o) const { return ptr == o.ptr && shape == o.shape; }
};
struct IdentityHash {
  size_t operator()(const Identity& id) const {
    uint64_t h = (id.ptr >> 4) * 0x9e3779b97f4a7c15ULL ^ id.shape;
    return static_cast<size_t>(h ^ (h >> 29));
  }
};
Identity IdentityOf(jv v) {
  return Identity{reinterpret_cast<uintptr_t>(v.u.ptr),
                  (static_cast<uint64_t>(v.offset) << 32) | static_cast<uint32_t>(v.size)};
}

// Whether `a` and `b` are the very same value: same storage, or the same number or literal.
bool SameValue(jv a, jv b) {
  jv_kind kind = jv_get_kind(a);
  if (kind != jv_get_kind(b)) return false;
  switch (kind) {
    case JV_KIND_NULL:
    case JV_KIND_FALSE:
    case JV_KIND_TRUE:
      return true;
    case JV_KIND_NUMBER:
      return std::bit_cast<uint64_t>(jv_number_value(a)) ==
             std::bit_cast<uint64_t>(jv_number_value(b));
    default:
      return IdentityOf(a) == IdentityOf(b);
  }
}

}  // namespace

struct EncodeMemo::Impl {
  struct Item {
    jv value;                     // a reference: its storage cannot be reused while remembered
    size_t bytes_end = 0;         // end of its encoding in `bytes`
    uint64_t shareables_end = 0;  // shareable values numbered up to its end, from the array's start
  };
  struct Array {
    std::vector<Item> items;
    std::string bytes;  // the items' encodings, back to back
    uint64_t used = 0;  // the encode that last used it
    // Found unchanged by an encode: from then on the memo holds the array itself, so that
    // jq copies it before any change (it changes only unshared storage in place) and the
    // same identity means the same items, with no need to compare them.
    bool frozen = false;
    jv array{};
  };

  ~Impl() {
    for (auto& [id, array] : arrays) Forget(array, 0);
  }
  static void Forget(Array& array, size_t keep) {
    if (array.frozen) {
      jv_free(array.array);
      array.frozen = false;
    }
    for (size_t i = keep; i < array.items.size(); ++i) jv_free(array.items[i].value);
    array.items.resize(keep);
    array.bytes.resize(keep == 0 ? 0 : array.items[keep - 1].bytes_end);
  }
  // Drops the arrays the last encode did not meet (their values left the state).
  void Sweep() {
    for (auto it = arrays.begin(); it != arrays.end();) {
      if (it->second.used != encode) {
        Forget(it->second, 0);
        it = arrays.erase(it);
      } else {
        ++it;
      }
    }
  }

  std::unordered_map<uintptr_t, Array> arrays;  // by the array's storage
  uint64_t encode = 1;                          // numbers the encodes that use this memo
  size_t reused = 0;
};

EncodeMemo::EncodeMemo() = default;
EncodeMemo::~EncodeMemo() = default;
size_t EncodeMemo::arrays() const { return impl_ ? impl_->arrays.size() : 0; }
size_t EncodeMemo::reused_items() const { return impl_ ? impl_->reused : 0; }

namespace {

class Writer {
 public:
  explicit Writer(char type, size_t reserve = 256) {
    buf_.resize(std::max(reserve, kHeaderSize + 16));
    buf_[0] = kMagic;
    buf_[1] = type;
    buf_[2] = static_cast<char>(kCodecVersion);
    n_ = kHeaderSize;
  }

  void U8(uint8_t v) {
    *Room(1) = static_cast<char>(v);
    n_ += 1;
  }
  void Varint(uint64_t v) {
    char* p = Room(10);
    size_t i = 0;
    while (v >= 0x80) {
      p[i++] = static_cast<char>(static_cast<uint8_t>(v) | 0x80);
      v >>= 7;
    }
    p[i++] = static_cast<char>(v);
    n_ += i;
  }
  void Signed(int64_t v) {
    uint64_t u = static_cast<uint64_t>(v);
    Varint((u << 1) ^ (v < 0 ? ~uint64_t{0} : 0));
  }
  void Fixed64(uint64_t v) {
    StoreLE64(Room(8), v);
    n_ += 8;
  }
  void String(const char* p, size_t len) {
    Varint(len);
    Raw(p, len);
  }
  void String(std::string_view s) { String(s.data(), s.size()); }
  void Raw(const char* p, size_t len) {
    if (len == 0) return;
    std::memcpy(Room(len), p, len);
    n_ += len;
  }

  // JSON values. Values written through one Writer share one table of shareable values.
  void Value(const Json& value) { WriteJv(value.Peek(), 1); }

  // Large arrays are written with the help of `*memo` from now on (null: none); the memo is
  // made when the first one comes.
  void UseMemo(std::unique_ptr<EncodeMemo::Impl>* memo) { memo_ = memo; }

  std::string Finish() && {
    buf_.resize(n_);
    uint32_t sum = Checksum(std::string_view(buf_).substr(kHeaderSize));
    for (size_t i = 0; i < 4; ++i) buf_[kChecksumOffset + i] = static_cast<char>(sum >> (8 * i));
    return std::move(buf_);
  }

 private:
  char* Room(size_t k) {
    if (n_ + k > buf_.size()) buf_.resize(std::max(buf_.size() * 2, n_ + k));
    return buf_.data() + n_;
  }

  // `refs_held`: references to `v` held by the caller itself (a temporary copy), so that a
  // reference count above it means the value is shared with something else.
  void WriteJv(jv v, int refs_held) {
    switch (jv_get_kind(v)) {
      case JV_KIND_NULL:
        return U8(kTagNull);
      case JV_KIND_FALSE:
        return U8(kTagFalse);
      case JV_KIND_TRUE:
        return U8(kTagTrue);
      case JV_KIND_NUMBER:
        return Number(jv_number_value(v));
      case JV_KIND_STRING: {
        size_t len = static_cast<size_t>(jv_string_length_bytes(jv_copy(v)));
        if (len < kMinSharedString) {
          U8(kTagString);
          return String(jv_string_value(v), len);
        }
        bool track = false;
        if (WroteReference(v, refs_held, &track)) return;
        U8(kTagString);
        String(jv_string_value(v), len);
        return Written(v, track);
      }
      case JV_KIND_ARRAY: {
        int n = jv_array_length(jv_copy(v));
        bool track = false;
        if (n > 0 && WroteReference(v, refs_held, &track)) return;
        U8(kTagArray);
        Varint(static_cast<uint64_t>(n));
        if (memo_ != nullptr && plain_ == 0 && n >= EncodeMemo::kMemoMinItems) {
          WriteRememberedItems(v, static_cast<size_t>(n));
        } else {
          BorrowedItems items(v);
          for (int i = 0; i < n; ++i) WriteJv(items[static_cast<size_t>(i)], items.refs_held());
        }
        if (n > 0) Written(v, track);
        return;
      }
      case JV_KIND_OBJECT: {
        // Members end with a 0 rather than starting with a count: jq 1.6 counts an object's
        // members by walking all its slots.
        int it = jv_object_iter(v);
        bool empty = !jv_object_iter_valid(v, it);
        bool track = false;
        if (!empty && WroteReference(v, refs_held, &track)) return;
        U8(kTagObject);
        for (; jv_object_iter_valid(v, it); it = jv_object_iter_next(v, it)) {
          jv key = jv_object_iter_key(v, it);
          size_t len = static_cast<size_t>(jv_string_length_bytes(jv_copy(key)));
          Varint(len + 1);
          Raw(jv_string_value(key), len);
          jv_free(key);
          jv member = jv_object_iter_value(v, it);
          WriteJv(member, 2);
          jv_free(member);
        }
        U8(0);
        if (!empty) Written(v, track);
        return;
      }
      case JV_KIND_INVALID:
        break;
    }
    BATON_CHECK(false && "a Json holds an invalid jv");
  }

  void Number(double d) {
    constexpr double kMaxExact = 9007199254740992.0;  // 2^53
    if (d >= -kMaxExact && d <= kMaxExact && d == std::trunc(d) && !(d == 0 && std::signbit(d))) {
      U8(kTagInt);
      Signed(static_cast<int64_t>(d));
    } else {
      U8(kTagDouble);
      Fixed64(std::bit_cast<uint64_t>(d));
    }
  }

  // The items of array `v` (n of them): the leading ones the memo holds unchanged as bytes,
  // the others encoded and remembered. They are written plain (no references to shared
  // values, none recorded), so their bytes are the same wherever the array comes.
  void WriteRememberedItems(jv v, size_t n) {
    if (!*memo_) *memo_ = std::make_unique<EncodeMemo::Impl>();
    EncodeMemo::Impl& impl = **memo_;
    // By storage alone: an array grown in place keeps its leading items (the prefix check
    // below, not the key, decides what is reused).
    EncodeMemo::Impl::Array& memo = impl.arrays[reinterpret_cast<uintptr_t>(v.u.ptr)];
    memo.used = impl.encode;
    if (memo.frozen && IdentityOf(memo.array) == IdentityOf(v)) {
      Raw(memo.bytes.data(), memo.bytes.size());
      shareable_ += memo.items.back().shareables_end;
      impl.reused += n;
      return;
    }
    BorrowedItems items(v);
    size_t same = 0;
    const size_t known = std::min(memo.items.size(), n);
    while (same < known && SameValue(items[same], memo.items[same].value)) ++same;
    EncodeMemo::Impl::Forget(memo, same);
    uint64_t shareables = 0;
    if (same > 0) {
      Raw(memo.bytes.data(), memo.bytes.size());
      shareables = memo.items[same - 1].shareables_end;
      shareable_ += shareables;
      impl.reused += same;
    }
    ++plain_;
    memo.items.reserve(n);
    for (size_t i = same; i < n; ++i) {
      jv item = items[i];
      const size_t start = n_;
      const uint64_t numbered = shareable_;
      WriteJv(item, items.refs_held());
      memo.bytes.append(buf_.data() + start, n_ - start);
      shareables += shareable_ - numbered;
      memo.items.push_back({jv_copy(item), memo.bytes.size(), shareables});
    }
    --plain_;
    if (same == n) {
      memo.array = jv_copy(v);
      memo.frozen = true;
    }
  }

  // When the same storage as `v` was written before, writes a reference to it and returns
  // true. Otherwise `*track` says whether `v` may come again (something else holds it).
  bool WroteReference(jv v, int refs_held, bool* track) {
    if (plain_ > 0) {
      *track = false;
      return false;
    }
    *track = jv_get_refcnt(v) > refs_held;
    if (!*track || seen_.empty()) return false;
    auto it = seen_.find(IdentityOf(v));
    if (it == seen_.end()) return false;
    U8(kTagRef);
    Varint(shareable_ - it->second);
    return true;
  }

  // Numbers a shareable value once it is complete (the decoder does the same).
  void Written(jv v, bool track) {
    if (track) seen_.emplace(IdentityOf(v), shareable_);
    ++shareable_;
  }

  std::string buf_;
  size_t n_ = 0;
  uint64_t shareable_ = 0;
  std::unordered_map<Identity, uint64_t, IdentityHash> seen_;
  std::unique_ptr<EncodeMemo::Impl>* memo_ = nullptr;
  int plain_ = 0;  // > 0: inside remembered items (see WriteRememberedItems)
};

// A place in the definition tree: a list or a task.
struct DefPtr {
  const TaskList* list = nullptr;
  const TaskDef* task = nullptr;
};

// Index of `task` in `tasks`, or -1.
int64_t IndexOf(const std::vector<TaskDef>& tasks, const TaskDef* task) {
  if (tasks.empty()) return -1;
  uintptr_t begin = reinterpret_cast<uintptr_t>(tasks.data());
  uintptr_t p = reinterpret_cast<uintptr_t>(task);
  if (p < begin || (p - begin) % sizeof(TaskDef) != 0) return -1;
  size_t i = (p - begin) / sizeof(TaskDef);
  return i < tasks.size() ? static_cast<int64_t>(i) : -1;
}

int ListRole(const TaskDef& task, const TaskList* list) {
  if (list == &task.children) return kRoleChildren;
  if (task.catch_def && list == &task.catch_def->do_list) return kRoleCatch;
  if (task.listen && list == &task.listen->foreach_do) return kRoleForeach;
  if (task.compensate && list == task.compensate.get()) return kRoleCompensate;
  return -1;
}

// The steps from the main list to `target`, searched depth-first (the rare fallback when a
// node's definition is not directly under its parent's).
bool FindInList(const TaskList& list, DefPtr target, std::vector<uint64_t>* path);
bool FindInTask(const TaskDef& task, DefPtr target, std::vector<uint64_t>* path) {
  auto in_list = [&](const TaskList& l, Role role) {
    path->push_back(role);
    if (target.list == &l || FindInList(l, target, path)) return true;
    path->pop_back();
    return false;
  };
  if (in_list(task.children, kRoleChildren)) return true;
  if (task.catch_def && in_list(task.catch_def->do_list, kRoleCatch)) return true;
  if (task.listen && in_list(task.listen->foreach_do, kRoleForeach)) return true;
  if (task.compensate && in_list(*task.compensate, kRoleCompensate)) return true;
  if (task.function) {
    path->push_back(kRoleFunction);
    if (target.task == task.function.get() || FindInTask(*task.function, target, path)) {
      return true;
    }
    path->pop_back();
  }
  return false;
}
bool FindInList(const TaskList& list, DefPtr target, std::vector<uint64_t>* path) {
  for (size_t i = 0; i < list.tasks.size(); ++i) {
    path->push_back(i);
    if (target.task == &list.tasks[i] || FindInTask(list.tasks[i], target, path)) return true;
    path->pop_back();
  }
  return false;
}

class StateWriter {
 public:
  StateWriter(const CompiledWorkflow& wf, const InstanceState& state,
              std::unique_ptr<EncodeMemo::Impl>* memo = nullptr)
      : wf_(wf), state_(state), w_(kTypeState, 512) {
    w_.UseMemo(memo);
  }

  std::string Write() && {
    const InstanceState& s = state_;
    w_.String(s.instance_id);
    w_.U8(static_cast<uint8_t>(s.status));
    w_.Value(s.raw_input);
    w_.Value(s.context);
    w_.Value(s.output);
    w_.Value(s.error);
    w_.Signed(s.started_at);
    w_.Signed(s.ended_at);
    w_.Fixed64(s.rng);
    w_.Varint(s.next_id);
    w_.Varint(s.workflow_timeout_timer);
    w_.Varint(s.yield_timer);
    w_.Value(s.saga);
    w_.U8(s.root ? 1 : 0);
    if (s.root) WriteNode(*s.root, DefPtr{});
    return std::move(w_).Finish();
  }

 private:
  void WriteNode(const Node& n, DefPtr parent) {
    uint32_t mask = 0;
    if (n.list) mask |= kBitList;
    if (n.task) mask |= kBitTask;
    if (n.index) mask |= kBitIndex;
    if (!n.data.IsNull()) mask |= kBitData;
    if (!n.raw_input.IsNull()) mask |= kBitRawInput;
    if (!n.input.IsNull()) mask |= kBitInput;
    if (n.started_at) mask |= kBitStartedAt;
    if (n.attempt) mask |= kBitAttempt;
    if (n.activity_id) mask |= kBitActivityId;
    if (n.timer_id) mask |= kBitTimerId;
    if (n.timeout_timer_id) mask |= kBitTimeoutTimerId;
    if (!n.items.IsNull()) mask |= kBitItems;
    if (n.next) mask |= kBitNext;
    if (!n.outputs.IsNull()) mask |= kBitOutputs;
    if (n.pending) mask |= kBitPending;
    if (n.slot != -1) mask |= kBitSlot;
    if (!n.error.IsNull()) mask |= kBitError;
    if (!n.events.IsNull()) mask |= kBitEvents;
    if (!n.matched.empty()) mask |= kBitMatched;
    if (!n.vars.empty()) mask |= kBitVars;
    if (!n.result.IsNull()) mask |= kBitResult;
    if (!n.queued_events.empty()) mask |= kBitQueuedEvents;
    if (n.retry_at) mask |= kBitRetryAt;
    w_.Varint(mask);
    w_.U8(static_cast<uint8_t>(static_cast<uint8_t>(n.type) | static_cast<uint8_t>(n.phase) << 1 |
                               static_cast<uint8_t>(n.inbox) << 5));
    if (n.list) WriteDefRef(parent, DefPtr{n.list, nullptr});
    if (n.task) WriteDefRef(parent, DefPtr{nullptr, n.task});
    if (mask & kBitIndex) w_.Varint(n.index);
    if (mask & kBitData) w_.Value(n.data);
    if (mask & kBitRawInput) w_.Value(n.raw_input);
    if (mask & kBitInput) w_.Value(n.input);
    if (mask & kBitStartedAt) {
      w_.Signed(static_cast<int64_t>(static_cast<uint64_t>(n.started_at) -
                                     static_cast<uint64_t>(state_.started_at)));
    }
    if (mask & kBitAttempt) w_.Varint(n.attempt);
    if (mask & kBitActivityId) w_.Varint(n.activity_id);
    if (mask & kBitTimerId) w_.Varint(n.timer_id);
    if (mask & kBitTimeoutTimerId) w_.Varint(n.timeout_timer_id);
    if (mask & kBitItems) w_.Value(n.items);
    if (mask & kBitNext) w_.Varint(n.next);
    if (mask & kBitOutputs) w_.Value(n.outputs);
    if (mask & kBitPending) w_.Varint(n.pending);
    if (mask & kBitSlot) w_.Signed(n.slot);
    if (mask & kBitError) w_.Value(n.error);
    if (mask & kBitEvents) w_.Value(n.events);
    if (mask & kBitMatched) {
      w_.Varint(n.matched.size());
      for (uint8_t m : n.matched) w_.U8(m);
    }
    if (mask & kBitVars) {
      w_.Varint(n.vars.size());
      for (const auto& [name, value] : n.vars) {
        w_.String(name);
        w_.Value(value);
      }
    }
    if (mask & kBitResult) w_.Value(n.result);
    if (mask & kBitQueuedEvents) {
      w_.Varint(n.queued_events.size());
      for (const Json& e : n.queued_events) w_.Value(e);
    }
    if (mask & kBitRetryAt) w_.Signed(n.retry_at);
    w_.Varint(n.children.size());
    DefPtr self = n.task ? DefPtr{nullptr, n.task} : DefPtr{n.list, nullptr};
    for (const auto& c : n.children) WriteNode(*c, self);
  }

  void WriteDefRef(DefPtr from, DefPtr to) {
    if (from.list && to.task) {
      int64_t i = IndexOf(from.list->tasks, to.task);
      if (i >= 0) {
        w_.Varint(1 << 1);
        w_.Varint(static_cast<uint64_t>(i));
        return;
      }
    } else if (from.task && to.list) {
      int role = ListRole(*from.task, to.list);
      if (role >= 0) {
        w_.Varint(1 << 1);
        w_.Varint(static_cast<uint64_t>(role));
        return;
      }
    } else if (from.task && to.task) {
      if (to.task == from.task->function.get()) {
        w_.Varint(1 << 1);
        w_.Varint(kRoleFunction);
        return;
      }
      int64_t i = IndexOf(from.task->children.tasks, to.task);
      if (i >= 0) {
        w_.Varint(2 << 1);
        w_.Varint(kRoleChildren);
        w_.Varint(static_cast<uint64_t>(i));
        return;
      }
    }
    path_.clear();
    bool found = to.list == &wf_.main || FindInList(wf_.main, to, &path_);
    // REQUIRES of EncodeState: the state runs this definition.
    BATON_CHECK(found && "a node refers to a task or list outside its workflow");
    w_.Varint(path_.size() << 1 | 1);
    for (uint64_t step : path_) w_.Varint(step);
  }

  const CompiledWorkflow& wf_;
  const InstanceState& state_;
  Writer w_;
  std::vector<uint64_t> path_;
};

// ---- reading -------------------------------------------------------------------------------

class Reader {
 public:
  explicit Reader(std::string_view payload)
      : begin_(payload.data()), p_(payload.data()), end_(payload.data() + payload.size()) {}
  ~Reader() {
    for (jv v : shareable_) jv_free(v);
  }
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  bool ok() const { return error_.empty(); }
  bool at_end() const { return p_ == end_; }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  // The first error, with where it happened (offset in the record).
  std::string error() const { return error_; }

  bool Fail(const std::string& what) {
    if (error_.empty()) {
      error_ = what + " (at byte " +
               std::to_string(kHeaderSize + static_cast<size_t>(p_ - begin_)) + ")";
    }
    return false;
  }

  bool U8(uint8_t* v) {
    if (p_ == end_) return Fail("unexpected end of data");
    *v = static_cast<uint8_t>(*p_++);
    return true;
  }
  bool Varint(uint64_t* v) {
    uint64_t result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return Fail("unexpected end of data");
      uint8_t b = static_cast<uint8_t>(*p_++);
      if (shift == 63 && b > 1) return Fail("varint overflows 64 bits");
      result |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) {
        *v = result;
        return true;
      }
    }
    return Fail("varint overflows 64 bits");
  }
  bool Signed(int64_t* v) {
    uint64_t u = 0;
    if (!Varint(&u)) return false;
    *v = static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
    return true;
  }
  bool Fixed64(uint64_t* v) {
    if (remaining() < 8) return Fail("unexpected end of data");
    *v = LoadLE64(p_);
    p_ += 8;
    return true;
  }
  template <typename T>
  bool Unsigned(T* v, const char* what) {
    uint64_t u = 0;
    if (!Varint(&u)) return false;
    if (u > std::numeric_limits<T>::max()) return Fail(std::string(what) + " out of range");
    *v = static_cast<T>(u);
    return true;
  }
  // A count of items that take at least `min_item_size` bytes each.
  bool Count(size_t* n, size_t min_item_size, const char* what) {
    uint64_t u = 0;
    if (!Varint(&u)) return false;
    if (u > remaining() / min_item_size) {
      return Fail(std::string(what) + " count " + std::to_string(u) + " exceeds the data");
    }
    *n = static_cast<size_t>(u);
    return true;
  }
  bool String(std::string_view* s) {
    uint64_t len = 0;
    if (!Varint(&len)) return false;
    if (len > remaining())
      return Fail("string of " + std::to_string(len) + " bytes exceeds the data");
    *s = std::string_view(p_, static_cast<size_t>(len));
    p_ += len;
    return true;
  }
  bool String(std::string* s) {
    std::string_view v;
    if (!String(&v)) return false;
    s->assign(v);
    return true;
  }

  bool Value(Json* out) {
    jv v{};
    if (!ReadJv(&v, 0)) return false;
    *out = Json::Adopt(v);
    return true;
  }

 private:
  // On success `*out` holds a new reference; on failure nothing is left to free.
  bool ReadJv(jv* out, int depth) {
    if (depth > kMaxDepth)
      return Fail("JSON value nested deeper than " + std::to_string(kMaxDepth));
    uint8_t tag = 0;
    if (!U8(&tag)) return false;
    switch (tag) {
      case kTagNull:
        *out = jv_null();
        return true;
      case kTagFalse:
        *out = jv_false();
        return true;
      case kTagTrue:
        *out = jv_true();
        return true;
      case kTagInt: {
        int64_t i = 0;
        if (!Signed(&i)) return false;
        *out = jv_number(static_cast<double>(i));
        return true;
      }
      case kTagDouble: {
        uint64_t bits = 0;
        if (!Fixed64(&bits)) return false;
        *out = jv_number(std::bit_cast<double>(bits));
        return true;
      }
      case kTagString: {
        std::string_view s;
        if (!String(&s)) return false;
        if (s.size() > INT_MAX) return Fail("string too long");
        jv v = jv_string_sized(s.data(), static_cast<int>(s.size()));
        if (s.size() >= kMinSharedString) shareable_.push_back(jv_copy(v));
        *out = v;
        return true;
      }
      case kTagArray: {
        size_t n = 0;
        if (!Count(&n, 1, "array item")) return false;
        if (n > INT_MAX) return Fail("array too long");
        jv a = jv_array_sized(static_cast<int>(n));
        for (size_t i = 0; i < n; ++i) {
          jv item{};
          if (!ReadJv(&item, depth + 1)) {
            jv_free(a);
            return false;
          }
          a = jv_array_append(a, item);
        }
        if (n > 0) shareable_.push_back(jv_copy(a));
        *out = a;
        return true;
      }
      case kTagObject: {
        jv o = jv_object();
        bool empty = true;
        while (true) {
          uint64_t head = 0;
          if (!Varint(&head)) break;
          if (head == 0) {
            if (!empty) shareable_.push_back(jv_copy(o));
            *out = o;
            return true;
          }
          uint64_t len = head - 1;
          if (len > remaining() || len > INT_MAX) {
            Fail("object key of " + std::to_string(len) + " bytes exceeds the data");
            break;
          }
          jv key = jv_string_sized(p_, static_cast<int>(len));
          p_ += len;
          jv value{};
          if (!ReadJv(&value, depth + 1)) {
            jv_free(key);
            break;
          }
          o = jv_object_set(o, key, value);
          empty = false;
        }
        jv_free(o);
        return false;
      }
      case kTagRef: {
        uint64_t d = 0;
        if (!Varint(&d)) return false;
        if (d == 0 || d > shareable_.size()) {
          return Fail("reference to a JSON value that does not precede it");
        }
        *out = jv_copy(shareable_[shareable_.size() - static_cast<size_t>(d)]);
        return true;
      }
      default:
        return Fail("unknown JSON tag " + std::to_string(tag));
    }
  }

  const char* begin_;
  const char* p_;
  const char* end_;
  std::string error_;
  std::vector<jv> shareable_;
};

// Checks the header of `bytes`; on success `*payload` is what follows it.
Status OpenRecord(std::string_view bytes, char type, const char* what, std::string_view* payload,
                  uint8_t* version_out = nullptr) {
  std::string name(what);
  if (bytes.size() < kHeaderSize) {
    return Status::InvalidArgument(name + ": truncated (" + std::to_string(bytes.size()) +
                                   " bytes, shorter than the header)");
  }
  if (bytes[0] != kMagic ||
      (bytes[1] != kTypeState && bytes[1] != kTypeCommand && bytes[1] != kTypeEvent)) {
    return Status::InvalidArgument(name + ": not a baton record (bad magic)");
  }
  if (bytes[1] != type) {
    const char* actual = bytes[1] == kTypeState     ? "a state snapshot"
                         : bytes[1] == kTypeCommand ? "a command"
                                                    : "an event";
    return Status::InvalidArgument(name + ": the record is " + actual);
  }
  uint8_t version = static_cast<uint8_t>(bytes[2]);
  if (version > kCodecVersion) {
    return Status::InvalidArgument(name + ": format version " + std::to_string(version) +
                                   " is newer than this build reads (up to " +
                                   std::to_string(kCodecVersion) + ")");
  }
  if (version == 0) return Status::InvalidArgument(name + ": unknown format version 0");
  if (version_out) *version_out = version;
  uint32_t stored = 0;
  for (size_t i = 0; i < 4; ++i) {
    stored |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[kChecksumOffset + i])) << (8 * i);
  }
  *payload = bytes.substr(kHeaderSize);
  if (Checksum(*payload) != stored) {
    return Status::InvalidArgument(name +
                                   ": checksum mismatch (the bytes are corrupt or truncated)");
  }
  return Status::Ok();
}

Status ReadError(const char* what, const Reader& r) {
  return Status::InvalidArgument(std::string(what) + ": " + r.error());
}

class StateReader {
 public:
  StateReader(const CompiledWorkflow& wf, std::string_view payload, uint8_t version)
      : wf_(wf), r_(payload), version_(version) {}

  Result<InstanceState> Read() && {
    InstanceState s;
    if (!ReadState(&s)) return ReadError("state snapshot", r_);
    if (!r_.at_end()) {
      r_.Fail(std::to_string(r_.remaining()) + " trailing bytes");
      return ReadError("state snapshot", r_);
    }
    return s;
  }

 private:
  bool ReadState(InstanceState* s) {
    uint8_t status = 0;
    uint8_t has_root = 0;
    if (!r_.String(&s->instance_id) || !r_.U8(&status)) return false;
    if (status > static_cast<uint8_t>(WorkflowStatus::kCompensationFailed)) {
      return r_.Fail("unknown workflow status " + std::to_string(status));
    }
    s->status = static_cast<WorkflowStatus>(status);
    if (!r_.Value(&s->raw_input) || !r_.Value(&s->context) || !r_.Value(&s->output) ||
        !r_.Value(&s->error) || !r_.Signed(&s->started_at) || !r_.Signed(&s->ended_at) ||
        !r_.Fixed64(&s->rng) || !r_.Varint(&s->next_id) || !r_.Varint(&s->workflow_timeout_timer) ||
        !r_.Varint(&s->yield_timer)) {
      return false;
    }
    // Format 1 had no saga log.
    if (version_ >= 2 && !r_.Value(&s->saga)) return false;
    if (!s->saga.IsArray()) return r_.Fail("the saga log is not an array");
    if (!r_.U8(&has_root)) return false;
    started_at_ = s->started_at;
    if (has_root > 1) return r_.Fail("bad root flag");
    if (has_root) {
      s->root = std::make_unique<Node>();
      if (!ReadNode(s->root.get(), DefPtr{}, nullptr, 0)) return false;
      // A list, or the saga driver of a compensating instance.
      if (s->root->type != Node::Type::kList &&
          !(s->root->phase == Node::Phase::kCompensating && !s->root->task)) {
        return r_.Fail("the root node is not a list");
      }
    }
    return true;
  }

  // `owner`: the nearest task above the node (for messages).
  bool ReadNode(Node* n, DefPtr parent, const TaskDef* owner, int depth) {
    if (depth > kMaxDepth) return r_.Fail("node tree deeper than " + std::to_string(kMaxDepth));
    uint64_t mask = 0;
    uint8_t packed = 0;
    if (!r_.Varint(&mask) || !r_.U8(&packed)) return false;
    if (mask & ~static_cast<uint64_t>(kBitAll)) return r_.Fail("unknown node fields");
    uint8_t phase = (packed >> 1) & 0x0f;
    uint8_t inbox = packed >> 5;
    if (phase > static_cast<uint8_t>(Node::Phase::kCompensating)) {
      return r_.Fail("unknown node phase");
    }
    if (inbox > static_cast<uint8_t>(Node::Inbox::kTimeout)) return r_.Fail("unknown node inbox");
    n->type = (packed & 1) ? Node::Type::kTask : Node::Type::kList;
    n->phase = static_cast<Node::Phase>(phase);
    n->inbox = static_cast<Node::Inbox>(inbox);
    DefPtr def;
    if ((mask & kBitList) && !ReadDefRef(parent, owner, /*want_list=*/true, &def)) return false;
    n->list = def.list;
    if ((mask & kBitTask) && !ReadDefRef(parent, owner, /*want_list=*/false, &def)) return false;
    n->task = def.task;
    int64_t started_delta = 0;
    bool ok = (!(mask & kBitIndex) || r_.Unsigned(&n->index, "index")) &&
              (!(mask & kBitData) || r_.Value(&n->data)) &&
              (!(mask & kBitRawInput) || r_.Value(&n->raw_input)) &&
              (!(mask & kBitInput) || r_.Value(&n->input)) &&
              (!(mask & kBitStartedAt) || r_.Signed(&started_delta)) &&
              (!(mask & kBitAttempt) || r_.Unsigned(&n->attempt, "attempt")) &&
              (!(mask & kBitActivityId) || r_.Varint(&n->activity_id)) &&
              (!(mask & kBitTimerId) || r_.Varint(&n->timer_id)) &&
              (!(mask & kBitTimeoutTimerId) || r_.Varint(&n->timeout_timer_id)) &&
              (!(mask & kBitItems) || r_.Value(&n->items)) &&
              (!(mask & kBitNext) || r_.Unsigned(&n->next, "next")) &&
              (!(mask & kBitOutputs) || r_.Value(&n->outputs)) &&
              (!(mask & kBitPending) || r_.Unsigned(&n->pending, "pending")) &&
              (!(mask & kBitSlot) || r_.Signed(&n->slot)) &&
              (!(mask & kBitError) || r_.Value(&n->error)) &&
              (!(mask & kBitEvents) || r_.Value(&n->events));
    if (!ok) return false;
    if (mask & kBitStartedAt) {
      n->started_at = static_cast<Millis>(static_cast<uint64_t>(started_at_) +
                                          static_cast<uint64_t>(started_delta));
    }
    if (mask & kBitMatched) {
      size_t count = 0;
      if (!r_.Count(&count, 1, "matched")) return false;
      n->matched.resize(count);
      for (size_t i = 0; i < count; ++i) {
        if (!r_.U8(&n->matched[i])) return false;
      }
    }
    if (mask & kBitVars) {
      size_t count = 0;
      if (!r_.Count(&count, 2, "variable")) return false;
      n->vars.resize(count);
      for (auto& [name, value] : n->vars) {
        if (!r_.String(&name) || !r_.Value(&value)) return false;
      }
    }
    if ((mask & kBitResult) && !r_.Value(&n->result)) return false;
    if (mask & kBitQueuedEvents) {
      size_t count = 0;
      if (!r_.Count(&count, 1, "queued event")) return false;
      n->queued_events.resize(count);
      for (Json& e : n->queued_events) {
        if (!r_.Value(&e)) return false;
      }
    }
    if ((mask & kBitRetryAt) && !r_.Signed(&n->retry_at)) return false;
    size_t children = 0;
    if (!r_.Count(&children, 3, "child node")) return false;
    n->children.reserve(children);
    DefPtr self = n->task ? DefPtr{nullptr, n->task} : DefPtr{n->list, nullptr};
    for (size_t i = 0; i < children; ++i) {
      n->children.push_back(std::make_unique<Node>());
      if (!ReadNode(n->children.back().get(), self, n->task ? n->task : owner, depth + 1)) {
        return false;
      }
    }
    return CheckShape(*n);
  }

  bool ReadDefRef(DefPtr from, const TaskDef* owner, bool want_list, DefPtr* out) {
    uint64_t head = 0;
    if (!r_.Varint(&head)) return false;
    uint64_t steps = head >> 1;
    bool absolute = head & 1;
    if (steps > r_.remaining()) return r_.Fail("definition reference longer than the data");
    DefPtr cur = absolute ? DefPtr{&wf_.main, nullptr} : from;
    if (absolute) owner = nullptr;
    if (!cur.list && !cur.task) return r_.Fail("relative definition reference without a parent");
    for (uint64_t i = 0; i < steps; ++i) {
      uint64_t step = 0;
      if (!r_.Varint(&step)) return false;
      if (cur.list) {
        if (step >= cur.list->tasks.size()) {
          return r_.Fail("reference to task " + std::to_string(step) + " of a list of " +
                         std::to_string(cur.list->tasks.size()) + Where(cur, owner) +
                         ": the snapshot does not match this definition");
        }
        cur = DefPtr{nullptr, &cur.list->tasks[static_cast<size_t>(step)]};
        continue;
      }
      const TaskDef& t = *cur.task;
      owner = &t;
      switch (step) {
        case kRoleChildren:
          cur = DefPtr{&t.children, nullptr};
          continue;
        case kRoleCatch:
          if (!t.catch_def) break;
          cur = DefPtr{&t.catch_def->do_list, nullptr};
          continue;
        case kRoleForeach:
          if (!t.listen) break;
          cur = DefPtr{&t.listen->foreach_do, nullptr};
          continue;
        case kRoleFunction:
          if (!t.function) break;
          cur = DefPtr{nullptr, t.function.get()};
          continue;
        case kRoleCompensate:
          if (!t.compensate) break;
          cur = DefPtr{t.compensate.get(), nullptr};
          continue;
        default:
          break;
      }
      return r_.Fail("task " + t.ref + " has no part " + std::to_string(step) +
                     ": the snapshot does not match this definition");
    }
    if (want_list ? !cur.list : !cur.task) {
      return r_.Fail(std::string("definition reference to a ") + (want_list ? "task" : "list") +
                     " where a " + (want_list ? "list" : "task") + " is expected");
    }
    *out = cur;
    return true;
  }

  std::string Where(DefPtr list, const TaskDef* owner) const {
    if (list.list == &wf_.main) return " (the main list)";
    return owner ? " (under " + owner->ref + ")" : std::string();
  }

  // The invariants the interpreter relies on without checking (it would dereference null
  // or step a child that is not there): refused here, so that a bad snapshot is an error.
  bool CheckShape(const Node& n) {
    if (n.type == Node::Type::kList) {
      if (!n.list || n.task) return r_.Fail("a list node needs a list and no task");
      if (n.children.size() > 1) return r_.Fail("a list node runs at most one task");
      for (const auto& c : n.children) {
        if (c->type != Node::Type::kTask) return r_.Fail("a list node's child must be a task");
      }
      return true;
    }
    if (n.phase == Node::Phase::kCompensating) {
      // A saga driver (the root without a task, or a try): it runs one compensation list at a
      // time and none once a compensation failed.
      if (n.list) return r_.Fail("a saga driver has no list");
      if (n.children.size() > 1 || !n.items.IsArray() || n.next > n.items.size()) {
        return r_.Fail("a saga driver needs its records and at most one compensation running");
      }
      if (!n.error.IsNull() && !n.children.empty()) {
        return r_.Fail("a failed saga driver runs no compensation");
      }
      for (const auto& c : n.children) {
        if (c->type != Node::Type::kList) return r_.Fail("a saga driver runs task lists");
      }
      if (!n.task) return true;
      if (n.task->type != TaskType::kTry) return r_.Fail("only a try can drive a saga");
      return true;
    }
    if (!n.task || n.list) return r_.Fail("a task node needs a task and no list");
    const TaskDef& t = *n.task;
    bool function = t.type == TaskType::kCall && t.function;
    bool list_children =
        t.type == TaskType::kDo || t.type == TaskType::kFor || t.type == TaskType::kTry;
    bool task_children = t.type == TaskType::kFork || function;
    for (const auto& c : n.children) {
      if ((list_children && c->type != Node::Type::kList) ||
          (task_children && c->type != Node::Type::kTask) || (!list_children && !task_children)) {
        return r_.Fail("task " + t.ref + " cannot have this child node");
      }
    }
    if (n.phase == Node::Phase::kNew && !n.children.empty()) {
      return r_.Fail("task " + t.ref + " has child nodes before it started");
    }
    // Once started, these step their one child without looking (a try between attempts
    // has none).
    bool one_child = t.type == TaskType::kDo || function ||
                     (t.type == TaskType::kTry && n.phase != Node::Phase::kRetryWait);
    if (n.phase == Node::Phase::kParked && !n.children.empty()) {
      return r_.Fail("parked task " + t.ref + " runs nothing");
    }
    if (one_child && n.phase != Node::Phase::kNew && n.phase != Node::Phase::kParked &&
        n.children.size() != 1) {
      return r_.Fail("started task " + t.ref + " needs exactly one child node");
    }
    bool slotted = t.type == TaskType::kFork || (t.type == TaskType::kFor && t.concurrency > 0);
    if (slotted && !n.children.empty()) {
      if (!n.outputs.IsArray()) return r_.Fail("task " + t.ref + " has no outputs array");
      for (const auto& c : n.children) {
        if (c->slot < 0 || static_cast<uint64_t>(c->slot) >= n.outputs.size()) {
          return r_.Fail("a child of " + t.ref + " has a slot outside its outputs");
        }
      }
    }
    if (t.type == TaskType::kListen && n.phase == Node::Phase::kListening &&
        (!t.listen || n.matched.size() != t.listen->filters.size() || !n.events.IsArray())) {
      return r_.Fail("listening task " + t.ref + " does not match its filters");
    }
    return true;
  }

  const CompiledWorkflow& wf_;
  Reader r_;
  uint8_t version_;
  Millis started_at_ = 0;
};

// ---- lifecycle JSON ------------------------------------------------------------------------

bool LifecycleKindFromName(std::string_view name, LifecycleKind* kind) {
  // Every value of the enum's range, so that a new kind needs no change here.
  for (int i = 0; i <= UINT8_MAX; ++i) {
    auto k = static_cast<LifecycleKind>(i);
    std::string_view n = LifecycleKindName(k);
    if (n == name && n != "unknown") {
      *kind = k;
      return true;
    }
  }
  return false;
}

}  // namespace

// ---- public API ----------------------------------------------------------------------------

std::string EncodeState(const CompiledWorkflow& workflow, const InstanceState& state) {
  return StateWriter(workflow, state).Write();
}

std::string EncodeState(const CompiledWorkflow& workflow, const InstanceState& state,
                        EncodeMemo* memo) {
  if (memo == nullptr) return EncodeState(workflow, state);
  if (memo->impl_) {
    ++memo->impl_->encode;
    memo->impl_->reused = 0;
  }
  std::string bytes = StateWriter(workflow, state, &memo->impl_).Write();
  if (memo->impl_) memo->impl_->Sweep();
  return bytes;
}

Result<InstanceState> DecodeState(const CompiledWorkflow& workflow, std::string_view bytes) {
  std::string_view payload;
  uint8_t version = 0;
  BATON_RETURN_IF_ERROR(OpenRecord(bytes, kTypeState, "state snapshot", &payload, &version));
  return StateReader(workflow, payload, version).Read();
}

std::string EncodeCommand(const Command& command) {
  Writer w(kTypeCommand, 128);
  std::visit(
      [&](const auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, ExecuteTask>) {
          w.U8(kCmdExecuteTask);
          w.Varint(c.activity_id);
          w.String(c.task_ref);
          w.String(c.kind);
          w.Value(c.request);
          w.Varint(c.attempt);
          w.String(c.idempotency_key);
          w.Signed(c.timeout_ms);
        } else if constexpr (std::is_same_v<T, StartChild>) {
          w.U8(kCmdStartChild);
          w.Varint(c.activity_id);
          w.String(c.task_ref);
          w.String(c.namespace_);
          w.String(c.name);
          w.String(c.version);
          w.Value(c.input);
          w.U8(c.await ? 1 : 0);
        } else if constexpr (std::is_same_v<T, CancelActivity>) {
          w.U8(kCmdCancelActivity);
          w.Varint(c.activity_id);
        } else if constexpr (std::is_same_v<T, StartTimer>) {
          w.U8(kCmdStartTimer);
          w.Varint(c.timer_id);
          w.Signed(c.due_at);
        } else if constexpr (std::is_same_v<T, CancelTimer>) {
          w.U8(kCmdCancelTimer);
          w.Varint(c.timer_id);
        } else if constexpr (std::is_same_v<T, PublishEvent>) {
          w.U8(kCmdPublishEvent);
          w.Value(c.event);
        } else if constexpr (std::is_same_v<T, Subscribe>) {
          w.U8(kCmdSubscribe);
          w.Varint(c.activity_id);
          w.Value(c.filters);
        } else {
          static_assert(std::is_same_v<T, Unsubscribe>);
          w.U8(kCmdUnsubscribe);
          w.Varint(c.activity_id);
        }
      },
      command);
  return std::move(w).Finish();
}

Result<Command> DecodeCommand(std::string_view bytes) {
  std::string_view payload;
  BATON_RETURN_IF_ERROR(OpenRecord(bytes, kTypeCommand, "command", &payload));
  Reader r(payload);
  uint8_t tag = 0;
  Command command;
  bool ok = r.U8(&tag);
  if (ok) {
    switch (tag) {
      case kCmdExecuteTask: {
        ExecuteTask c;
        ok = r.Varint(&c.activity_id) && r.String(&c.task_ref) && r.String(&c.kind) &&
             r.Value(&c.request) && r.Unsigned(&c.attempt, "attempt") &&
             r.String(&c.idempotency_key) && r.Signed(&c.timeout_ms);
        command = std::move(c);
        break;
      }
      case kCmdStartChild: {
        StartChild c;
        uint8_t await = 0;
        ok = r.Varint(&c.activity_id) && r.String(&c.task_ref) && r.String(&c.namespace_) &&
             r.String(&c.name) && r.String(&c.version) && r.Value(&c.input) && r.U8(&await);
        if (ok && await > 1) ok = r.Fail("bad await flag");
        c.await = await == 1;
        command = std::move(c);
        break;
      }
      case kCmdCancelActivity: {
        CancelActivity c;
        ok = r.Varint(&c.activity_id);
        command = c;
        break;
      }
      case kCmdStartTimer: {
        StartTimer c;
        ok = r.Varint(&c.timer_id) && r.Signed(&c.due_at);
        command = c;
        break;
      }
      case kCmdCancelTimer: {
        CancelTimer c;
        ok = r.Varint(&c.timer_id);
        command = c;
        break;
      }
      case kCmdPublishEvent: {
        PublishEvent c;
        ok = r.Value(&c.event);
        command = std::move(c);
        break;
      }
      case kCmdSubscribe: {
        Subscribe c;
        ok = r.Varint(&c.activity_id) && r.Value(&c.filters);
        command = std::move(c);
        break;
      }
      case kCmdUnsubscribe: {
        Unsubscribe c;
        ok = r.Varint(&c.activity_id);
        command = c;
        break;
      }
      default:
        ok = r.Fail("unknown command tag " + std::to_string(tag));
    }
  }
  if (ok && !r.at_end()) ok = r.Fail(std::to_string(r.remaining()) + " trailing bytes");
  if (!ok) return ReadError("command", r);
  return command;
}

std::string EncodeEvent(const Event& event) {
  Writer w(kTypeEvent, 128);
  w.Signed(event.now);
  std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, InstanceStarted>) {
          w.U8(kEvtInstanceStarted);
          w.String(e.instance_id);
          w.Value(e.input);
          w.Fixed64(e.seed);
        } else if constexpr (std::is_same_v<T, TaskSucceeded>) {
          w.U8(kEvtTaskSucceeded);
          w.Varint(e.activity_id);
          w.Value(e.output);
        } else if constexpr (std::is_same_v<T, TaskFailed>) {
          w.U8(kEvtTaskFailed);
          w.Varint(e.activity_id);
          w.Value(e.error);
        } else if constexpr (std::is_same_v<T, TimerFired>) {
          w.U8(kEvtTimerFired);
          w.Varint(e.timer_id);
        } else if constexpr (std::is_same_v<T, CloudEventReceived>) {
          w.U8(kEvtCloudEventReceived);
          w.Value(e.event);
        } else if constexpr (std::is_same_v<T, CancelRequested>) {
          w.U8(kEvtCancelRequested);
          w.String(e.reason);
        } else {
          static_assert(std::is_same_v<T, OperatorAction>);
          w.U8(kEvtOperatorAction);
          w.U8(static_cast<uint8_t>(e.kind));
          w.String(e.by);
          w.String(e.reason);
          w.Value(e.input);
          w.Value(e.context);
          w.Value(e.output);
          w.U8(static_cast<uint8_t>((e.has_input ? 1 : 0) | (e.has_context ? 2 : 0)));
        }
      },
      event.body);
  return std::move(w).Finish();
}

Result<Event> DecodeEvent(std::string_view bytes) {
  std::string_view payload;
  BATON_RETURN_IF_ERROR(OpenRecord(bytes, kTypeEvent, "event", &payload));
  Reader r(payload);
  Event event;
  uint8_t tag = 0;
  bool ok = r.Signed(&event.now) && r.U8(&tag);
  if (ok) {
    switch (tag) {
      case kEvtInstanceStarted: {
        InstanceStarted e;
        ok = r.String(&e.instance_id) && r.Value(&e.input) && r.Fixed64(&e.seed);
        event.body = std::move(e);
        break;
      }
      case kEvtTaskSucceeded: {
        TaskSucceeded e;
        ok = r.Varint(&e.activity_id) && r.Value(&e.output);
        event.body = std::move(e);
        break;
      }
      case kEvtTaskFailed: {
        TaskFailed e;
        ok = r.Varint(&e.activity_id) && r.Value(&e.error);
        event.body = std::move(e);
        break;
      }
      case kEvtTimerFired: {
        TimerFired e;
        ok = r.Varint(&e.timer_id);
        event.body = e;
        break;
      }
      case kEvtCloudEventReceived: {
        CloudEventReceived e;
        ok = r.Value(&e.event);
        event.body = std::move(e);
        break;
      }
      case kEvtCancelRequested: {
        CancelRequested e;
        ok = r.String(&e.reason);
        event.body = std::move(e);
        break;
      }
      case kEvtOperatorAction: {
        OperatorAction e;
        uint8_t kind = 0;
        uint8_t flags = 0;
        ok = r.U8(&kind) && r.String(&e.by) && r.String(&e.reason) && r.Value(&e.input) &&
             r.Value(&e.context) && r.Value(&e.output) && r.U8(&flags);
        if (ok && kind > static_cast<uint8_t>(OperatorAction::Kind::kDiscard)) {
          ok = r.Fail("unknown operator action " + std::to_string(kind));
        }
        if (ok && flags > 3) ok = r.Fail("unknown operator action flags");
        e.kind = static_cast<OperatorAction::Kind>(kind);
        e.has_input = (flags & 1) != 0;
        e.has_context = (flags & 2) != 0;
        event.body = std::move(e);
        break;
      }
      default:
        ok = r.Fail("unknown event tag " + std::to_string(tag));
    }
  }
  if (ok && !r.at_end()) ok = r.Fail(std::to_string(r.remaining()) + " trailing bytes");
  if (!ok) return ReadError("event", r);
  return event;
}

std::string EncodeLifecycle(const std::vector<LifecycleEntry>& entries) {
  std::string out = "[";
  for (const LifecycleEntry& e : entries) {
    if (out.size() > 1) out += ',';
    out += "{\"kind\":";
    AppendJsonString(&out, LifecycleKindName(e.kind));
    out += ",\"time\":";
    out += std::to_string(e.time);
    if (!e.task_ref.empty() || !e.task_name.empty() || e.attempt != 0) {
      out += ",\"task\":";
      AppendJsonString(&out, e.task_ref);
      out += ",\"name\":";
      AppendJsonString(&out, e.task_name);
      out += ",\"attempt\":";
      out += std::to_string(e.attempt);
    }
    if (!e.data.IsNull()) {
      out += ",\"data\":";
      out += e.data.Dump();
    }
    out += '}';
  }
  out += ']';
  return out;
}

Result<std::vector<LifecycleEntry>> DecodeLifecycle(std::string_view json_text) {
  if (json_text.size() > INT_MAX) return Status::InvalidArgument("lifecycle: text too long");
  auto parsed = Json::Parse(json_text);
  if (!parsed.ok()) return Status::InvalidArgument("lifecycle: " + parsed.status().message());
  const Json& array = *parsed;
  if (!array.IsArray()) return Status::InvalidArgument("lifecycle: expected a JSON array");
  std::vector<LifecycleEntry> entries;
  entries.reserve(array.size());
  for (size_t i = 0; i < array.size(); ++i) {
    Json item = array.At(i);
    std::string where = "lifecycle entry " + std::to_string(i) + ": ";
    if (!item.IsObject()) return Status::InvalidArgument(where + "expected an object");
    LifecycleEntry e{LifecycleKind::kWorkflowStarted, 0, {}, {}, 0, Json()};
    Json kind = item.Get("kind");
    if (!kind.IsString() || !LifecycleKindFromName(kind.AsString(), &e.kind)) {
      return Status::InvalidArgument(where + "unknown kind " + kind.Dump());
    }
    Json time = item.Get("time");
    if (!time.IsInteger()) return Status::InvalidArgument(where + "'time' must be an integer");
    e.time = time.AsInt();
    if (item.Has("task")) {
      Json task = item.Get("task");
      Json name = item.Get("name");
      Json attempt = item.Get("attempt");
      if (!task.IsString() || !name.IsString()) {
        return Status::InvalidArgument(where + "'task' and 'name' must be strings");
      }
      if (!attempt.IsInteger() || attempt.AsInt() < 0 || attempt.AsInt() > UINT32_MAX) {
        return Status::InvalidArgument(where + "'attempt' must be a non-negative integer");
      }
      e.task_ref = std::string(task.AsString());
      e.task_name = std::string(name.AsString());
      e.attempt = static_cast<uint32_t>(attempt.AsInt());
    }
    e.data = item.Get("data");
    entries.push_back(std::move(e));
  }
  return entries;
}

namespace internal {
void ResealForTest(std::string* bytes) {
  if (bytes->size() < kHeaderSize) return;
  uint32_t sum = Checksum(std::string_view(*bytes).substr(kHeaderSize));
  for (size_t i = 0; i < 4; ++i) (*bytes)[kChecksumOffset + i] = static_cast<char>(sum >> (8 * i));
}
}  // namespace internal

}  // namespace baton::engine
