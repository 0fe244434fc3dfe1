#include "cli/cli.h"

#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/client_commands.h"
#include "cli/run_command.h"
#include "cli/serve_command.h"
#include "cli/validate_command.h"

namespace baton::cli {

namespace {

// Which client verb the command line named (set by the subcommand callbacks).
enum class ClientVerb {
  kNone,
  kDeploy,
  kStart,
  kList,
  kGet,
  kHistory,
  kCancel,
  kSuspend,
  kResume,
  kDefinitions,
  kDeadLetters,
  kRetry,
  kSkip,
  kCompensate,
  kDiscard,
  kRedrive,
};

}  // namespace

int Main(int argc, char** argv) { return Main(argc, argv, ServeFn{}); }

int Main(int argc, char** argv, const ServeFn& serve) {
  return Main(argc, argv, serve, std::cout, std::cerr);
}

int Main(int argc, char** argv, const ServeFn& serve, std::ostream& out, std::ostream& err) {
  CLI::App app{"baton: durable workflows in the Serverless Workflow DSL"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "baton 0.1.0");
  app.footer(
      "Exit status: 0 success, 1 the work failed or the server refused the request, 2 usage "
      "error, 3 server unreachable or failing (5xx), 4 `start --wait` timed out.\n");

  ValidateArgs validate_args;
  auto* validate = app.add_subcommand("validate", "Check workflow documents without running them");
  validate->add_flag("--strict", validate_args.strict,
                     "Also flag baton's extensions to the DSL (for portable documents)");
  validate->add_option("--output", validate_args.output, "text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  validate->add_option("files", validate_args.files, "Workflow documents (YAML or JSON)")
      ->required();

  RunArgs run_args;
  auto* run = app.add_subcommand("run", "Run a workflow to its end in this process");
  run->add_option("file", run_args.file, "Workflow document (YAML or JSON)")->required();
  auto* input = run->add_option("--input", run_args.input_json, "Workflow input as JSON text");
  run->add_option("--input-file", run_args.input_file, "Read the workflow input from a JSON file")
      ->excludes(input);
  run->add_option("--catalog", run_args.catalog_dirs,
                  "Directory of workflow documents for `run: workflow` (repeatable)");
  run->add_option("--output", run_args.output, "text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  run->add_option("--secret", run_args.secrets, "A secret as NAME=VALUE (repeatable)");
  run->add_flag("--quiet,-q", run_args.quiet, "No progress on stderr");

  ServeArgs serve_args;
  auto* serve_cmd = app.add_subcommand("serve", "Run the baton server (REST API and runtime)");
  serve_cmd->add_option("--db", serve_args.db, "SQLite database file")->capture_default_str();
  serve_cmd
      ->add_option("--listen", serve_args.listen, "HOST:PORT to listen on (port 0: any free port)")
      ->capture_default_str()
      ->check(CLI::Validator(CheckListenAddress, "HOST:PORT", "listen address"));
  serve_cmd->add_option("--config", serve_args.config, "Configuration file (JSON or YAML)")
      ->check(CLI::ExistingFile);
  serve_cmd
      ->add_option("--examples", serve_args.examples_dir,
                   "Deploy every workflow document of this directory at start")
      ->check(CLI::ExistingDirectory);

  // Client verbs. Only one subcommand runs, so they share one set of flag variables.
  ClientFlags flags;
  flags.server = DefaultServerUrl();
  ClientVerb verb = ClientVerb::kNone;
  // `with_output` false: the verb declares its own --output (skip, whose --output is also
  // the task's output).
  auto client = [&](const char* name, const char* description, ClientVerb which,
                    bool with_output = true) {
    auto* sub = app.add_subcommand(name, description);
    sub->add_option("--server", flags.server,
                    "baton server URL (default: $BATON_SERVER, else http://127.0.0.1:8080)");
    if (with_output) {
      sub->add_option("--output", flags.output, "text (default) or json (the server's answer)")
          ->check(CLI::IsMember({"text", "json"}));
    }
    sub->callback([&verb, which] { verb = which; });
    return sub;
  };

  std::vector<std::string> deploy_files;
  client("deploy", "Deploy workflow documents to the server", ClientVerb::kDeploy)
      ->add_option("files", deploy_files, "Workflow documents (YAML or JSON)")
      ->required();

  StartArgs start_args;
  auto* start = client("start", "Start a workflow instance", ClientVerb::kStart);
  start->add_option("workflow", start_args.workflow, "NAMESPACE/NAME or NAMESPACE/NAME:VERSION")
      ->required();
  auto* start_input = start->add_option("--input", start_args.input_json, "Input as JSON text");
  start->add_option("--input-file", start_args.input_file, "Read the input from a JSON file")
      ->excludes(start_input);
  start->add_option("--idempotency-key", start_args.idempotency_key,
                    "Start at most one instance for this key (a repeat returns the same id)");
  auto* wait = start->add_flag("--wait", start_args.wait,
                               "Wait until the instance ends; print its status and output");
  start
      ->add_option("--timeout", start_args.timeout_s,
                   "With --wait: seconds to wait at most (default 300)")
      ->check(CLI::Range(int64_t{1}, int64_t{300}))  // the server holds a request 300 s at most
      ->needs(wait);

  ListArgs list_args;
  auto* ls = client("ls", "List workflow instances", ClientVerb::kList);
  ls->add_option("--status", list_args.status, "Only instances in this status");
  ls->add_option("--workflow", list_args.workflow, "Only instances of NAMESPACE/NAME[:VERSION]");
  ls->add_option("--since", list_args.since, "Only instances created at or after (RFC 3339)");
  ls->add_option("--until", list_args.until, "Only instances created before (RFC 3339)");
  ls->add_option("--limit", list_args.limit, "Instances per page (1-1000)")
      ->check(CLI::Range(1, 1000));
  ls->add_option("--cursor", list_args.cursor, "Continue from this cursor");
  ls->add_flag("--all", list_args.all, "Fetch every page");

  std::string instance_id;
  std::string cancel_reason;
  client("get", "Show one instance", ClientVerb::kGet)
      ->add_option("id", instance_id, "Instance id")
      ->required();
  client("history", "Show the history of an instance", ClientVerb::kHistory)
      ->add_option("id", instance_id, "Instance id")
      ->required();
  auto* cancel = client("cancel", "Cancel an instance", ClientVerb::kCancel);
  cancel->add_option("id", instance_id, "Instance id")->required();
  cancel->add_option("--reason", cancel_reason, "Why (kept in the instance's history)");
  client("suspend", "Suspend an instance", ClientVerb::kSuspend)
      ->add_option("id", instance_id, "Instance id")
      ->required();
  client("resume", "Resume a suspended instance", ClientVerb::kResume)
      ->add_option("id", instance_id, "Instance id")
      ->required();
  client("definitions", "List deployed workflow definitions", ClientVerb::kDefinitions)
      ->alias("defs");

  DeadLetterArgs dead_letter_args;
  auto* dead_letters = client("dead-letters", "List faulted and compensation_failed instances",
                              ClientVerb::kDeadLetters);
  dead_letters->add_option("--workflow", dead_letter_args.workflow,
                           "Only instances of NAMESPACE/NAME[:VERSION]");
  dead_letters->add_option("--error-type", dead_letter_args.error_type,
                           "Only errors of this type (a URI or its last segment: communication)");
  dead_letters->add_option("--since", dead_letter_args.since,
                           "Only instances that ended at or after (RFC 3339)");
  dead_letters->add_option("--until", dead_letter_args.until,
                           "Only instances that ended before (RFC 3339)");
  dead_letters->add_option("--limit", dead_letter_args.limit, "Dead letters to list (1-1000)")
      ->check(CLI::Range(1, 1000));

  // Operator repairs. Only one runs, so they share one set of variables.
  RepairArgs repair_args;
  auto repair = [&](const char* name, const char* description, ClientVerb which) {
    auto* sub = client(name, description, which, /*with_output=*/which != ClientVerb::kSkip);
    sub->add_option("id", repair_args.id, "Instance id")->required();
    sub->add_option("--reason", repair_args.reason, "Why (kept in the instance's history)")
        ->required();
    sub->add_option("--by", repair_args.by, "Who asks (default: $USER, else anonymous)");
    return sub;
  };
  auto* retry = repair("retry", "Run the failed task (or compensation) of an instance again",
                       ClientVerb::kRetry);
  retry->add_option("--input", repair_args.input_json,
                    "JSON that replaces the input of the failed task");
  retry->add_option("--context", repair_args.context_json,
                    "JSON that replaces the workflow context");
  repair("skip", "Mark the failed task (or compensation) done and continue", ClientVerb::kSkip)
      ->add_option("--output", repair_args.outputs,
                   "The failed task's output as JSON (default null); the words text and json "
                   "choose the output format, as for the other verbs")
      ->allow_extra_args(false);
  repair("compensate", "Stop an instance and run its compensations now", ClientVerb::kCompensate);
  repair("discard", "End a dead-lettered instance as cancelled", ClientVerb::kDiscard);

  RedriveArgs redrive_args;
  auto* redrive = client("redrive", "Retry, compensate or discard every matching dead letter",
                         ClientVerb::kRedrive);
  redrive->add_option("--action", redrive_args.action, "retry, compensate or discard")->required();
  redrive->add_option("--reason", redrive_args.reason, "Why (kept in each instance's history)")
      ->required();
  redrive->add_option("--by", redrive_args.by, "Who asks (default: $USER, else anonymous)");
  redrive->add_option("--workflow", redrive_args.workflow,
                      "Only instances of NAMESPACE/NAME[:VERSION]");
  redrive->add_option("--error-type", redrive_args.error_type,
                      "Only errors of this type (a URI or its last segment)");
  redrive->add_option("--since", redrive_args.since,
                      "Only instances that ended at or after (RFC 3339)");
  redrive->add_option("--until", redrive_args.until, "Only instances that ended before (RFC 3339)");
  redrive->add_flag("--dry-run", redrive_args.dry_run,
                    "List the matching instances, change nothing");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e, out, err);
    return code == 0 ? kExitOk : kExitUsage;
  }
  if (*validate) return RunValidate(validate_args);
  if (*run) return RunRun(run_args);
  if (*serve_cmd) return RunServe(serve, serve_args, err);

  Io io{out, err};
  switch (verb) {
    case ClientVerb::kDeploy:
      return RunDeploy(flags, deploy_files, io);
    case ClientVerb::kStart:
      return RunStart(flags, start_args, io);
    case ClientVerb::kList:
      return RunList(flags, list_args, io);
    case ClientVerb::kGet:
      return RunGet(flags, instance_id, io);
    case ClientVerb::kHistory:
      return RunHistory(flags, instance_id, io);
    case ClientVerb::kCancel:
      return RunControl(flags, Control::kCancel, instance_id, cancel_reason, io);
    case ClientVerb::kSuspend:
      return RunControl(flags, Control::kSuspend, instance_id, "", io);
    case ClientVerb::kResume:
      return RunControl(flags, Control::kResume, instance_id, "", io);
    case ClientVerb::kDefinitions:
      return RunDefinitions(flags, io);
    case ClientVerb::kDeadLetters:
      return RunDeadLetters(flags, dead_letter_args, io);
    case ClientVerb::kRetry:
      return RunRepair(flags, Repair::kRetry, repair_args, io);
    case ClientVerb::kSkip:
      return RunRepair(flags, Repair::kSkip, repair_args, io);
    case ClientVerb::kCompensate:
      return RunRepair(flags, Repair::kCompensate, repair_args, io);
    case ClientVerb::kDiscard:
      return RunRepair(flags, Repair::kDiscard, repair_args, io);
    case ClientVerb::kRedrive:
      return RunRedrive(flags, redrive_args, io);
    case ClientVerb::kNone:
      break;
  }
  return kExitUsage;
}

}  // namespace baton::cli
