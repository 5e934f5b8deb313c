// The program: parses, dispatches to one library call, and is the only place that catches
// exceptions. main.cc calls it; so does the crash tests' binary, with a faults port.
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <optional>
#include <sstream>

#include "commands.h"
#include "vpcctl/base/text.h"
#include "vpcctl/exec/deadline.h"
#include "vpcctl/exec/runner.h"
#include "vpcctl/exec/terminal.h"
#include "vpcctl/ssh/client.h"
#include "vpcctl/ssh/keeper.h"
#include "vpcctl/store/state_dir.h"
#include "vpcctl/version.h"

namespace {

constexpr const char* kExitCodes =
    "Exit codes:\n"
    "  0  success: everything converged\n"
    "  1  failure: the operation failed\n"
    "  2  usage: bad command line or invalid value; nothing was changed\n"
    "  3  partial: some nodes succeeded, some failed\n"
    "  4  all nodes failed\n"
    "  5  not converged: status found drift or a tunnel down\n"
    "  6  locked: another vpcctl is changing this node's state\n"
    "  124  stopped: the --deadline passed (with every command it was running)\n"
    "\n"
    "State: --state-dir, else $VPCCTL_STATE_DIR, else /var/lib/vpcctl (Linux), /var/db/vpcctl "
    "(FreeBSD).";

void PrintError(const std::string& message, bool color) {
  const char* prefix = color ? "\033[1;31mvpcctl: error:\033[0m " : "vpcctl: error: ";
  for (const auto& line : vpcctl::Split(message, '\n')) std::cerr << prefix << line << "\n";
}

// Starts `vpcctl connections serve` for the state directory, detached in its own session: it
// outlives this command and ends itself once idle for `idle` seconds.
vpcctl::Status StartKeeper(const std::string& dir, const std::string& idle) {
  auto pid = vpcctl::exec::SpawnDetached(
      {"/proc/self/exe", "--state-dir", dir, "connections", "serve", "--idle", idle});
  if (!pid) return vpcctl::Failure("cannot start the session keeper");
  return {};
}

}  // namespace

namespace vpcctl::cli {

namespace {

// The options every command takes.
struct Globals {
  std::string state_dir;
  std::string deadline;
  std::string persist;
};

// The program's global options and every command group.
void AddAll(CLI::App& app, Globals& g, Dispatch& dispatch) {
  app.name("vpcctl");
  app.require_subcommand(1);
  app.footer(kExitCodes);
  app.set_version_flag("--version", "vpcctl " VPCCTL_VERSION);
  // Global options (--state-dir, --deadline) are also accepted after the subcommand: every
  // subcommand added below inherits this and hands options it does not know to its parent.
  app.fallthrough();
  app.add_option("--state-dir", g.state_dir, "State directory of this node")->type_name("DIR");
  app.add_option("--deadline", g.deadline,
                 "Stop (with every command it runs) and exit 124 after SECS seconds; the "
                 "controller runs vpcctl on nodes this way")
      ->type_name("SECS");
  app.add_option("--persist", g.persist,
                 "Keep each node's SSH session this long after a command, for the next one, "
                 "0-86400 seconds (default: $VPCCTL_PERSIST, else 0: a session per command)")
      ->type_name("SECS")
      ->check(vpcctl::cli::Bounded("--persist", 0, 86400, "seconds"));
  vpcctl::cli::AddInitCommand(app, dispatch);
  vpcctl::cli::AddNodeCommands(app, dispatch);
  vpcctl::cli::AddVpcCommands(app, dispatch);
  vpcctl::cli::AddPlanCommands(app, dispatch);
  vpcctl::cli::AddDeployCommands(app, dispatch);
  vpcctl::cli::AddVipCommands(app, dispatch);
  vpcctl::cli::AddVipdCommands(app, dispatch);
  vpcctl::cli::AddGuestCommands(app, dispatch);
  vpcctl::cli::AddConnectionCommands(app, dispatch);
  vpcctl::cli::AddCompletionCommand(app, dispatch);
}

// Parses the command line: an exit code when the program ends here (help, version, a bad
// command line), else nothing.
std::optional<int> Parse(CLI::App& app, int argc, char** argv, bool color) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // A check of ours names the option itself: drop the "NAME: " CLI11 puts before it.
    std::string message = e.what();
    if (auto at = message.find(": invalid "); at != std::string::npos &&
                                              dynamic_cast<const CLI::ValidationError*>(&e) &&
                                              message.find(' ') > at) {
      message.erase(0, at + 2);
    }
    PrintError(message, color);
    std::cerr << "Run `vpcctl --help` (or `vpcctl COMMAND --help`) for usage.\n";
    return static_cast<int>(vpcctl::Exit::kUsage);
  }
  return std::nullopt;
}

}  // namespace

int Main(int argc, char** argv, fabric::Faults* faults) {
  // stderr on a terminal that can redraw a line: a live counter in fan-outs, and color unless
  // NO_COLOR is set to something (https://no-color.org).
  const char* term = std::getenv("TERM");
  const char* no_color = std::getenv("NO_COLOR");
  bool live = isatty(2) && !(term && std::string(term) == "dumb");
  bool color = live && !(no_color && *no_color);
  CLI::App app{"vpcctl " VPCCTL_VERSION
               ": private layer-2 networks (VPCs) spanning FreeBSD and Linux hosts"};
  Globals g;
  Dispatch dispatch;
  AddAll(app, g, dispatch);
  if (auto code = Parse(app, argc, argv, color)) return *code;
  if (!dispatch.action) {
    PrintError("no command given", color);
    return static_cast<int>(vpcctl::Exit::kUsage);
  }
  if (!g.deadline.empty()) {
    auto secs = vpcctl::exec::ParseDeadline(g.deadline);
    if (!secs) {
      PrintError(secs.error().message, color);
      return static_cast<int>(vpcctl::Exit::kUsage);
    }
    vpcctl::exec::ArmDeadline(*secs);
  }

  std::ostringstream command_line;
  for (int i = 0; i < argc; ++i) command_line << (i ? " " : "") << argv[i];
  vpcctl::exec::LocalRunner runner;
  vpcctl::ssh::LibsshClient direct;
  auto paths = vpcctl::store::StatePaths{
      vpcctl::store::ResolveStateDir(g.state_dir, std::getenv("VPCCTL_STATE_DIR"))};
  const char* persist_env = std::getenv("VPCCTL_PERSIST");
  if (g.persist.empty() && persist_env && *persist_env) {
    g.persist = persist_env;
    std::string bad = vpcctl::cli::Bounded("VPCCTL_PERSIST", 0, 86400, "seconds")(g.persist);
    if (!bad.empty()) {
      PrintError(bad, color);
      return static_cast<int>(vpcctl::Exit::kUsage);
    }
  }
  // With --persist, sessions to enrolled nodes are lent by the keeper, started on first use.
  vpcctl::ssh::KeeperClient keeper(direct, vpcctl::ssh::KeeperSocket(paths.dir),
                                   [&] { return StartKeeper(paths.dir, g.persist); });
  bool keep = !g.persist.empty() && g.persist != "0";
  vpcctl::ssh::Client& ssh = keep ? static_cast<vpcctl::ssh::Client&>(keeper) : direct;
  vpcctl::exec::RealTerminal terminal;
  vpcctl::fabric::Output io{std::cin, std::cout, std::cerr, color, live};
  vpcctl::probe::SocketProber prober;
  vpcctl::fabric::Context ctx{paths, runner, ssh, terminal, io, prober, command_line.str(), faults};
  try {
    vpcctl::Status st = dispatch.action(ctx);
    std::cout.flush();
    if (!st.ok()) {
      PrintError(st.error().message, color);
      return static_cast<int>(st.error().code);
    }
  } catch (const std::exception& e) {
    PrintError(std::string("internal error: ") + e.what(), color);
    return static_cast<int>(vpcctl::Exit::kFailure);
  }
  return static_cast<int>(vpcctl::Exit::kOk);
}

}  // namespace vpcctl::cli
