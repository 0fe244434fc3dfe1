// The REST API of baton under /api/v1, plus /healthz and /readyz: JSON in and out, errors as
// problem+json (api/problem.h). src/api/openapi.json documents every route registered here;
// tests/api/openapi_test.cc keeps the two in step.
//
//   POST /api/v1/definitions                                   deploy a document (YAML/JSON)
//   GET  /api/v1/definitions                                   {items: [...]}
//   GET  /api/v1/definitions/{namespace}/{name}                versions of one workflow
//   GET  /api/v1/definitions/{namespace}/{name}/{version}      one version with its document
//   POST /api/v1/instances[?wait=SECONDS]                      start (idempotent with a key)
//   GET  /api/v1/instances?status&workflow&since&until&limit&cursor
//   GET  /api/v1/instances/{id}                                the instance view
//   GET  /api/v1/instances/{id}/history                        its history
//   POST /api/v1/instances/{id}/cancel|suspend|resume          controls: {id, status}
//   POST /api/v1/instances/{id}/retry|skip|compensate|discard  operator repair: the view
//   GET  /api/v1/dead-letters?workflow&errorType&since&until&limit&cursor
//   POST /api/v1/dead-letters/redrive                          bulk repair (or a dry run)
//   GET  /api/v1/openapi.json                                  the OpenAPI 3.0 document
//   GET  /healthz, /readyz                                     liveness, readiness
//
// Controls answer once the change is committed, with the instance's status read right after:
// 200 when that status already reflects the request (cancel: a terminal status; suspend:
// "suspended"; resume: anything else), 202 when the instance is still getting there (e.g. a
// cancel running compensations).
//
// Repairs (retry, skip, compensate, discard) and redrive answer 200 once the service has
// committed them: a repair with the instance view, a redrive with {dryRun, matched, items}.
// Their author is the body's `by`, else the X-Baton-User header, else "anonymous".
//
// Threads: handlers run on the connection's strand (an io thread) and call the service's
// synchronous reads there; the service's completion callbacks only hop back to the strand
// (Responder::Post) before doing anything else, since they run on its commit thread.
#pragma once

#include "api/router.h"
#include "runtime/service.h"

namespace baton::api {

// Registers the routes above. `service` must outlive every request the router handles
// (stop the HttpServer before destroying the service).
void AddRoutes(Router& router, runtime::WorkflowService& service);

}  // namespace baton::api
