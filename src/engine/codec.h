// Codec: the versioned byte format in which the durable server stores an instance's state
// (a snapshot after every transition, so resuming is one decode, never a replay), the
// commands of a transition that are still outstanding (work rows) and events held for an
// instance. Lifecycle entries are stored as JSON text, readable by the dashboard.
//
// Format (version 1; the byte layout is written out at the top of codec.cc):
//   header  'b', record type ('S' state, 'C' command, 'E' event), format version,
//           4-byte checksum of the payload (little endian)
//   payload varints (LEB128; signed ones zigzag), length-prefixed strings, one tag byte per
//           JSON value; a JSON value shared by several places of the state is written once
//           and referred to afterwards, so it is shared again after decoding.
//   Node    a presence bitmask, then only the fields that differ from their defaults; the
//           TaskDef/TaskList a Node points to is a short path in the definition tree,
//           relative to its parent Node's (e.g. "task 3 of the parent list").
//
// Decoding never trusts its input: unknown or newer versions, truncated or corrupt bytes,
// references to tasks that are not in the definition and node trees that the interpreter
// could not have built give an InvalidArgument Status whose message says what and where.
//
// Decoded JSON values are fresh: they share storage only with each other (where the encoded
// state shared them), never with the input or a cache, so a decoded state may move to
// another thread as a whole.
//
// Thread-safety: all functions are reentrant; the CompiledWorkflow is only read.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "engine/command.h"
#include "engine/event.h"
#include "engine/lifecycle.h"
#include "engine/state.h"
#include "engine/workflow.h"

namespace baton::engine {

// The format version written by this build. Decoders accept every version up to this one.
inline constexpr uint8_t kCodecVersion = 2;

// Snapshot of an instance. Nodes refer to the definition's TaskDefs/TaskLists by pointer; the
// codec writes their place in the definition and resolves it against `workflow` on decode
// (an instance always runs on the definition version it started with, so the same document
// is given to both).
// REQUIRES: `state` was produced by the interpreter running `workflow`.
std::string EncodeState(const CompiledWorkflow& workflow, const InstanceState& state);
Result<InstanceState> DecodeState(const CompiledWorkflow& workflow, std::string_view bytes);

// Remembers how the large arrays (kMemoMinItems items or more) of one instance's state were
// encoded, so that the next EncodeState of that instance copies their unchanged leading items
// instead of walking them again: a fork or a parallel `for` re-encodes its item collection and
// its outputs after every transition, which made a snapshot cost grow with the fan-out.
// An item counts as unchanged when it is the very same value (same storage, held alive by the
// memo, so never reused for another value; or the same number or literal). Items of remembered
// arrays are written without references to shared values, so that their bytes do not depend
// on what precedes them; the decoded state is the same either way.
// Holds references to the state's values: use it and destroy it on the thread that owns the
// state (jq's reference counts are not atomic). Empty until the first large array.
class EncodeMemo {
 public:
  static constexpr int kMemoMinItems = 64;

  EncodeMemo();
  ~EncodeMemo();
  EncodeMemo(const EncodeMemo&) = delete;
  EncodeMemo& operator=(const EncodeMemo&) = delete;

  size_t arrays() const;        // arrays remembered after the last EncodeState
  size_t reused_items() const;  // items copied rather than encoded by the last EncodeState

  struct Impl;

 private:
  friend std::string EncodeState(const CompiledWorkflow&, const InstanceState&, EncodeMemo*);
  std::unique_ptr<Impl> impl_;
};

// Encodes `state` for DecodeState, as EncodeState(workflow, state) does, with `memo`'s help
// (null: none). Successive calls for one instance should pass the same memo.
std::string EncodeState(const CompiledWorkflow& workflow, const InstanceState& state,
                        EncodeMemo* memo);

// Commands: every alternative of engine::Command.
std::string EncodeCommand(const Command& command);
Result<Command> DecodeCommand(std::string_view bytes);

// Events: every alternative of engine::EventBody, plus Event::now.
std::string EncodeEvent(const Event& event);
Result<Event> DecodeEvent(std::string_view bytes);

// Lifecycle entries of one transition as a JSON array text:
//   [{"kind":"task.completed","time":1700000000000,"task":"/do/0/x","name":"x","attempt":0,
//     "data":{...}}, ...]
// "task", "name" and "attempt" are left out of workflow entries, "data" when it is null.
std::string EncodeLifecycle(const std::vector<LifecycleEntry>& entries);
Result<std::vector<LifecycleEntry>> DecodeLifecycle(std::string_view json_text);

namespace internal {
// Recomputes the checksum of an encoded record, so that fuzz tests can reach the decoder
// behind it with altered payloads. Does nothing to bytes shorter than a header.
void ResealForTest(std::string* bytes);
}  // namespace internal

}  // namespace baton::engine
