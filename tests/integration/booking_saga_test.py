#!/usr/bin/env python3
"""End-to-end test of failure handling (issue 4) with examples/booking-saga.yaml.

Starts the booking services fixture (fixtures/booking_fixture.py) and `baton serve` on a
temporary database, with a small server-wide retry policy in its --config file, deploys the
example and runs it once per scenario, each with its own trip id (failure rules of the
fixture are scoped to the trip):

  a  all three bookings succeed         → completed with the itinerary, nothing cancelled
  b  the flight fails permanently (400) → faulted (nothing to compensate), one attempt
  c  the hotel fails permanently (409)  → the flight is cancelled → compensated
  d  the car fails permanently (400)    → hotel, then flight cancelled → compensated
  e  the car answers 503 twice          → completed after two retries (task.retrying)
  e2 the car answers 503 + Retry-After  → the instance shows `retrying`; the delay honours it
  f  the hotel's cancellation fails     → compensation_failed; fixed, then an operator
                                          retry → compensated, with workflow.repaired
  g  dead letters: the view, its filters, a dry-run bulk redrive
  h  operator actions: 409 and 404 (h1), discard with the 400 cases (h2), skip (h3),
     retry of a faulted instance (h4), compensate of a live instance (h5)

Every scenario runs even when an earlier one failed (those that need an earlier one's
instance say so). Assertions follow the contract of docs/errors.md, docs/sagas.md and
docs/dead-letters.md.

Usage: booking_saga_test.py BATON_BINARY [--keep]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
EXAMPLE = ROOT / "examples" / "booking-saga.yaml"
FIXTURE = HERE / "fixtures" / "booking_fixture.py"

WORKFLOW = "examples/booking-saga"
WORKFLOW_ID = {"namespace": "examples", "name": "booking-saga", "version": "1.0.0"}
ERRORS = "https://serverlessworkflow.io/spec/1.0.0/errors/"
FLIGHT, HOTEL, CAR = "/do/0/bookFlight", "/do/1/bookHotel", "/do/2/bookCar"

# Small and fast: retries after 0.2 s, then 0.4 s, then 0.8 s (±10 %), never above 1 s.
CONFIG = """\
retry:
  default: {attempts: 3, delay: PT0.2S, maxDelay: PT1S, multiplier: 2, jitter: 0.1}
"""

# Statuses an instance stays in until something (an operator) acts on it.
SETTLED = {"completed", "faulted", "cancelled", "compensated", "compensation_failed"}
COMPENSATION_KINDS = {"workflow.compensating", "task.compensated", "workflow.compensated",
                      "workflow.compensationFailed"}
WAIT_S = 30

# Never go through a proxy from the environment: everything is on 127.0.0.1.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Failure(Exception):
    pass


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise Failure(message)


def http(method: str, url: str, body=None, headers: dict | None = None,
         timeout: float = 60) -> tuple[int, object]:
    data = None
    hdrs = dict(headers or {})
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with OPENER.open(req, timeout=timeout) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    try:
        return status, (json.loads(raw) if raw else None)
    except ValueError:
        return status, raw.decode(errors="replace")


def rfc3339(t: float) -> str:
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_rfc3339(text) -> float | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def brief(value, limit: int = 600) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= limit else text[:limit] + "..."


def entry_field(entry: dict, name: str, marker: str | None = None):
    """A member of a history entry's data. The contract names the members of each kind's
    data ({action, by, reason, ...} for workflow.repaired); the history view may show them
    at the top level of the entry or under `output` (it flattens an entry's data there,
    docs/api.md) or `data`. `marker` is a member that only the data has (default: `name`)."""
    marker = marker or name
    inner = [entry[h] for h in ("output", "data") if isinstance(entry.get(h), dict)]
    with_marker = [h for h in [entry] + inner if marker in h]
    for holder in with_marker + [entry] + inner:
        value = holder.get(name)
        # (skip the member that holds the data itself, e.g. `output` when it is the data)
        if value is not None and not any(value is h for h in with_marker):
            return value
    return None


def start_process(args: list[str], log: Path, what: str) -> tuple[subprocess.Popen, str]:
    """Starts a server process and returns it with the first line of its standard output."""
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=open(log, "ab"),
                            stdin=subprocess.DEVNULL)
    assert proc.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    line = b""
    deadline = time.time() + WAIT_S
    while not line.endswith(b"\n") and time.time() < deadline:
        if not sel.select(timeout=max(0.0, deadline - time.time())):
            break
        chunk = os.read(proc.stdout.fileno(), 1)
        if not chunk:
            break
        line += chunk
    sel.close()
    if not line.endswith(b"\n"):
        try:  # standard output closed: the process is ending
            rc = proc.wait(timeout=5 if time.time() < deadline else 0.1)
        except subprocess.TimeoutExpired:
            rc = None
            proc.kill()
            proc.wait()
        tail = log.read_text(errors="replace")[-2000:].strip()
        state = (f"exited with status {rc}" if rc is not None
                 else f"printed no line in {WAIT_S} s")
        raise RuntimeError(f"{what} did not start ({state}); its standard error:\n{tail}")
    return proc, line.decode().strip()


def stop_process(proc: subprocess.Popen | None) -> int | None:
    if proc is None or proc.poll() is not None:
        return None if proc is None else proc.returncode
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=WAIT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return -9


class Saga:
    """The server, the fixture, and what the scenarios need from them."""

    def __init__(self, api: str, services: str) -> None:
        self.api = api
        self.services = services
        self.ids: dict[str, str] = {}  # scenario → instance id
        self.started_at = time.time()

    # ---- the booking services ----------------------------------------------------------
    def control(self, trip: str, fail: dict | None = None,
                fail_cancel: dict | None = None) -> None:
        body = {"tripId": trip}
        if fail is not None:
            body["fail"] = fail
        if fail_cancel is not None:
            body["failCancel"] = fail_cancel
        status, answer = http("POST", self.services + "/control", body)
        if status != 200:
            raise RuntimeError(f"fixture refused {body}: {status} {answer}")

    def state(self, trip: str) -> dict:
        status, answer = http("GET", self.services + "/state?tripId=" + trip)
        if status != 200:
            raise RuntimeError(f"fixture /state answered {status}")
        return answer

    def calls(self, trip: str) -> list[tuple[str, str, int]]:
        return [(c["method"], c["path"], c["status"]) for c in self.state(trip)["calls"]]

    def bookings(self, trip: str) -> dict[str, dict]:
        return {b["kind"]: b for b in self.state(trip)["bookings"]}

    # ---- baton ---------------------------------------------------------------------------
    def start(self, trip: str, wait: bool = True) -> str:
        url = self.api + "/api/v1/instances" + (f"?wait={WAIT_S}" if wait else "")
        status, answer = http("POST", url, {"workflow": WORKFLOW,
                                            "input": {"tripId": trip,
                                                      "services": self.services}})
        expect(status == 201, f"start answered {status}: {brief(answer)}")
        return answer["id"]

    def view(self, iid: str) -> dict:
        status, answer = http("GET", f"{self.api}/api/v1/instances/{iid}")
        expect(status == 200, f"GET instance {iid} answered {status}: {brief(answer)}")
        return answer

    def wait_for(self, iid: str, statuses: set[str], timeout: float = WAIT_S,
                 stop_at: set[str] | None = None) -> dict:
        """Polls the instance until its status is in `statuses`; fails when it reaches one of
        `stop_at` (default: any settled status) first, or at the deadline."""
        stop_at = SETTLED if stop_at is None else stop_at
        deadline = time.time() + timeout
        view = self.view(iid)
        while view["status"] not in statuses:
            if view["status"] in stop_at:
                raise Failure(f"instance {iid} is {view['status']}, expected "
                              f"{' or '.join(sorted(statuses))}; error {brief(view.get('error'))}")
            if time.time() > deadline:
                raise Failure(f"instance {iid} still {view['status']} after {timeout:.0f} s, "
                              f"expected {' or '.join(sorted(statuses))}")
            time.sleep(0.05)
            view = self.view(iid)
        return view

    def run(self, trip: str, expected: str) -> tuple[str, dict]:
        iid = self.start(trip)
        return iid, self.wait_for(iid, {expected})

    def history(self, iid: str) -> list[dict]:
        status, answer = http("GET", f"{self.api}/api/v1/instances/{iid}/history")
        expect(status == 200, f"history of {iid} answered {status}: {brief(answer)}")
        return answer["items"]

    def act(self, iid: str, action: str, body, headers: dict | None = None
            ) -> tuple[int, object]:
        return http("POST", f"{self.api}/api/v1/instances/{iid}/{action}", body, headers)

    def dead_letters(self, **query) -> list[dict]:
        query.setdefault("workflow", WORKFLOW)
        query.setdefault("limit", "1000")
        url = f"{self.api}/api/v1/dead-letters?" + urllib.parse.urlencode(query, safe="/:")
        status, answer = http("GET", url)
        expect(status == 200, f"GET {url} answered {status}: {brief(answer)}")
        return answer["items"]


# ---- checks shared by the scenarios ------------------------------------------------------

def kinds_of(history: list[dict]) -> list[str]:
    return [e["kind"] for e in history]


def compensated_refs(history: list[dict]) -> list[str]:
    return [e.get("task") for e in history if e["kind"] == "task.compensated"]


def check_error(view: dict, status: int) -> None:
    error = view.get("error") or {}
    expect(error.get("type") == ERRORS + "communication" and error.get("status") == status,
           f"error should be communication {status} (kept from the failed booking), "
           f"got {brief(error)}")


def check_keys(saga: Saga, trip: str) -> None:
    missing = [c["path"] for c in saga.state(trip)["calls"] if not c["idempotencyKey"]]
    expect(not missing, f"calls without an Idempotency-Key: {missing}")


def check_cancelled_once(saga: Saga, trip: str, kinds: list[str]) -> None:
    bookings = saga.bookings(trip)
    for kind in ("flights", "hotels", "cars"):
        b = bookings.get(kind)
        if kind in kinds:
            expect(b is not None and b["status"] == "cancelled" and b["cancellations"] == 1,
                   f"the {kind} booking should be cancelled exactly once: {brief(b)}")
        elif b is not None:
            expect(b["status"] == "booked" and b["cancellations"] == 0,
                   f"the {kind} booking should not be cancelled: {brief(b)}")


def check_compensation_history(history: list[dict], refs: list[str]) -> None:
    kinds = kinds_of(history)
    expect("workflow.compensating" in kinds and kinds[-1] == "workflow.compensated",
           f"history should go through workflow.compensating to workflow.compensated, "
           f"got {kinds}")
    expect(compensated_refs(history) == refs,
           f"task.compensated entries should name {refs} in that order, "
           f"got {compensated_refs(history)}")
    first = kinds.index("workflow.compensating")
    expect(all(i > first for i, k in enumerate(kinds) if k == "task.compensated"),
           f"task.compensated before workflow.compensating: {kinds}")


def check_repaired(history: list[dict], action: str, by: str, reason: str) -> dict:
    repaired = [e for e in history if e["kind"] == "workflow.repaired"]
    expect(len(repaired) == 1, f"history should have one workflow.repaired entry, got "
                               f"{kinds_of(history)}")
    entry = repaired[0]
    got = {k: entry_field(entry, k, marker="action") for k in ("action", "by", "reason")}
    expect(got == {"action": action, "by": by, "reason": reason},
           f"workflow.repaired should carry {{action: {action}, by: {by}, reason: {reason}}}, "
           f"got {brief(entry)}")
    return entry


# ---- scenarios ---------------------------------------------------------------------------

def scenario_a(saga: Saga) -> None:
    """All three bookings succeed: completed with the itinerary, nothing cancelled."""
    trip = "trip-a"
    iid, view = saga.run(trip, "completed")
    saga.ids["a"] = iid
    bookings = saga.bookings(trip)
    expect(set(bookings) == {"flights", "hotels", "cars"},
           f"expected a flight, a hotel and a car booked, got {sorted(bookings)}")
    want = {"tripId": trip, "flight": bookings["flights"]["id"],
            "hotel": bookings["hotels"]["id"], "car": bookings["cars"]["id"]}
    expect(view.get("output") == want, f"output {brief(view.get('output'))}, expected {want}")
    expect(saga.calls(trip) == [("POST", "/flights", 201), ("POST", "/hotels", 201),
                                ("POST", "/cars", 201)],
           f"calls to the services: {saga.calls(trip)}")
    check_cancelled_once(saga, trip, [])
    check_keys(saga, trip)
    kinds = kinds_of(saga.history(iid))
    expect(kinds[-1] == "workflow.completed", f"history ends with {kinds[-1:]}")
    expect(not COMPENSATION_KINDS & set(kinds), f"compensation entries in {kinds}")


def scenario_b(saga: Saga) -> None:
    """The flight fails permanently: nothing completed, nothing to compensate → faulted."""
    trip = "trip-b"
    saga.control(trip, fail={"flights": "permanent"})
    iid, view = saga.run(trip, "faulted")
    saga.ids["b"] = iid
    check_error(view, 400)
    expect(saga.calls(trip) == [("POST", "/flights", 400)],
           f"a 400 is permanent: one attempt, no retry, nothing cancelled; calls "
           f"{saga.calls(trip)}")
    expect(not saga.bookings(trip), "no booking should exist")
    kinds = kinds_of(saga.history(iid))
    expect(not COMPENSATION_KINDS & set(kinds) and "task.retrying" not in kinds,
           f"no retry or compensation expected in {kinds}")


def scenario_c(saga: Saga) -> None:
    """The hotel fails: the flight is cancelled → compensated, the hotel's error kept."""
    trip = "trip-c"
    saga.control(trip, fail={"hotels": {"status": 409}})
    iid, view = saga.run(trip, "compensated")
    saga.ids["c"] = iid
    check_error(view, 409)
    expect(view.get("output") is None, f"a compensated instance has no output: "
                                       f"{brief(view.get('output'))}")
    flight = saga.bookings(trip).get("flights") or {}
    expect(saga.calls(trip) == [("POST", "/flights", 201), ("POST", "/hotels", 409),
                                ("DELETE", f"/flights/{flight.get('id')}", 200)],
           f"calls to the services: {saga.calls(trip)}")
    check_cancelled_once(saga, trip, ["flights"])
    check_keys(saga, trip)
    history = saga.history(iid)
    check_compensation_history(history, [FLIGHT])
    entry = next(e for e in history if e["kind"] == "task.compensated")
    expect(entry_field(entry, "id") == flight.get("id"),
           f"task.compensated should carry the compensation's output (the cancelled "
           f"booking {flight.get('id')}): {brief(entry)}")


def scenario_d(saga: Saga) -> None:
    """The car fails: the hotel, then the flight are cancelled (reverse completion order)."""
    trip = "trip-d"
    saga.control(trip, fail={"cars": "permanent"})
    iid, view = saga.run(trip, "compensated")
    saga.ids["d"] = iid
    check_error(view, 400)
    expect(view.get("output") is None, f"output {brief(view.get('output'))}")
    bookings = saga.bookings(trip)
    flight, hotel = bookings["flights"]["id"], bookings["hotels"]["id"]
    expect(saga.calls(trip) == [("POST", "/flights", 201), ("POST", "/hotels", 201),
                                ("POST", "/cars", 400), ("DELETE", f"/hotels/{hotel}", 200),
                                ("DELETE", f"/flights/{flight}", 200)],
           f"expected the hotel then the flight cancelled once each; calls {saga.calls(trip)}")
    expect("cars" not in bookings, "the car should not be booked")
    check_cancelled_once(saga, trip, ["flights", "hotels"])
    check_keys(saga, trip)
    history = saga.history(iid)
    check_compensation_history(history, [HOTEL, FLIGHT])


def scenario_e(saga: Saga) -> None:
    """The car answers 503 twice, then books: the default policy retries it → completed."""
    trip = "trip-e"
    saga.control(trip, fail={"cars": 2})
    iid, view = saga.run(trip, "completed")
    saga.ids["e"] = iid
    car_calls = [c for c in saga.state(trip)["calls"] if c["path"] == "/cars"]
    expect([c["status"] for c in car_calls] == [503, 503, 201],
           f"the car should be tried three times (503, 503, 201): {saga.calls(trip)}")
    keys = [c["idempotencyKey"] for c in car_calls]
    expect(len(set(keys)) == 3 and all(keys), f"each attempt has its own key: {keys}")
    gaps = [car_calls[i + 1]["time"] - car_calls[i]["time"] for i in range(2)]
    expect(gaps[0] >= 0.17 and gaps[1] >= 0.34,
           f"the retries should wait about 0.2 s then 0.4 s; gaps {gaps}")
    check_cancelled_once(saga, trip, [])
    expect(view["output"]["car"] == saga.bookings(trip)["cars"]["id"],
           f"output {brief(view['output'])}")
    history = saga.history(iid)
    retrying = [e for e in history if e["kind"] == "task.retrying"]
    expect(len(retrying) == 2 and all(e.get("task") == CAR for e in retrying),
           f"two task.retrying entries for {CAR} expected, got "
           f"{[(e['kind'], e.get('task')) for e in history]}")
    delays = [entry_field(e, "delayMs") for e in retrying]
    expect(len(delays) == 2 and all(isinstance(d, (int, float)) for d in delays)
           and 180 <= delays[0] <= 220 and 360 <= delays[1] <= 440,
           f"delays should be 200 ms then 400 ms, ±10 %: {delays}")
    for e in retrying:
        error = entry_field(e, "error", marker="delayMs") or {}
        expect(error.get("status") == 503, f"task.retrying should carry the error: {brief(e)}")
        expect(parse_rfc3339(entry_field(e, "nextAttemptAt", marker="delayMs")) is not None,
               f"task.retrying should carry nextAttemptAt (RFC 3339): {brief(e)}")
    expect(kinds_of(history).count("task.retried") == 2,
           f"two task.retried entries expected: {kinds_of(history)}")
    attempts = [e.get("attempt") for e in history
                if e["kind"] == "task.started" and e.get("task") == CAR]
    expect(attempts == [0, 1, 2], f"task.started of {CAR} should have attempts 0, 1, 2: "
                                  f"{attempts}")


def scenario_e2(saga: Saga) -> None:
    """503 with Retry-After: 1: the instance is `retrying` for 1 s, shown in its tasks."""
    trip = "trip-e2"
    saga.control(trip, fail={"cars": {"status": 503, "times": 1, "retryAfter": 1}})
    iid = saga.start(trip, wait=False)
    saga.ids["e2"] = iid
    view = saga.wait_for(iid, {"retrying"}, timeout=10)
    tasks = [t for t in view.get("tasks", []) if t.get("ref") == CAR]
    expect(len(tasks) == 1, f"the retrying view should list {CAR}: {brief(view.get('tasks'))}")
    task = tasks[0]
    expect(task.get("status") == "retrying" and task.get("name") == "bookCar"
           and isinstance(task.get("attempt"), int)
           and (task.get("lastError") or {}).get("status") == 503
           and parse_rfc3339(task.get("nextAttemptAt")) is not None,
           f"expected {{status: retrying, name: bookCar, attempt, lastError (503), "
           f"nextAttemptAt}}, got {brief(task)}")
    view = saga.wait_for(iid, {"completed"})
    car_calls = [c for c in saga.state(trip)["calls"] if c["path"] == "/cars"]
    expect([c["status"] for c in car_calls] == [503, 201], f"calls {saga.calls(trip)}")
    gap = car_calls[1]["time"] - car_calls[0]["time"]
    expect(gap >= 0.95, f"Retry-After: 1 should hold the retry for 1 s; it came after {gap:.2f} s")
    retrying = [e for e in saga.history(iid) if e["kind"] == "task.retrying"]
    delays = [entry_field(e, "delayMs") for e in retrying]
    expect(len(delays) == 1 and isinstance(delays[0], (int, float))
           and 1000 <= delays[0] <= 1100,
           f"the delay should be Retry-After (1000 ms; maxDelay is 1 s): {delays}")


def scenario_f1(saga: Saga) -> None:
    """The car fails and the hotel's cancellation fails every time → compensation_failed."""
    trip = "trip-f"
    saga.control(trip, fail={"cars": "permanent"}, fail_cancel={"hotels": "always"})
    iid, _ = saga.run(trip, "compensation_failed")
    saga.ids["f"] = iid
    bookings = saga.bookings(trip)
    hotel = bookings["hotels"]["id"]
    expect(saga.calls(trip) == [("POST", "/flights", 201), ("POST", "/hotels", 201),
                                ("POST", "/cars", 400)] + [("DELETE", f"/hotels/{hotel}", 500)] * 4,
           f"the hotel's cancellation (500, transient) should be tried 4 times under the "
           f"default policy, and the flight not cancelled yet; calls {saga.calls(trip)}")
    check_cancelled_once(saga, trip, [])
    kinds = kinds_of(saga.history(iid))
    expect("workflow.compensating" in kinds and "workflow.compensationFailed" in kinds
           and "workflow.compensated" not in kinds,
           f"history should have workflow.compensating and workflow.compensationFailed: {kinds}")


def scenario_g(saga: Saga) -> None:
    """Dead letters list faulted and compensation_failed instances, and nothing else."""
    need(saga, "b", "f")
    items = saga.dead_letters()
    by_id = {item["id"]: item for item in items}
    b, f = saga.ids["b"], saga.ids["f"]
    expect(b in by_id and by_id[b]["status"] == "faulted",
           f"the faulted instance {b} should be a dead letter: {brief(by_id.get(b))}")
    expect(f in by_id and by_id[f]["status"] == "compensation_failed",
           f"the compensation_failed instance {f} should be a dead letter: {brief(by_id.get(f))}")
    for name in ("a", "c", "d", "e", "e2"):
        iid = saga.ids.get(name)
        expect(iid is None or iid not in by_id,
               f"instance {iid} (scenario {name}, not faulted) is listed as a dead letter")
    item = by_id[b]
    expect(item.get("workflow") == WORKFLOW_ID, f"workflow {brief(item.get('workflow'))}")
    failed = item.get("failedTask") or {}
    expect(failed.get("ref") == FLIGHT and failed.get("name") == "bookFlight",
           f"failedTask should be {FLIGHT}: {brief(item)}")
    expect(item.get("attempts") == 1, f"the flight was tried once: attempts "
                                      f"{item.get('attempts')}")
    expect((item.get("error") or {}).get("status") == 400, f"error {brief(item.get('error'))}")
    expect(parse_rfc3339(item.get("endedAt")) is not None
           and isinstance(item.get("inViewMs"), (int, float)) and item["inViewMs"] >= 0,
           f"endedAt and inViewMs expected: {brief(item)}")

    def listed(**query) -> bool:
        return b in {i["id"] for i in saga.dead_letters(**query)}

    expect(listed(errorType="communication"), "errorType=communication should match")
    expect(listed(errorType=ERRORS + "communication"), "the full error type URI should match")
    expect(not listed(errorType="timeout"), "errorType=timeout should not match")
    expect(listed(workflow=WORKFLOW + ":1.0.0"), "workflow with version should match")
    expect(not listed(since=rfc3339(time.time() + 3600)), "since in the future should not match")
    expect(not listed(until=rfc3339(saga.started_at - 60)),
           "until before the test should not match")

    url = saga.api + "/api/v1/dead-letters/redrive"
    request = {"filter": {"workflow": WORKFLOW}, "action": "discard",
               "reason": "dry run from booking_saga_test", "dryRun": True}
    status, answer = http("POST", url, request)
    expect(status == 200, f"dry-run redrive answered {status}: {brief(answer)}")
    ids = {i["id"] for i in answer.get("items", [])}
    expect(answer.get("dryRun") is True and {b, f} <= ids and answer.get("matched", 0) >= 2,
           f"the dry run should list {b} and {f}: {brief(answer)}")
    expect(saga.view(b)["status"] == "faulted" and saga.view(f)["status"] ==
           "compensation_failed", "a dry run must change nothing")
    status, answer = http("POST", url, dict(request, action="skip", dryRun=False))
    expect(status == 400, f"skip in bulk should be refused with 400, got {status}: {brief(answer)}")


def scenario_f2(saga: Saga) -> None:
    """The hotel's API is fixed; an operator retries: hotel, then flight cancelled."""
    need(saga, "f")
    trip, iid = "trip-f", saga.ids["f"]
    before = len(saga.calls(trip))
    saga.control(trip, fail_cancel={"hotels": None})
    reason = "hotel API fixed (ticket OPS-7)"
    status, answer = saga.act(iid, "retry", {"reason": reason, "by": "test-operator"})
    expect(status == 200 and isinstance(answer, dict) and answer.get("id") == iid,
           f"retry answered {status}: {brief(answer)}")
    saga.wait_for(iid, {"compensated"})
    bookings = saga.bookings(trip)
    flight, hotel = bookings["flights"]["id"], bookings["hotels"]["id"]
    expect(saga.calls(trip)[before:] == [("DELETE", f"/hotels/{hotel}", 200),
                                        ("DELETE", f"/flights/{flight}", 200)],
           f"after the retry: the hotel then the flight cancelled; calls {saga.calls(trip)}")
    check_cancelled_once(saga, trip, ["flights", "hotels"])
    history = saga.history(iid)
    check_repaired(history, "retry", "test-operator", reason)
    kinds = kinds_of(history)
    expect(kinds.index("workflow.compensationFailed") < kinds.index("workflow.repaired"),
           f"workflow.repaired should follow workflow.compensationFailed: {kinds}")
    after = history[kinds.index("workflow.repaired"):]
    expect(compensated_refs(after) == [HOTEL, FLIGHT] and kinds[-1] == "workflow.compensated",
           f"after the repair: task.compensated for {HOTEL} then {FLIGHT}, then "
           f"workflow.compensated; got {kinds}")
    expect(iid not in {i["id"] for i in saga.dead_letters()},
           "a compensated instance is no longer a dead letter")


def scenario_h1(saga: Saga) -> None:
    """Operator actions on instances they do not apply to: 409; unknown id: 404."""
    need(saga, "a")
    a = saga.ids["a"]
    for action in ("retry", "skip", "compensate", "discard"):
        status, answer = saga.act(a, action, {"reason": "test"})
        expect(status == 409, f"{action} of a completed instance should be 409, got {status}: "
                              f"{brief(answer)}")
        expect("completed" in json.dumps(answer),
               f"the 409 should say the instance is completed: {brief(answer)}")
    if "c" in saga.ids:  # (when c failed, it said so)
        status, answer = saga.act(saga.ids["c"], "skip", {"reason": "test"})
        expect(status == 409, f"skip of a compensated instance should be 409, got {status}: "
                              f"{brief(answer)}")
    status, answer = saga.act("01zzzzzzzzzzzzzzzzzzzzzzzz", "retry", {"reason": "test"})
    expect(status == 404 and "no resource at" not in json.dumps(answer),
           f"retry of an unknown instance should be 404 (from the route, not for a missing "
           f"route), got {status}: {brief(answer)}")


def scenario_h2(saga: Saga) -> None:
    """Discard of a faulted instance → cancelled; malformed requests → 400 first."""
    trip = "trip-h-discard"
    saga.control(trip, fail={"flights": "permanent"})
    iid, _ = saga.run(trip, "faulted")
    for body in (None, {}, {"reason": ""}, {"reason": 7}, {"reason": "x", "bogus": 1},
                 {"reason": "x", "by": 3}):
        status, answer = saga.act(iid, "discard", body)
        expect(status == 400, f"discard with body {body} should be 400, got {status}: "
                              f"{brief(answer)}")
    status, answer = saga.act(iid, "compensate", {"reason": "nothing to undo"})
    expect(status == 409, f"compensate of a faulted instance whose saga log is empty should be "
                          f"409, got {status}: {brief(answer)}")
    expect(saga.view(iid)["status"] == "faulted", "refused requests must change nothing")

    # discard → cancelled, error "Discarded"; `by` from X-Baton-User.
    reason = "customer booked elsewhere"
    status, answer = saga.act(iid, "discard", {"reason": reason}, {"X-Baton-User": "alice"})
    expect(status == 200 and isinstance(answer, dict) and answer.get("status") == "cancelled",
           f"discard answered {status}: {brief(answer)}")
    error = saga.view(iid).get("error") or {}
    expect(error.get("title") == "Discarded" and error.get("detail") == reason,
           f"a discarded instance's error is {{title: Discarded, detail: reason}}: {brief(error)}")
    check_repaired(saga.history(iid), "discard", "alice", reason)
    expect(iid not in {i["id"] for i in saga.dead_letters()},
           "a discarded instance is no longer a dead letter")
    expect(saga.calls(trip) == [("POST", "/flights", 400)], f"calls {saga.calls(trip)}")


def scenario_h3(saga: Saga) -> None:
    """Skip of the failed flight with an output (booked by hand) → the trip completes."""
    trip = "trip-h-skip"
    saga.control(trip, fail={"flights": "permanent"})
    iid, _ = saga.run(trip, "faulted")
    manual = {"id": "manual-flight-1", "kind": "flights", "tripId": trip}
    status, answer = saga.act(iid, "skip", {"reason": "booked by phone", "output": manual})
    expect(status == 200, f"skip answered {status}: {brief(answer)}")
    view = saga.wait_for(iid, {"completed"})
    bookings = saga.bookings(trip)
    expect(saga.calls(trip) == [("POST", "/flights", 400), ("POST", "/hotels", 201),
                                ("POST", "/cars", 201)],
           f"after skip: the flight is not called again, hotel and car booked; calls "
           f"{saga.calls(trip)}")
    expect(view["output"].get("hotel") == bookings["hotels"]["id"]
           and view["output"].get("car") == bookings["cars"]["id"],
           f"output {brief(view['output'])}")
    entry = check_repaired(saga.history(iid), "skip", "anonymous", "booked by phone")
    expect(entry_field(entry, "output", marker="action") == manual,
           f"workflow.repaired should carry the skip's output: {brief(entry)}")


def scenario_h4(saga: Saga) -> None:
    """Retry of a faulted instance once the flight API is fixed → completed."""
    trip = "trip-h-retry"
    saga.control(trip, fail={"flights": "permanent"})
    iid, _ = saga.run(trip, "faulted")
    saga.control(trip, fail={"flights": None})
    status, answer = saga.act(iid, "retry", {"reason": "flight API fixed"})
    expect(status == 200, f"retry answered {status}: {brief(answer)}")
    view = saga.wait_for(iid, {"completed"})
    bookings = saga.bookings(trip)
    expect(saga.calls(trip) == [("POST", "/flights", 400), ("POST", "/flights", 201),
                                ("POST", "/hotels", 201), ("POST", "/cars", 201)],
           f"calls {saga.calls(trip)}")
    expect(view["output"] == {"tripId": trip, "flight": bookings["flights"]["id"],
                              "hotel": bookings["hotels"]["id"], "car": bookings["cars"]["id"]},
           f"output {brief(view['output'])}")
    check_repaired(saga.history(iid), "retry", "anonymous", "flight API fixed")


def scenario_h5(saga: Saga) -> None:
    """Compensate of a live instance (waiting to retry the car) → compensated."""
    trip = "trip-h-compensate"
    saga.control(trip, fail={"cars": {"status": 503, "retryAfter": 1}})
    iid = saga.start(trip, wait=False)
    saga.wait_for(iid, {"retrying"}, timeout=10)
    status, answer = saga.act(iid, "compensate", {"reason": "trip called off"})
    expect(status == 200, f"compensate of a retrying instance answered {status}: "
                          f"{brief(answer)}")
    saga.wait_for(iid, {"compensated"})
    bookings = saga.bookings(trip)
    flight, hotel = bookings["flights"]["id"], bookings["hotels"]["id"]
    expect(saga.calls(trip) == [("POST", "/flights", 201), ("POST", "/hotels", 201),
                                ("POST", "/cars", 503), ("DELETE", f"/hotels/{hotel}", 200),
                                ("DELETE", f"/flights/{flight}", 200)],
           f"the pending car retry should be dropped, hotel then flight cancelled; calls "
           f"{saga.calls(trip)}")
    history = saga.history(iid)
    check_repaired(history, "compensate", "anonymous", "trip called off")
    check_compensation_history(history, [HOTEL, FLIGHT])


def need(saga: Saga, *names: str) -> None:
    missing = [n for n in names if n not in saga.ids]
    if missing:
        raise Failure(f"needs the instance of scenario {', '.join(missing)}, which did not "
                      f"get that far")


SCENARIOS = [("a", scenario_a), ("b", scenario_b), ("c", scenario_c), ("d", scenario_d),
             ("e", scenario_e), ("e2", scenario_e2), ("f (compensation fails)", scenario_f1),
             ("g (dead letters)", scenario_g), ("f (operator retry)", scenario_f2),
             ("h1 (refusals)", scenario_h1), ("h2 (discard)", scenario_h2),
             ("h3 (skip)", scenario_h3), ("h4 (retry)", scenario_h4),
             ("h5 (compensate)", scenario_h5)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("baton", help="the baton binary")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="baton-saga-"))
    config = tmp / "baton.yaml"
    config.write_text(CONFIG)
    server_log = tmp / "server.log"
    fixture = baton = None
    results: list[tuple[str, str | None]] = []
    failed_to_run = None
    try:
        fixture, port = start_process([sys.executable, str(FIXTURE)], tmp / "fixture.log",
                                      "the booking fixture")
        services = f"http://127.0.0.1:{int(port)}"
        baton, line = start_process(
            [args.baton, "serve", "--db", str(tmp / "baton.db"), "--listen", "127.0.0.1:0",
             "--config", str(config)], server_log, "baton serve")
        if "listening on http://" not in line:
            raise RuntimeError(f"baton serve printed {line!r} instead of 'listening on ...'")
        api = line.rsplit(" ", 1)[1]
        status, answer = http("POST", api + "/api/v1/definitions", EXAMPLE.read_bytes(),
                              {"Content-Type": "application/yaml"})
        if status != 201:
            raise RuntimeError(f"deploying {EXAMPLE.name} answered {status}: "
                               f"{answer if isinstance(answer, str) else json.dumps(answer)}")
        saga = Saga(api, services)
        for name, scenario in SCENARIOS:
            t0 = time.time()
            try:
                scenario(saga)
                results.append((name, None))
                print(f"booking_saga_test: ok   {name}: {scenario.__doc__.splitlines()[0]} "
                      f"({time.time() - t0:.1f} s)", flush=True)
            except Exception as e:  # noqa: BLE001 - every scenario reports and the next runs
                detail = str(e) if isinstance(e, Failure) else traceback.format_exc()
                results.append((name, detail))
                print(f"booking_saga_test: FAIL {name}: {scenario.__doc__.splitlines()[0]}\n"
                      f"    {detail}", flush=True)
        rc = stop_process(baton)
        if rc != 0:
            results.append(("server stop", f"baton serve exited {rc} on SIGTERM (expected 0)"))
    except Exception as e:  # noqa: BLE001
        failed_to_run = str(e) if isinstance(e, RuntimeError) else traceback.format_exc()
    finally:
        stop_process(baton)
        stop_process(fixture)

    failures = [(n, d) for n, d in results if d is not None]
    if failed_to_run is not None or failures:
        if failed_to_run is not None:
            print(f"booking_saga_test: could not run: {failed_to_run}")
        if server_log.exists():
            tail = server_log.read_text(errors="replace").strip().splitlines()[-15:]
            if tail and not (failed_to_run and tail[-1] in failed_to_run):
                print("booking_saga_test: last lines of the server's log:")
                print("\n".join("    " + t for t in tail))
        print(f"booking_saga_test: FAILED ({len(failures)} of {len(SCENARIOS)} scenarios"
              f"{', setup failed' if failed_to_run else ''}); files kept in {tmp}")
        for name, detail in failures:
            first = detail.splitlines()[0] if detail else ""
            print(f"  {name}: {first[:160] + '...' if len(first) > 160 else first}")
        return 1
    if args.keep:
        print(f"booking_saga_test: files kept in {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"booking_saga_test: OK: {len(SCENARIOS)} scenarios")
    return 0


if __name__ == "__main__":
    sys.exit(main())
