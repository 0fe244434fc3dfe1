#include "executors/process/process_executor.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/check.h"
#include "base/thread_name.h"
#include "executors/fault.h"
#include "executors/http/fetch.h"

extern char** environ;  // NOLINT: POSIX

namespace baton::executors {
namespace {

using engine::ErrorKind;

constexpr int64_t kKillGraceMs = 2000;
constexpr size_t kMaxStreamBytes = size_t{16} << 20;
constexpr int64_t kSourceFetchTimeoutMs = 30'000;
// Without a pidfd (old kernels) child exits are noticed by polling this often.
constexpr int kReapPollMs = 20;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

enum class ReturnMode : uint8_t { kStdout, kStderr, kCode, kAll, kNone };

// What Start learned from the request, as plain data (the worker thread builds all Json).
struct ProcessSpec {
  uint64_t activity_id = 0;
  std::string what;  // "shell command", "python script", ... for messages
  std::vector<std::string> argv;
  std::vector<std::string> env;  // "NAME=value"
  bool has_stdin = false;
  std::string stdin_data;
  ReturnMode mode = ReturnMode::kStdout;
  bool await = true;
  int64_t timeout_ms = 0;
  // A script's code goes to a temporary file named `script_file` that argv[script_arg]
  // then names (a file, not -e/-c: no 128 KiB argv limit, and ES modules work).
  std::string script_file;
  size_t script_arg = 0;
  std::string code;
  std::string source_uri;  // set while the code still has to be fetched
  std::optional<Fault> fault;
};

std::string ArgText(const Json& value) {
  if (value.IsString()) return std::string(value.AsString());
  return value.Dump();
}

// Appends `arguments` to argv: array items as they are, object members as "key=value".
std::optional<Fault> AppendArguments(const Json& arguments, std::vector<std::string>* argv) {
  if (arguments.IsNull()) return std::nullopt;
  if (arguments.IsArray()) {
    arguments.ForEachItem([&](size_t, const Json& item) { argv->push_back(ArgText(item)); });
    return std::nullopt;
  }
  if (arguments.IsObject()) {
    arguments.ForEachMember([&](std::string_view key, const Json& value) {
      argv->push_back(std::string(key) + "=" + ArgText(value));
    });
    return std::nullopt;
  }
  return MakeFault(
      ErrorKind::kConfiguration,
      std::string("process arguments must be an array or an object, got ") + arguments.KindName());
}

std::optional<Fault> BuildEnvironment(const Json& environment, const ExecutorOptions& options,
                                      std::string_view idempotency_key,
                                      std::vector<std::string>* env) {
  std::vector<std::pair<std::string, std::string>> vars;
  std::unordered_map<std::string, size_t> index;
  auto put = [&](std::string name, std::string value) {
    auto it = index.find(name);
    if (it != index.end()) {
      vars[it->second].second = std::move(value);
    } else {
      index.emplace(name, vars.size());
      vars.emplace_back(std::move(name), std::move(value));
    }
  };
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    size_t eq = entry.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    put(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  for (const auto& [name, value] : options.base_environment) put(name, value);
  if (!environment.IsNull() && !environment.IsObject()) {
    return MakeFault(ErrorKind::kConfiguration,
                     std::string("environment must be an object, got ") + environment.KindName());
  }
  std::optional<Fault> fault;
  environment.ForEachMember([&](std::string_view name, const Json& value) {
    if (name.empty() || name.find('=') != std::string_view::npos ||
        name.find('\0') != std::string_view::npos) {
      fault = MakeFault(ErrorKind::kConfiguration,
                        "invalid environment variable name '" + std::string(name) + "'");
      return;
    }
    if (value.IsNull()) return;
    put(std::string(name), ArgText(value));
  });
  if (fault) return fault;
  if (!idempotency_key.empty()) put("BATON_IDEMPOTENCY_KEY", std::string(idempotency_key));
  env->clear();
  for (auto& [name, value] : vars) env->push_back(std::move(name.append("=").append(value)));
  return std::nullopt;
}

std::string SourceUri(const Json& source) {
  Json endpoint = source.IsObject() ? source.Get("endpoint") : source;
  if (endpoint.IsObject()) endpoint = endpoint.Get("uri");
  return endpoint.IsString() ? std::string(endpoint.AsString()) : std::string();
}

ProcessSpec ParseRequest(const engine::ExecuteTask& task, const ExecutorOptions& options) {
  ProcessSpec spec;
  spec.activity_id = task.activity_id;
  spec.timeout_ms = task.timeout_ms;
  const Json& request = task.request;
  auto fail = [&](std::string detail) {
    spec.fault = MakeFault(ErrorKind::kConfiguration, std::move(detail));
    return spec;
  };
  if (!request.IsObject()) return fail(task.kind + " request must be an object");

  Json ret = request.Get("return");
  std::string_view mode = ret.IsString() ? ret.AsString() : std::string_view("stdout");
  if (mode == "stdout") {
    spec.mode = ReturnMode::kStdout;
  } else if (mode == "stderr") {
    spec.mode = ReturnMode::kStderr;
  } else if (mode == "code") {
    spec.mode = ReturnMode::kCode;
  } else if (mode == "all") {
    spec.mode = ReturnMode::kAll;
  } else if (mode == "none") {
    spec.mode = ReturnMode::kNone;
  } else {
    return fail("return must be stdout, stderr, code, all or none, got '" + std::string(mode) +
                "'");
  }
  if (request.Has("await")) spec.await = request.Get("await").Truthy();
  Json stdin_value = request.Get("stdin");
  if (!stdin_value.IsNull()) {
    spec.has_stdin = true;
    spec.stdin_data = ArgText(stdin_value);
  }

  if (task.kind == "shell") {
    Json command = request.Get("command");
    if (!command.IsString() || command.AsString().empty()) {
      return fail("shell task needs a command");
    }
    spec.what = "shell command";
    spec.argv = {"/bin/sh", "-c", std::string(command.AsString()), "sh"};
  } else if (task.kind == "script") {
    Json language = request.Get("language");
    std::string_view lang = language.IsString() ? language.AsString() : std::string_view();
    Json code = request.Get("code");
    if (code.IsString()) {
      spec.code = std::string(code.AsString());
    } else if (request.Has("source")) {
      spec.source_uri = SourceUri(request.Get("source"));
      if (spec.source_uri.empty()) return fail("script source needs an endpoint URI");
    } else {
      return fail("script task needs code or source");
    }
    if (lang == "js" || lang == "javascript") {
      // As `node script.js args`: process.argv[2] is the first argument. Module detection
      // lets both ES module (import) and CommonJS (require) code run.
      spec.what = "javascript script";
      spec.argv = {"node", "--experimental-detect-module", ""};
      spec.script_file = "script.js";
      spec.script_arg = 2;
    } else if (lang == "python") {
      // As `python3 script.py args`: sys.argv[1] is the first argument.
      spec.what = "python script";
      spec.argv = {"python3", ""};
      spec.script_file = "script.py";
      spec.script_arg = 1;
    } else {
      return fail("script language '" + std::string(lang) +
                  "' is not supported (js, javascript, python)");
    }
  } else {
    return fail("the process executor does not run '" + task.kind + "' tasks");
  }

  if (std::optional<Fault> f = AppendArguments(request.Get("arguments"), &spec.argv)) {
    spec.fault = f;
    return spec;
  }
  if (std::optional<Fault> f =
          BuildEnvironment(request.Get("environment"), options, task.idempotency_key, &spec.env)) {
    spec.fault = f;
    return spec;
  }
  return spec;
}

std::string TrimTrailingNewlines(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

void CloseFd(int* fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

// Reads what is available now; returns false at EOF or on a hard error.
bool ReadSome(int fd, std::string* into, bool keep) {
  char buf[65536];
  while (true) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n > 0) {
      if (keep && into->size() < kMaxStreamBytes) {
        into->append(buf, std::min(static_cast<size_t>(n), kMaxStreamBytes - into->size()));
      }
      continue;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK;
  }
}

}  // namespace

struct ProcessExecutor::Impl {
  struct Pending {
    uint64_t serial = 0;
    ProcessSpec spec;
    Completion done;
  };

  enum class StopReason : uint8_t { kNone, kTimeout, kCancel, kShutdown };

  struct Proc {
    uint64_t serial = 0;
    uint64_t activity_id = 0;
    Completion done;  // empty when not awaited
    std::string what;
    ReturnMode mode = ReturnMode::kStdout;
    int64_t timeout_ms = 0;
    int64_t deadline_ms = 0;  // 0 = none
    int64_t kill_at_ms = 0;   // SIGKILL due; 0 = none
    pid_t pid = -1;
    int pidfd = -1;
    int in_fd = -1;
    int out_fd = -1;
    int err_fd = -1;
    std::string stdin_data;
    size_t stdin_written = 0;
    std::string out;
    std::string err;
    StopReason stop = StopReason::kNone;
    bool reaped = false;
    int wait_status = 0;
    std::string temp_dir;  // holds script_path; removed when the process ends
    std::string script_path;
  };

  // Posted to the worker: a start, a cancel, or the result of a source fetch.
  struct Op {
    std::unique_ptr<Pending> start;
    uint64_t cancel_id = 0;
    uint64_t fetched_serial = 0;
    Result<std::string> fetched = Status::Internal("unset");
  };

  explicit Impl(ExecutorOptions opts) : options(std::move(opts)) {
    BATON_CHECK(pipe2(wake, O_CLOEXEC | O_NONBLOCK) == 0);
    worker = std::thread([this] { Run(); });
    NameThread(worker, "baton-process");
  }

  ~Impl() {
    {
      std::lock_guard<std::mutex> lock(mu);
      stop = true;
    }
    abort_fetches.store(true);
    Wake();
    worker.join();
    CloseFd(&wake[0]);
    CloseFd(&wake[1]);
  }

  void Post(Op op) {
    {
      std::lock_guard<std::mutex> lock(mu);
      inbox.push_back(std::move(op));
    }
    Wake();
  }

  void Wake() {
    char byte = 1;
    ssize_t ignored = write(wake[1], &byte, 1);  // a full pipe already means "wake up"
    (void)ignored;
  }

  // --- Worker thread only below ---------------------------------------------------------

  void Run();
  void HandleOp(Op& op, bool stopping);
  void Launch(std::unique_ptr<Pending> pending);
  std::optional<Fault> Spawn(ProcessSpec& spec, Proc* proc);
  void Signal(Proc& proc, int sig);
  void Terminate(Proc& proc, StopReason reason);
  void Finish(Proc& proc);
  static void RemoveScript(Proc& proc);
  void CompleteNow(Completion& done, uint64_t activity_id, const Fault& fault);

  const ExecutorOptions options;
  int wake[2] = {-1, -1};
  std::thread worker;
  std::atomic<bool> abort_fetches{false};

  std::mutex mu;
  std::vector<Op> inbox;  // guarded by mu
  bool stop = false;      // guarded by mu

  uint64_t next_serial = 1;
  std::vector<std::unique_ptr<Proc>> procs;
  std::map<uint64_t, std::unique_ptr<Pending>> fetching;  // by serial
  std::map<uint64_t, std::thread> fetch_threads;          // by serial
};

void ProcessExecutor::Impl::CompleteNow(Completion& done, uint64_t activity_id,
                                        const Fault& fault) {
  Completion callback = std::move(done);
  callback(fault.ToEvent(activity_id));
}

void ProcessExecutor::Impl::HandleOp(Op& op, bool stopping) {
  if (op.start) {
    std::unique_ptr<Pending> pending = std::move(op.start);
    pending->serial = next_serial++;
    if (stopping) {
      CompleteNow(pending->done, pending->spec.activity_id, CancelledFault("the process"));
      return;
    }
    if (pending->spec.fault) {
      CompleteNow(pending->done, pending->spec.activity_id, *pending->spec.fault);
      return;
    }
    if (!pending->spec.source_uri.empty()) {
      uint64_t serial = pending->serial;
      std::string uri = pending->spec.source_uri;
      int64_t timeout = pending->spec.timeout_ms > 0
                            ? std::min(pending->spec.timeout_ms, kSourceFetchTimeoutMs)
                            : kSourceFetchTimeoutMs;
      fetching.emplace(serial, std::move(pending));
      fetch_threads.emplace(serial, std::thread([this, serial, uri, timeout] {
                              Op result;
                              result.fetched_serial = serial;
                              result.fetched =
                                  http::FetchResource(uri, options, timeout, &abort_fetches);
                              Post(std::move(result));
                            }));
      return;
    }
    Launch(std::move(pending));
    return;
  }
  if (op.fetched_serial != 0) {
    auto thread = fetch_threads.find(op.fetched_serial);
    if (thread != fetch_threads.end()) {
      thread->second.join();
      fetch_threads.erase(thread);
    }
    auto it = fetching.find(op.fetched_serial);
    if (it == fetching.end()) return;  // cancelled meanwhile
    std::unique_ptr<Pending> pending = std::move(it->second);
    fetching.erase(it);
    if (stopping) {
      CompleteNow(pending->done, pending->spec.activity_id, CancelledFault("the process"));
    } else if (!op.fetched.ok()) {
      CompleteNow(pending->done, pending->spec.activity_id,
                  MakeFault(ErrorKind::kCommunication,
                            "loading the script source: " + op.fetched.status().message()));
    } else {
      pending->spec.code = std::move(op.fetched).value();
      pending->spec.source_uri.clear();
      Launch(std::move(pending));
    }
    return;
  }
  // Cancel.
  for (auto it = fetching.begin(); it != fetching.end();) {
    if (it->second->spec.activity_id == op.cancel_id) {
      CompleteNow(it->second->done, op.cancel_id, CancelledFault("the process"));
      it = fetching.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& proc : procs) {
    if (proc->activity_id == op.cancel_id && proc->done && proc->stop == StopReason::kNone) {
      Terminate(*proc, StopReason::kCancel);
    }
  }
}

void ProcessExecutor::Impl::Launch(std::unique_ptr<Pending> pending) {
  auto proc = std::make_unique<Proc>();
  proc->serial = pending->serial;
  proc->activity_id = pending->spec.activity_id;
  proc->what = pending->spec.what;
  proc->mode = pending->spec.mode;
  proc->timeout_ms = pending->spec.timeout_ms;
  if (std::optional<Fault> fault = Spawn(pending->spec, proc.get())) {
    RemoveScript(*proc);
    CompleteNow(pending->done, pending->spec.activity_id, *fault);
    return;
  }
  if (pending->spec.await) {
    proc->done = std::move(pending->done);
    if (proc->timeout_ms > 0) proc->deadline_ms = NowMs() + proc->timeout_ms;
    procs.push_back(std::move(proc));
  } else {
    procs.push_back(std::move(proc));
    Completion done = std::move(pending->done);
    done(engine::TaskSucceeded{pending->spec.activity_id, Json::Null()});
  }
}

std::optional<Fault> ProcessExecutor::Impl::Spawn(ProcessSpec& spec, Proc* proc) {
  if (!spec.script_file.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    std::string dir_template =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/baton-script-XXXXXX";
    if (mkdtemp(dir_template.data()) == nullptr) {
      return MakeFault(ErrorKind::kRuntime,
                       "cannot create a temporary directory: " + std::string(strerror(errno)));
    }
    proc->temp_dir = dir_template;
    std::string path = proc->temp_dir + "/" + spec.script_file;
    proc->script_path = path;
    std::ofstream file(path, std::ios::binary);
    file << spec.code;
    file.close();
    if (!file) return MakeFault(ErrorKind::kRuntime, "cannot write " + path);
    spec.argv[spec.script_arg] = path;
  }

  int in[2] = {-1, -1};
  int out[2] = {-1, -1};
  int err[2] = {-1, -1};
  auto close_all = [&] {
    for (int* fd : {&in[0], &in[1], &out[0], &out[1], &err[0], &err[1]}) CloseFd(fd);
  };
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
    int e = errno;
    close_all();
    return MakeFault(ErrorKind::kRuntime, "cannot create pipes: " + std::string(strerror(e)));
  }

  std::vector<char*> argv;
  for (std::string& a : spec.argv) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (std::string& e : spec.env) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);  // its own process group, so we can signal all of it
  sigset_t signals;
  sigemptyset(&signals);
  posix_spawnattr_setsigmask(&attr, &signals);
  sigfillset(&signals);
  posix_spawnattr_setsigdefault(&attr, &signals);

  pid_t pid = -1;
  int rc = posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  CloseFd(&in[0]);
  CloseFd(&out[1]);
  CloseFd(&err[1]);
  if (rc != 0) {
    close_all();
    return MakeFault(ErrorKind::kRuntime,
                     "cannot start '" + spec.argv[0] + "': " + std::string(strerror(rc)));
  }
  proc->pid = pid;
  proc->in_fd = in[1];
  proc->out_fd = out[0];
  proc->err_fd = err[0];
  for (int fd : {proc->in_fd, proc->out_fd, proc->err_fd}) {
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
  proc->pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (spec.has_stdin && !spec.stdin_data.empty()) {
    proc->stdin_data = std::move(spec.stdin_data);
  } else {
    CloseFd(&proc->in_fd);  // the child reads EOF
  }
  return std::nullopt;
}

void ProcessExecutor::Impl::Signal(Proc& proc, int sig) {
  if (proc.pid <= 0) return;
  // The whole group: `sh -c` may have children of its own. Once the leader is reaped the
  // group id can only still name its surviving members (a pgid is not reused while any
  // member lives), so this stays safe.
  if (kill(-proc.pid, sig) != 0 && !proc.reaped) kill(proc.pid, sig);
}

void ProcessExecutor::Impl::Terminate(Proc& proc, StopReason reason) {
  if (proc.stop == StopReason::kNone) proc.stop = reason;
  if (proc.reaped) return;
  Signal(proc, SIGTERM);
  if (proc.kill_at_ms == 0) proc.kill_at_ms = NowMs() + kKillGraceMs;
}

void ProcessExecutor::Impl::RemoveScript(Proc& proc) {
  if (proc.temp_dir.empty()) return;
  if (!proc.script_path.empty()) unlink(proc.script_path.c_str());
  rmdir(proc.temp_dir.c_str());
  proc.temp_dir.clear();
}

void ProcessExecutor::Impl::Finish(Proc& proc) {
  // Whatever the child wrote before exiting is in the pipes now.
  if (proc.out_fd >= 0) ReadSome(proc.out_fd, &proc.out, static_cast<bool>(proc.done));
  if (proc.err_fd >= 0) ReadSome(proc.err_fd, &proc.err, static_cast<bool>(proc.done));
  CloseFd(&proc.in_fd);
  CloseFd(&proc.out_fd);
  CloseFd(&proc.err_fd);
  CloseFd(&proc.pidfd);
  if (proc.stop != StopReason::kNone) Signal(proc, SIGKILL);  // stragglers of the group
  RemoveScript(proc);
  if (!proc.done) return;

  Completion done = std::move(proc.done);
  if (proc.stop == StopReason::kCancel || proc.stop == StopReason::kShutdown) {
    done(CancelledFault("the process").ToEvent(proc.activity_id));
    return;
  }
  if (proc.stop == StopReason::kTimeout) {
    done(Fault{ErrorKind::kTimeout, 408, "Timeout",
               "the " + proc.what + " did not finish within " + std::to_string(proc.timeout_ms) +
                   " ms and was killed"}
             .ToEvent(proc.activity_id));
    return;
  }
  int code = 0;
  std::string how;
  if (WIFEXITED(proc.wait_status)) {
    code = WEXITSTATUS(proc.wait_status);
    how = "exited with code " + std::to_string(code);
  } else if (WIFSIGNALED(proc.wait_status)) {
    int sig = WTERMSIG(proc.wait_status);
    code = 128 + sig;
    const char* name = sigabbrev_np(sig);
    how = "was killed by signal " +
          (name != nullptr ? "SIG" + std::string(name) : std::to_string(sig));
  }
  if (code != 0 && proc.mode != ReturnMode::kCode && proc.mode != ReturnMode::kAll) {
    std::string detail = "the " + proc.what + " " + how;
    std::string err = TrimTrailingNewlines(proc.err);
    if (!err.empty()) detail += ": " + Excerpt(err, 512);
    done(Fault{ErrorKind::kRuntime, 500, "Process Failed", std::move(detail)}.ToEvent(
        proc.activity_id));
    return;
  }
  Json output;
  switch (proc.mode) {
    case ReturnMode::kStdout:
      output = Json::String(TrimTrailingNewlines(std::move(proc.out)));
      break;
    case ReturnMode::kStderr:
      output = Json::String(TrimTrailingNewlines(std::move(proc.err)));
      break;
    case ReturnMode::kCode:
      output = Json::Number(code);
      break;
    case ReturnMode::kAll:
      output = Json::Object();
      output.Set("code", Json::Number(code));
      output.Set("stdout", Json::String(TrimTrailingNewlines(std::move(proc.out))));
      output.Set("stderr", Json::String(TrimTrailingNewlines(std::move(proc.err))));
      break;
    case ReturnMode::kNone:
      break;
  }
  done(engine::TaskSucceeded{proc.activity_id, std::move(output)});
}

void ProcessExecutor::Impl::Run() {
  // Writing to a child that exited raises SIGPIPE on this thread: block it here (the children
  // get a clean mask) and consume the pending signal after an EPIPE.
  sigset_t pipe_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, nullptr);

  bool stopping = false;
  std::vector<pollfd> fds;
  while (true) {
    // 1. Requests from other threads.
    std::vector<Op> ops;
    bool stop_requested = false;
    {
      std::lock_guard<std::mutex> lock(mu);
      ops.swap(inbox);
      stop_requested = stop;
    }
    if (stop_requested && !stopping) {
      stopping = true;
      for (auto& proc : procs) Terminate(*proc, StopReason::kShutdown);
      std::map<uint64_t, std::unique_ptr<Pending>> abandoned = std::move(fetching);
      fetching.clear();
      for (auto& [serial, pending] : abandoned) {
        CompleteNow(pending->done, pending->spec.activity_id, CancelledFault("the process"));
      }
    }
    for (Op& op : ops) HandleOp(op, stopping);

    // 2. Reap, enforce deadlines, finish.
    int64_t now = NowMs();
    for (auto& proc : procs) {
      if (!proc->reaped) {
        int status = 0;
        pid_t r = waitpid(proc->pid, &status, WNOHANG);
        if (r == proc->pid || (r < 0 && errno == ECHILD)) {
          proc->reaped = true;
          proc->wait_status = status;
        }
      }
      if (proc->reaped) continue;
      if (proc->done && proc->stop == StopReason::kNone && proc->deadline_ms > 0 &&
          now >= proc->deadline_ms) {
        Terminate(*proc, StopReason::kTimeout);
      }
      if (proc->kill_at_ms > 0 && now >= proc->kill_at_ms) {
        Signal(*proc, SIGKILL);
        proc->kill_at_ms = 0;
      }
    }
    for (size_t i = 0; i < procs.size();) {
      if (procs[i]->reaped) {
        std::unique_ptr<Proc> proc = std::move(procs[i]);
        procs.erase(procs.begin() + static_cast<std::ptrdiff_t>(i));
        Finish(*proc);
      } else {
        ++i;
      }
    }
    if (stopping && procs.empty()) {
      bool more;
      {
        std::lock_guard<std::mutex> lock(mu);
        more = !inbox.empty();
      }
      if (!more) break;
    }

    // 3. Wait for I/O, an exit, a wake-up or the next deadline.
    fds.clear();
    fds.push_back({wake[0], POLLIN, 0});
    int64_t wait = -1;
    auto bound = [&](int64_t at) {
      int64_t left = std::max<int64_t>(0, at - now);
      wait = wait < 0 ? left : std::min(wait, left);
    };
    std::vector<std::pair<Proc*, int>> owners;  // fds index → (proc, which: 0 in 1 out 2 err 3 pid)
    owners.emplace_back(nullptr, -1);
    for (auto& proc : procs) {
      if (proc->in_fd >= 0) {
        fds.push_back({proc->in_fd, POLLOUT, 0});
        owners.emplace_back(proc.get(), 0);
      }
      if (proc->out_fd >= 0) {
        fds.push_back({proc->out_fd, POLLIN, 0});
        owners.emplace_back(proc.get(), 1);
      }
      if (proc->err_fd >= 0) {
        fds.push_back({proc->err_fd, POLLIN, 0});
        owners.emplace_back(proc.get(), 2);
      }
      if (proc->pidfd >= 0) {
        fds.push_back({proc->pidfd, POLLIN, 0});
        owners.emplace_back(proc.get(), 3);
      } else {
        bound(now + kReapPollMs);
      }
      if (proc->done && proc->stop == StopReason::kNone && proc->deadline_ms > 0) {
        bound(proc->deadline_ms);
      }
      if (proc->kill_at_ms > 0) bound(proc->kill_at_ms);
    }
    int n = poll(fds.data(), fds.size(), static_cast<int>(std::min<int64_t>(wait, 60'000)));
    if (n < 0 && errno != EINTR) {
      // Cannot happen with valid descriptors; back off instead of spinning.
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    if (n <= 0) continue;
    if ((fds[0].revents & POLLIN) != 0) {
      char buf[256];
      while (read(wake[0], buf, sizeof(buf)) > 0) {
      }
    }
    for (size_t i = 1; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      Proc& proc = *owners[i].first;
      switch (owners[i].second) {
        case 0: {
          while (proc.stdin_written < proc.stdin_data.size()) {
            ssize_t w = write(proc.in_fd, proc.stdin_data.data() + proc.stdin_written,
                              proc.stdin_data.size() - proc.stdin_written);
            if (w > 0) {
              proc.stdin_written += static_cast<size_t>(w);
              continue;
            }
            if (w < 0 && errno == EINTR) continue;
            if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
            if (w < 0 && errno == EPIPE) {
              timespec zero{0, 0};
              sigtimedwait(&pipe_set, nullptr, &zero);
            }
            proc.stdin_written = proc.stdin_data.size();  // the child stopped reading
          }
          if (proc.stdin_written >= proc.stdin_data.size()) {
            CloseFd(&proc.in_fd);
            proc.stdin_data.clear();
          }
          break;
        }
        case 1:
          if (!ReadSome(proc.out_fd, &proc.out, static_cast<bool>(proc.done))) {
            CloseFd(&proc.out_fd);
          }
          break;
        case 2:
          if (!ReadSome(proc.err_fd, &proc.err, static_cast<bool>(proc.done))) {
            CloseFd(&proc.err_fd);
          }
          break;
        default:
          break;  // pidfd readable: the child exited; step 2 reaps it
      }
    }
  }

  for (auto& [serial, thread] : fetch_threads) thread.join();
  fetch_threads.clear();
}

ProcessExecutor::ProcessExecutor(ExecutorOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

ProcessExecutor::~ProcessExecutor() = default;

std::vector<std::string> ProcessExecutor::Kinds() const { return {"shell", "script"}; }

void ProcessExecutor::Start(engine::ExecuteTask task, Completion done) {
  auto pending = std::make_unique<Impl::Pending>();
  pending->spec = ParseRequest(task, impl_->options);
  pending->done = std::move(done);
  Impl::Op op;
  op.start = std::move(pending);
  impl_->Post(std::move(op));
}

void ProcessExecutor::Cancel(uint64_t activity_id) {
  Impl::Op op;
  op.cancel_id = activity_id;
  impl_->Post(std::move(op));
}

}  // namespace baton::executors
