#include "api/routes.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "api/openapi.h"
#include "api/problem.h"
#include "api/request_parsing.h"
#include "base/json.h"

namespace baton::api {

namespace {

using runtime::WorkflowService;

Response JsonResponse(int status, const Json& body) {
  Response r;
  r.status = status;
  r.body = body.Dump();
  return r;
}

void Fail(const Responder& responder, const Status& status) {
  responder.Send(ProblemResponse(ProblemFromStatus(status)));
}

// Sends the value, or the problem of a failed service call.
void Reply(const Responder& responder, const Result<Json>& result) {
  if (!result.ok()) {
    Fail(responder, result.status());
    return;
  }
  responder.Send(JsonResponse(200, *result));
}

bool IsBlank(std::string_view text) {
  for (char c : text) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
  }
  return true;
}

std::string InstanceLocation(const std::string& id) { return "/api/v1/instances/" + id; }

// --- definitions ---------------------------------------------------------------------------

void Deploy(WorkflowService& service, const Request& req, const Responder& res) {
  if (IsBlank(req.body)) {
    Fail(res, Status::InvalidArgument(
                  "the request body is empty: expected a workflow document (YAML or JSON)"));
    return;
  }
  Result<runtime::DeployResult> deployed = service.Deploy(req.body);
  if (!deployed.ok()) {
    Fail(res, deployed.status());
    return;
  }
  Json body = Json::Object();
  body.Set("namespace", Json::String(deployed->namespace_));
  body.Set("name", Json::String(deployed->name));
  body.Set("version", Json::String(deployed->version));
  Response r = JsonResponse(deployed->created ? 201 : 200, body);
  r.headers.emplace_back("Location", "/api/v1/definitions/" + deployed->namespace_ + "/" +
                                         deployed->name + "/" + deployed->version);
  res.Send(std::move(r));
}

void ListDefinitions(WorkflowService& service, const Request&, const Responder& res) {
  Result<Json> list = service.ListDefinitions();
  if (!list.ok()) {
    Fail(res, list.status());
    return;
  }
  if (list->IsArray()) {
    Json body = Json::Object();
    body.Set("items", std::move(list).value());
    res.Send(JsonResponse(200, body));
    return;
  }
  res.Send(JsonResponse(200, *list));
}

// Validates {namespace} and {name} (and {version} when `with_version`).
Status ValidateDefinitionParams(const Request& req, bool with_version) {
  BATON_RETURN_IF_ERROR(ValidateDnsLabel("namespace", req.Param("namespace")));
  BATON_RETURN_IF_ERROR(ValidateDnsLabel("name", req.Param("name")));
  if (with_version) BATON_RETURN_IF_ERROR(ValidateVersion(req.Param("version")));
  return Status::Ok();
}

void GetDefinitionVersions(WorkflowService& service, const Request& req, const Responder& res) {
  Status valid = ValidateDefinitionParams(req, false);
  if (!valid.ok()) return Fail(res, valid);
  Reply(res, service.GetDefinitionVersions(req.Param("namespace"), req.Param("name")));
}

void GetDefinition(WorkflowService& service, const Request& req, const Responder& res) {
  Status valid = ValidateDefinitionParams(req, true);
  if (!valid.ok()) return Fail(res, valid);
  Reply(res,
        service.GetDefinition(req.Param("namespace"), req.Param("name"), req.Param("version")));
}

// --- instances -----------------------------------------------------------------------------

void StartInstance(WorkflowService& service, const Request& req, const Responder& res) {
  int64_t wait_ms = 0;
  for (const auto& [name, value] : req.query) {
    if (name != "wait") {
      return Fail(
          res, Status::InvalidArgument("unknown query parameter '" + name + "' (expected wait)"));
    }
    if (wait_ms != 0) {
      return Fail(res, Status::InvalidArgument("query parameter 'wait': given more than once"));
    }
    Result<int64_t> parsed = ParseWaitSeconds(value);
    if (!parsed.ok()) return Fail(res, parsed.status());
    wait_ms = *parsed;
  }
  Result<Json> json = ParseJsonBody(req.body);
  if (!json.ok()) return Fail(res, json.status());
  Result<runtime::StartRequest> start = ParseStartRequest(*json);
  if (!start.ok()) return Fail(res, start.status());

  // The callbacks below run on the service's commit thread: they only hop to the strand.
  service.StartInstance(std::move(start).value(), [&service, res,
                                                   wait_ms](Result<runtime::StartResult> result) {
    auto started = std::make_shared<Result<runtime::StartResult>>(std::move(result));
    res.Post([&service, res, wait_ms, started] {
      if (!started->ok()) return Fail(res, started->status());
      const std::string id = (*started)->id;
      const int status = (*started)->created ? 201 : 200;
      if (wait_ms == 0) {
        Json answer = Json::Object();
        answer.Set("id", Json::String(id));
        Response r = JsonResponse(status, answer);
        r.headers.emplace_back("Location", InstanceLocation(id));
        return res.Send(std::move(r));
      }
      service.WaitInstance(id, wait_ms, [res, id, status](Result<runtime::ViewText> view) {
        auto waited = std::make_shared<Result<runtime::ViewText>>(std::move(view));
        res.Post([res, id, status, waited] {
          if (!waited->ok()) {
            Status s = waited->status();
            return Fail(res, Status(s.code(),
                                    "instance " + id +
                                        " was started, but waiting for it failed: " + s.message()));
          }
          Response r;
          r.status = status;
          r.body = ***waited;
          r.headers.emplace_back("Location", InstanceLocation(id));
          res.Send(std::move(r));
        });
      });
    });
  });
}

void ListInstances(WorkflowService& service, const Request& req, const Responder& res) {
  Result<runtime::ListFilter> filter = ParseListFilter(req.query);
  if (!filter.ok()) return Fail(res, filter.status());
  Reply(res, service.ListInstances(*filter));
}

void GetInstance(WorkflowService& service, const Request& req, const Responder& res) {
  Status valid = ValidateInstanceId(req.Param("id"));
  if (!valid.ok()) return Fail(res, valid);
  Reply(res, service.GetInstance(req.Param("id")));
}

void GetHistory(WorkflowService& service, const Request& req, const Responder& res) {
  Status valid = ValidateInstanceId(req.Param("id"));
  if (!valid.ok()) return Fail(res, valid);
  Reply(res, service.GetHistory(req.Param("id")));
}

enum class Control { kCancel, kSuspend, kResume };

bool ControlDone(Control control, std::string_view status) {
  switch (control) {
    case Control::kCancel:
      return status == "cancelled" || status == "completed" || status == "faulted" ||
             status == "compensated" || status == "compensation_failed";
    case Control::kSuspend:
      return status == "suspended";
    case Control::kResume:
      return status != "suspended";
  }
  return false;
}

// Runs on the commit thread: hop to the strand, then read the status the change left.
std::function<void(Status)> AfterControl(WorkflowService& service, const Responder& res,
                                         std::string id, Control control) {
  return [&service, res, id = std::move(id), control](const Status& committed) {
    res.Post([&service, res, id, control, committed] {
      if (!committed.ok()) return Fail(res, committed);
      Json body = Json::Object();
      body.Set("id", Json::String(id));
      Result<Json> view = service.GetInstance(id);
      if (!view.ok() || !view->Get("status").IsString()) {
        // Committed, but the status could not be read back: the change is under way.
        return res.Send(JsonResponse(202, body));
      }
      Json status = view->Get("status");
      bool done = ControlDone(control, status.AsString());
      body.Set("status", std::move(status));
      res.Send(JsonResponse(done ? 200 : 202, body));
    });
  };
}

void ControlInstance(WorkflowService& service, Control control, const Request& req,
                     const Responder& res) {
  std::string id = req.Param("id");
  Status valid = ValidateInstanceId(id);
  if (!valid.ok()) return Fail(res, valid);
  switch (control) {
    case Control::kCancel: {
      Result<std::string> reason = ParseCancelBody(req.body);
      if (!reason.ok()) return Fail(res, reason.status());
      service.Cancel(id, std::move(reason).value(), AfterControl(service, res, id, control));
      return;
    }
    case Control::kSuspend:
    case Control::kResume: {
      Status body = ParseEmptyBody(req.body);
      if (!body.ok()) return Fail(res, body);
      if (control == Control::kSuspend) {
        service.Suspend(id, AfterControl(service, res, id, control));
      } else {
        service.Resume(id, AfterControl(service, res, id, control));
      }
      return;
    }
  }
}

// --- dead letters and operator repair -------------------------------------------------------

void ListDeadLetters(WorkflowService& service, const Request& req, const Responder& res) {
  Result<runtime::DeadLetterFilter> filter = ParseDeadLetterFilter(req.query);
  if (!filter.ok()) return Fail(res, filter.status());
  Reply(res, service.ListDeadLetters(*filter));
}

// Who asks, when the body has no `by`: the X-Baton-User header ("" when absent).
std::string_view UserHeader(const Request& req) {
  std::optional<std::string_view> user = req.Header("X-Baton-User");
  return user ? *user : std::string_view();
}

// Runs on the commit thread: hop to the strand, then answer the value or the problem.
std::function<void(Result<Json>)> AnswerOnStrand(const Responder& res) {
  return [res](Result<Json> result) {
    auto answer = std::make_shared<Result<Json>>(std::move(result));
    res.Post([res, answer] { Reply(res, *answer); });
  };
}

void RepairInstance(WorkflowService& service, std::string_view action, const Request& req,
                    const Responder& res) {
  std::string id = req.Param("id");
  Status valid = ValidateInstanceId(id);
  if (!valid.ok()) return Fail(res, valid);
  Result<runtime::RepairRequest> repair = ParseRepairBody(action, req.body, UserHeader(req));
  if (!repair.ok()) return Fail(res, repair.status());
  service.Repair(id, std::move(repair).value(), AnswerOnStrand(res));
}

void Redrive(WorkflowService& service, const Request& req, const Responder& res) {
  Result<RedriveRequest> redrive = ParseRedriveBody(req.body, UserHeader(req));
  if (!redrive.ok()) return Fail(res, redrive.status());
  service.Redrive(redrive->filter, std::move(redrive->repair), redrive->dry_run,
                  AnswerOnStrand(res));
}

// --- operations ----------------------------------------------------------------------------

void Healthz(const Request&, const Responder& res) {
  Json body = Json::Object();
  body.Set("status", Json::String("ok"));
  res.Send(JsonResponse(200, body));
}

void Readyz(WorkflowService& service, const Request&, const Responder& res) {
  if (!service.Ready()) {
    res.Send(ProblemResponse(MakeProblem(503, "not-ready", "Not ready",
                                         "the server is starting or stopping: the store is not "
                                         "open or recovery has not been scheduled yet")));
    return;
  }
  Json body = Json::Object();
  body.Set("status", Json::String("ready"));
  res.Send(JsonResponse(200, body));
}

void OpenApi(const Request&, const Responder& res) {
  Response r;
  r.body = std::string(OpenApiDocument());
  res.Send(std::move(r));
}

}  // namespace

void AddRoutes(Router& router, WorkflowService& service) {
  // Binds the service into a handler of the shape Router wants.
  auto with = [&service](void (*fn)(WorkflowService&, const Request&, const Responder&)) {
    return [&service, fn](const Request& req, const Responder& res) { fn(service, req, res); };
  };
  auto control = [&service](Control c) {
    return [&service, c](const Request& req, const Responder& res) {
      ControlInstance(service, c, req, res);
    };
  };
  router.Add("POST", "/api/v1/definitions", with(Deploy));
  router.Add("GET", "/api/v1/definitions", with(ListDefinitions));
  router.Add("GET", "/api/v1/definitions/{namespace}/{name}", with(GetDefinitionVersions));
  router.Add("GET", "/api/v1/definitions/{namespace}/{name}/{version}", with(GetDefinition));
  router.Add("POST", "/api/v1/instances", with(StartInstance));
  router.Add("GET", "/api/v1/instances", with(ListInstances));
  router.Add("GET", "/api/v1/instances/{id}", with(GetInstance));
  router.Add("GET", "/api/v1/instances/{id}/history", with(GetHistory));
  router.Add("POST", "/api/v1/instances/{id}/cancel", control(Control::kCancel));
  router.Add("POST", "/api/v1/instances/{id}/suspend", control(Control::kSuspend));
  router.Add("POST", "/api/v1/instances/{id}/resume", control(Control::kResume));
  auto repair = [&service](std::string_view action) {
    return [&service, action](const Request& req, const Responder& res) {
      RepairInstance(service, action, req, res);
    };
  };
  router.Add("POST", "/api/v1/instances/{id}/retry", repair("retry"));
  router.Add("POST", "/api/v1/instances/{id}/skip", repair("skip"));
  router.Add("POST", "/api/v1/instances/{id}/compensate", repair("compensate"));
  router.Add("POST", "/api/v1/instances/{id}/discard", repair("discard"));
  router.Add("GET", "/api/v1/dead-letters", with(ListDeadLetters));
  router.Add("POST", "/api/v1/dead-letters/redrive", with(Redrive));
  router.Add("GET", "/api/v1/openapi.json",
             [](const Request& req, const Responder& res) { OpenApi(req, res); });
  router.Add("GET", "/healthz",
             [](const Request& req, const Responder& res) { Healthz(req, res); });
  router.Add("GET", "/readyz", with(Readyz));
}

}  // namespace baton::api
