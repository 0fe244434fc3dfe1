#include "runtime/views.h"

#include <map>
#include <utility>

#include "base/time.h"

namespace baton::runtime {

namespace {

Json ParseOrNull(const std::string& text) {
  if (text.empty()) return Json();
  auto v = Json::Parse(text);
  return v.ok() ? std::move(v).value() : Json::String(text);
}

void CollectTasks(const engine::Node& node, Json& out) {
  using Phase = engine::Node::Phase;
  if (node.type == engine::Node::Type::kTask && node.task) {
    const char* status = nullptr;
    switch (node.phase) {
      case Phase::kActivity:
        status = "running";
        break;
      case Phase::kTimer:
      case Phase::kListening:
        status = "waiting";
        break;
      case Phase::kRetryWait:
        status = "retrying";
        break;
      case Phase::kParked:
        status = "faulted";
        break;
      case Phase::kCompensating:
        status = node.error.IsNull() ? "compensating" : "compensation_failed";
        break;
      case Phase::kNew:
      case Phase::kRunning:
      case Phase::kCatching:
      case Phase::kDone:
        break;
    }
    if (status) {
      Json t = Json::Object();
      t.Set("ref", Json::String(node.task->ref));
      t.Set("name", Json::String(node.task->name));
      t.Set("status", Json::String(status));
      t.Set("attempt", Json::Number(node.attempt));
      if (node.started_at > 0) t.Set("startedAt", Json::String(FormatRfc3339(node.started_at)));
      if (node.phase == Phase::kRetryWait) {
        if (!node.error.IsNull()) t.Set("lastError", node.error);
        if (node.retry_at > 0) t.Set("nextAttemptAt", Json::String(FormatRfc3339(node.retry_at)));
      }
      if ((node.phase == Phase::kParked || node.phase == Phase::kCompensating) &&
          !node.error.IsNull()) {
        t.Set("error", node.error);
      }
      out.Append(std::move(t));
    }
  }
  for (const auto& child : node.children) {
    if (child) CollectTasks(*child, out);
  }
}

void SetTimes(const store::InstanceRow& row, Json& out) {
  out.Set("createdAt", Json::String(FormatRfc3339(row.created_at)));
  out.Set("updatedAt", Json::String(FormatRfc3339(row.updated_at)));
  if (row.ended_at > 0) {
    out.Set("endedAt", Json::String(FormatRfc3339(row.ended_at)));
    out.Set("elapsedMs", Json::Number(static_cast<double>(row.ended_at - row.created_at)));
  } else {
    out.Set(
        "elapsedMs",
        Json::Number(static_cast<double>(std::max<int64_t>(0, row.updated_at - row.created_at))));
  }
}

void Separate(std::string* out) {
  if (!out->empty()) out->push_back(',');
}

}  // namespace

void AppendRuntimeEntryJson(std::string* out, int64_t time, std::string_view kind,
                            std::string_view reason) {
  Separate(out);
  out->append("{\"kind\":");
  AppendJsonString(out, kind);
  out->append(",\"time\":");
  out->append(std::to_string(time));
  if (!reason.empty()) {
    out->append(",\"reason\":");
    AppendJsonString(out, reason);
  }
  out->push_back('}');
}

Json RunningTasks(const engine::InstanceState& state) {
  Json tasks = Json::Array();
  if (state.root) CollectTasks(*state.root, tasks);
  return tasks;
}

Json BuildSummary(const store::InstanceRow& row) {
  Json out = Json::Object();
  out.Set("id", Json::String(row.id));
  Json wf = Json::Object();
  wf.Set("namespace", Json::String(row.namespace_));
  wf.Set("name", Json::String(row.name));
  wf.Set("version", Json::String(row.version));
  out.Set("workflow", wf);
  out.Set("status", Json::String(row.status));
  if (!row.error_json.empty()) out.Set("error", ParseOrNull(row.error_json));
  if (!row.parent_id.empty()) out.Set("parent", Json::String(row.parent_id));
  SetTimes(row, out);
  return out;
}

Json BuildView(const store::InstanceRow& row, const engine::CompiledWorkflow* wf,
               const engine::InstanceState* state) {
  (void)wf;
  Json out = BuildSummary(row);
  out.Set("input", row.input_json.empty() ? Json::Object() : ParseOrNull(row.input_json));
  if (!row.output_json.empty()) out.Set("output", ParseOrNull(row.output_json));
  if (state) {
    out.Set("context", state->context);
    out.Set("tasks", RunningTasks(*state));
  } else {
    out.Set("tasks", Json::Array());
  }
  if (!row.idempotency_key.empty() && row.idempotency_key.rfind("child:", 0) != 0) {
    out.Set("idempotencyKey", Json::String(row.idempotency_key));
  }
  return out;
}

Result<Json> BuildHistoryView(const std::string& id, const std::vector<store::HistoryRow>& rows) {
  Json items = Json::Array();
  // (task ref, attempt) → start time, for durations.
  std::map<std::pair<std::string, int64_t>, int64_t> started;
  int64_t workflow_started = 0;
  int64_t seq = 0;
  for (const auto& row : rows) {
    auto entries = Json::Parse(row.entries);
    if (!entries.ok() || !entries->IsArray()) {
      return Status::Internal("instance " + id + ": history row " + std::to_string(row.seq) +
                              " is not a JSON array");
    }
    entries->ForEachItem([&](size_t, const Json& e) {
      Json item = Json::Object();
      item.Set("seq", Json::Number(static_cast<double>(seq++)));
      int64_t time = e.Get("time").AsInt();
      item.Set("time", Json::String(FormatRfc3339(time)));
      std::string kind(e.Get("kind").AsString());
      item.Set("kind", Json::String(kind));
      std::string task(e.Get("task").AsString());
      if (!task.empty()) item.Set("task", Json::String(task));
      Json name = e.Get("name");
      if (name.IsString()) item.Set("name", name);
      int64_t attempt = e.Get("attempt").AsInt();
      item.Set("attempt", Json::Number(static_cast<double>(attempt)));
      auto key = std::make_pair(task, attempt);
      if (kind == "task.started") {
        started[key] = time;
      } else if (kind == "workflow.started") {
        workflow_started = time;
      } else if (kind.rfind("task.", 0) == 0) {
        auto it = started.find(key);
        if (it != started.end()) {
          item.Set("durationMs", Json::Number(static_cast<double>(time - it->second)));
        }
      } else if (kind.rfind("workflow.", 0) == 0 && workflow_started > 0) {
        item.Set("durationMs", Json::Number(static_cast<double>(time - workflow_started)));
      }
      Json data = e.Get("data");
      if (!data.IsNull()) {
        if (kind == "task.retrying" || kind == "workflow.repaired") {
          // {error, delayMs, nextAttemptAt} / {action, by, reason, input?, context?, output?}
          data.ForEachMember([&](std::string_view k, const Json& v) { item.Set(k, v); });
        } else if (kind.find("faulted") != std::string::npos || kind == "task.retried" ||
                   kind.rfind("workflow.compensat", 0) == 0) {
          item.Set("error", data);  // the compensating workflow keeps its error
        } else {
          item.Set("output", data);
        }
      }
      Json error = e.Get("error");
      if (!error.IsNull()) item.Set("error", error);
      Json reason = e.Get("reason");
      if (reason.IsString()) item.Set("reason", reason);
      items.Append(std::move(item));
    });
  }
  Json out = Json::Object();
  out.Set("id", Json::String(id));
  out.Set("items", items);
  return out;
}

}  // namespace baton::runtime
