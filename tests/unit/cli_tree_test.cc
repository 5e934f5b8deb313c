// The command line of the real binary as a tree: --version, global options after the
// subcommand, and every command and positional described (what completions and the man page
// are generated and checked from).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "testing.h"
#include "vpcctl/version.h"

namespace vpcctl {
namespace {

class CliTree : public testing::BinaryTest {
 protected:
  // Runs the binary with exactly `args` (no --state-dir of the fixture's).
  exec::CommandResult Raw(std::vector<std::string> args) {
    exec::Argv argv = {VPCCTL_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    exec::LocalRunner runner;
    auto r = runner.Run(argv, "", std::chrono::seconds(30));
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : exec::CommandResult{};
  }
};

TEST_F(CliTree, VersionPrintsTheProgramAndItsVersion) {
  auto r = Raw({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "vpcctl " VPCCTL_VERSION "\n");
}

TEST_F(CliTree, GlobalOptionsWorkAfterTheSubcommand) {
  auto init = Raw({"init", "--name", "h1", "--address", "192.0.2.1", "--state-dir", state_});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  // The controller made by `init` is seen through --state-dir placed before, after, and after a
  // nested subcommand, with --deadline after the subcommand too.
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--state-dir", state_, "node", "list"},
           {"node", "--state-dir", state_, "list"},
           {"node", "list", "--state-dir", state_},
           {"node", "list", "--state-dir", state_, "--deadline", "10"},
       }) {
    auto r = Raw(args);
    EXPECT_EQ(r.exit_code, 0) << ShellLine(args) << "\n" << r.err;
    EXPECT_NE(r.out.find("192.0.2.1"), std::string::npos) << ShellLine(args) << "\n" << r.out;
  }
  // A bad value of a global option after the subcommand is refused like one before it.
  auto bad = Raw({"node", "list", "--state-dir", state_, "--deadline", "soon"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("soon"), std::string::npos) << bad.err;
}

TEST_F(CliTree, EveryCommandAndPositionalIsDescribed) {
  auto r = Raw({"completion", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto tree = nlohmann::json::parse(r.out);
  ASSERT_GT(tree.size(), 40u);
  for (const auto& c : tree) {
    std::string path = c["path"];
    EXPECT_FALSE(c["description"].get<std::string>().empty()) << path;
    for (const auto& p : c["positionals"]) {
      EXPECT_FALSE(p["description"].get<std::string>().empty())
          << "positional " << p["name"] << " of `" << path << "` has no description in --help";
    }
  }
}

// Every numeric option says what it takes in --help: a type name other than TEXT and its range
// ("1-600 seconds"), in every command that has it; and a value outside it is refused with the
// one wording "invalid FLAG 'VALUE': must be LO-HI", exit 2.
TEST_F(CliTree, NumericOptionsShowTheirTypeAndRange) {
  const std::set<std::string> numeric = {"--timeout", "--command-timeout", "--parallel",
                                         "--port",    "--mtu",             "--wireguard-port",
                                         "--max-jails", "--max-vms",       "--vhid",
                                         "--lease",   "--advert"};
  auto r = Raw({"completion", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto tree = nlohmann::json::parse(r.out);
  std::set<std::string> seen;
  const std::regex line(R"(^\s+(--[a-z-]+) ([A-Z:]+)(?: REQUIRED)?\s+(.*)$)");
  const std::regex range(R"(\d+-\d+)");
  for (const auto& c : tree) {
    std::vector<std::string> args;
    std::istringstream words(c["path"].get<std::string>());
    for (std::string w; words >> w;) args.push_back(w);
    args.erase(args.begin());  // "vpcctl"
    args.push_back("--help");
    auto help = Raw(args);
    std::istringstream lines(help.out);
    for (std::string l; std::getline(lines, l);) {
      std::smatch m;
      if (!std::regex_match(l, m, line) || !numeric.count(m[1])) continue;
      seen.insert(m[1]);
      std::string where = c["path"].get<std::string>() + " " + m[1].str();
      EXPECT_EQ(m[2].str().find("TEXT"), std::string::npos) << where << ": " << l;
      EXPECT_TRUE(std::regex_search(m[3].str(), range)) << where << " gives no range: " << l;
    }
  }
  EXPECT_EQ(seen, numeric);
  // The ranges are enforced, in one wording.
  auto bad = Raw({"vpc", "status", "vpc1", "--parallel", "0", "--state-dir", state_});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("invalid --parallel '0': must be 1-1024"), std::string::npos) << bad.err;
  bad = Raw({"node", "check", "--timeout", "601", "--state-dir", state_});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("invalid --timeout '601': must be 1-600 seconds"), std::string::npos)
      << bad.err;
}

}  // namespace
}  // namespace vpcctl
