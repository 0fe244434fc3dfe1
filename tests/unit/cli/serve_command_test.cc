// `baton serve`: its flags reach the serve function that app/ passes to cli::Main.
#include "cli/serve_command.h"

#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli/cli.h"

namespace baton::cli {
namespace {

struct ServeRun {
  int code = -1;
  std::optional<ServeArgs> args;  // what the serve function received, if it was called
  std::string err;
};

ServeRun RunServeCli(std::vector<std::string> args, bool with_server = true) {
  args.insert(args.begin(), "baton");
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  ServeRun run;
  ServeFn serve;
  if (with_server) {
    serve = [&run](const ServeArgs& received) {
      run.args = received;
      return 7;
    };
  }
  std::ostringstream out;
  std::ostringstream err;
  run.code = Main(static_cast<int>(argv.size()), argv.data(), serve, out, err);
  run.err = err.str();
  return run;
}

TEST(ServeCommandTest, DefaultsReachTheServeFunctionAndItsExitCodeIsReturned) {
  ServeRun run = RunServeCli({"serve"});
  EXPECT_EQ(run.code, 7);
  ASSERT_TRUE(run.args);
  EXPECT_EQ(run.args->db, "baton.db");
  EXPECT_EQ(run.args->listen, "127.0.0.1:8080");
  EXPECT_EQ(run.args->config, "");
  EXPECT_EQ(run.args->examples_dir, "");
}

TEST(ServeCommandTest, FlagsReachTheServeFunction) {
  std::string here = BATON_SOURCE_DIR;
  ServeRun run = RunServeCli({"serve", "--db", "/tmp/x.db", "--listen", "0.0.0.0:0", "--examples",
                              here + "/examples", "--config", here + "/CMakeLists.txt"});
  EXPECT_EQ(run.code, 7) << run.err;
  ASSERT_TRUE(run.args);
  EXPECT_EQ(run.args->db, "/tmp/x.db");
  EXPECT_EQ(run.args->listen, "0.0.0.0:0");
  EXPECT_EQ(run.args->examples_dir, here + "/examples");
  EXPECT_EQ(run.args->config, here + "/CMakeLists.txt");
}

TEST(ServeCommandTest, BadFlagsAreUsageErrorsAndDoNotStartTheServer) {
  for (std::vector<std::string> args :
       std::vector<std::vector<std::string>>{{"serve", "--listen", "8080"},
                                             {"serve", "--listen", "localhost:http"},
                                             {"serve", "--listen", "localhost:70000"},
                                             {"serve", "--examples", "/does/not/exist"},
                                             {"serve", "--config", "/does/not/exist.yaml"},
                                             {"serve", "--bogus"}}) {
    ServeRun run = RunServeCli(args);
    EXPECT_EQ(run.code, 2) << args.back();
    EXPECT_FALSE(run.args) << args.back();
  }
}

TEST(ServeCommandTest, WithoutAServerInThisBuildServeSaysSo) {
  ServeRun run = RunServeCli({"serve"}, /*with_server=*/false);
  EXPECT_EQ(run.code, 1);
  EXPECT_EQ(run.err, "baton: serve is not available in this build\n");
}

TEST(ServeCommandTest, ListenAddressesAreHostColonPort) {
  EXPECT_EQ(CheckListenAddress("127.0.0.1:8080"), "");
  EXPECT_EQ(CheckListenAddress("localhost:0"), "");
  EXPECT_EQ(CheckListenAddress("[::1]:65535"), "");
  EXPECT_EQ(CheckListenAddress("8080"), "expected HOST:PORT, got '8080'");
  EXPECT_EQ(CheckListenAddress(":8080"), "missing host in ':8080' (e.g. 127.0.0.1:8080)");
  EXPECT_EQ(CheckListenAddress("::1:8080"),
            "an IPv6 host must be in brackets, e.g. [::1]:8080; got '::1:8080'");
  EXPECT_EQ(CheckListenAddress("host:65536"),
            "the port must be a number from 0 to 65535, got '65536'");
  EXPECT_EQ(CheckListenAddress("host:"), "the port must be a number from 0 to 65535, got ''");
  EXPECT_EQ(CheckListenAddress("host:-1"), "the port must be a number from 0 to 65535, got '-1'");
}

TEST(CliTest, UsageErrorsExit2AndHelpExits0) {
  std::vector<std::string> args = {"baton", "frobnicate"};
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(Main(2, argv.data(), ServeFn{}, out, err), 2);

  std::vector<std::string> help = {"baton", "start", "--help"};
  argv.clear();
  for (auto& arg : help) argv.push_back(arg.data());
  std::ostringstream help_out;
  EXPECT_EQ(Main(3, argv.data(), ServeFn{}, help_out, err), 0);
  EXPECT_NE(help_out.str().find("--idempotency-key"), std::string::npos);
  EXPECT_NE(help_out.str().find("--server"), std::string::npos);
}

}  // namespace
}  // namespace baton::cli
