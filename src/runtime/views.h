// The JSON views of instances and their history that the API returns (shapes documented
// in docs/api.md). Built from store rows, plus the decoded interpreter state when there is
// one. The values returned may share storage with `state`: DeepCopy them before they
// cross threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "base/status.h"
#include "engine/state.h"
#include "engine/workflow.h"
#include "store/store.h"

namespace baton::runtime {

// History rows hold a JSON array of lifecycle entries as engine::EncodeLifecycle writes them
// ({kind: "task.completed", time: <epoch ms>, task?, name?, attempt?, data?}), plus runtime
// events such as "instance.suspended" of the same shape with a `reason`, appended here
// (comma-separated array items; the caller adds the brackets).
void AppendRuntimeEntryJson(std::string* out, int64_t time, std::string_view kind,
                            std::string_view reason);

// The full view of one instance. `wf`/`state` may be null (the definition is gone, or the
// snapshot is empty): then context is left out and tasks is empty.
Json BuildView(const store::InstanceRow& row, const engine::CompiledWorkflow* wf,
               const engine::InstanceState* state);

// A list item: the view without context and tasks.
Json BuildSummary(const store::InstanceRow& row);

// {id, items: [{seq, time, kind, task?, name?, attempt, durationMs?, output?, error?,
// reason?}]}: entries in order, numbered from 0, each task end with its duration.
Result<Json> BuildHistoryView(const std::string& id, const std::vector<store::HistoryRow>& rows);

// The tasks now running, waiting or retrying: [{ref, name, status, attempt, startedAt}].
Json RunningTasks(const engine::InstanceState& state);

}  // namespace baton::runtime
