#include "engine/lifecycle.h"

#include "engine/duration.h"

namespace baton::engine {

const char* LifecycleKindName(LifecycleKind kind) {
  switch (kind) {
    case LifecycleKind::kWorkflowStarted:
      return "workflow.started";
    case LifecycleKind::kWorkflowCompleted:
      return "workflow.completed";
    case LifecycleKind::kWorkflowFaulted:
      return "workflow.faulted";
    case LifecycleKind::kWorkflowCancelled:
      return "workflow.cancelled";
    case LifecycleKind::kWorkflowCompensating:
      return "workflow.compensating";
    case LifecycleKind::kWorkflowCompensated:
      return "workflow.compensated";
    case LifecycleKind::kWorkflowCompensationFailed:
      return "workflow.compensationFailed";
    case LifecycleKind::kWorkflowRepaired:
      return "workflow.repaired";
    case LifecycleKind::kTaskStarted:
      return "task.started";
    case LifecycleKind::kTaskCompleted:
      return "task.completed";
    case LifecycleKind::kTaskFaulted:
      return "task.faulted";
    case LifecycleKind::kTaskRetried:
      return "task.retried";
    case LifecycleKind::kTaskCancelled:
      return "task.cancelled";
    case LifecycleKind::kTaskSkipped:
      return "task.skipped";
    case LifecycleKind::kTaskWaiting:
      return "task.waiting";
    case LifecycleKind::kTaskRetrying:
      return "task.retrying";
    case LifecycleKind::kTaskCompensated:
      return "task.compensated";
    case LifecycleKind::kTaskNotCompensable:
      return "task.notCompensable";
  }
  return "unknown";
}

Json ToCloudEvent(const LifecycleEntry& entry, std::string_view instance_name, std::string id) {
  std::string kind = LifecycleKindName(entry.kind);
  bool is_workflow = kind.rfind("workflow.", 0) == 0;
  std::string verb = kind.substr(kind.find('.') + 1);
  std::string at = FormatIso8601(entry.time);
  Json data = Json::Object();
  if (is_workflow) {
    data.Set("name", Json::String(instance_name));
  } else {
    data.Set("workflow", Json::String(instance_name));
    data.Set("task", Json::String(entry.task_ref));
  }
  data.Set(verb + "At", Json::String(at));
  if (entry.kind == LifecycleKind::kWorkflowFaulted || entry.kind == LifecycleKind::kTaskFaulted) {
    data.Set("error", entry.data);
  } else if ((entry.kind == LifecycleKind::kWorkflowCompleted ||
              entry.kind == LifecycleKind::kTaskCompleted) &&
             !entry.data.IsNull()) {
    data.Set("output", entry.data);
  }
  Json event = Json::Object();
  event.Set("specversion", Json::String("1.0"));
  event.Set("id", Json::String(id));
  event.Set("source", Json::String("https://baton.dev/runtime"));
  event.Set("type", Json::String("io.serverlessworkflow." + kind + ".v1"));
  event.Set("time", Json::String(at));
  event.Set("datacontenttype", Json::String("application/json"));
  event.Set("data", std::move(data));
  return event;
}

}  // namespace baton::engine
