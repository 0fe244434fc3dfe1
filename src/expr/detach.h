// DetachFromProgram: makes a jq result share no storage with the program that produced it.
//
// Why: a compiled jq program owns constants (string literals, object keys, literal arrays and
// objects that jq 1.6 folds at compile time, `$__loc__`). An evaluation hands them out by
// bumping their reference counts, and jv reference counts are plain ints. ProgramSet runs
// evaluations under a mutex, but callers free their results without it: a result that still
// held a constant would race with another thread evaluating the same program. So every
// result is detached while the mutex is held.
//
// How, without copying whole inputs: after the evaluation the jq_state has been reset, so a
// node of the result is referenced only by the result tree, the caller's inputs, or the
// program. A node with one reference was built by this evaluation; it is rebuilt with
// detached children. A node with more references is copied when it is small enough to be a
// constant (its weight, about its JSON length, is at most `max_constant_weight`, which bounds
// every constant the evaluated code can reach). A larger shared node is not a constant; it
// is kept as is when it comes from the caller's inputs (which, being earlier detached results
// or parsed data, hold no constants), and the whole result is deep-copied when some such node
// turns out to have been built by this evaluation and referenced more than once.
//
// Thread-safety: call with the program's mutex held (it touches the constants' counts).
#pragma once

// libjq's headers have no extern "C" of their own.
extern "C" {
#include <jv.h>
}

#include <cstddef>

namespace baton::expr {

// Consumes `result` (valid) and returns an equal value that shares no storage with any
// constant of weight <= max_constant_weight. REQUIRES: nothing but `result`, the caller's
// inputs and the compiled program references any part of `result`.
jv DetachFromProgram(jv result, size_t max_constant_weight);

// The weight used by DetachFromProgram: 1 per value plus the bytes of strings and keys (so a
// literal's weight never exceeds the length of its source text). Stops counting, and returns
// a value above `max`, once the weight exceeds `max`.
size_t BoundedWeight(jv v, size_t max);

}  // namespace baton::expr
