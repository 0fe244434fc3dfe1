#include "cli/cli.h"

#include <string>

#include <CLI/CLI.hpp>

#include "cli/run_command.h"
#include "cli/validate_command.h"

namespace baton::cli {

int Main(int argc, char** argv) {
  CLI::App app{"baton: durable workflows in the Serverless Workflow DSL"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "baton 0.1.0");

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

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (*validate) return RunValidate(validate_args);
  if (*run) return RunRun(run_args);
  return 2;
}

}  // namespace baton::cli
