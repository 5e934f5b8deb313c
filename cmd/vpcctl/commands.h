// CLI11 wiring: each command group registers its subcommands and, when one is chosen, leaves the
// library call to make in `Dispatch`. No logic here beyond binding options.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

#include "vpcctl/base/result.h"
#include "vpcctl/fabric/context.h"
#include "vpcctl/fabric/deploy.h"
#include "vpcctl/fabric/vpc_status.h"

namespace vpcctl::cli {

// The whole program, as main() runs it; `faults` is the crash tests' port (null in vpcctl).
int Main(int argc, char** argv, fabric::Faults* faults);

struct Dispatch {
  std::function<Status(fabric::Context&)> action;
};

// Checks at parse time that a value is a whole number LO-HI, refusing it in the wording of every
// other value check: "invalid WHAT 'VALUE': must be LO-HI[ UNIT]" (main drops the "NAME: " that
// CLI11 puts before a check's message).
CLI::Validator Bounded(const std::string& what, long lo, long hi, const std::string& unit = "");

// --timeout, --command-timeout, --parallel and --json of a command that reaches nodes.
void AddFanOutOptions(CLI::App* c, fabric::FanOutOptions& o);

void AddInitCommand(CLI::App& app, Dispatch& d);
void AddNodeCommands(CLI::App& app, Dispatch& d);
void AddVpcCommands(CLI::App& app, Dispatch& d);
void AddPlanCommands(CLI::App& app, Dispatch& d);
// After AddVpcCommands: adds vpc sync/deploy/destroy/status, deploy, map, apply, status.
void AddDeployCommands(CLI::App& app, Dispatch& d);
void AddVipCommands(CLI::App& app, Dispatch& d);
// vipd and vip-take (what runs on a node for VIP leases), and the node agent.
void AddVipdCommands(CLI::App& app, Dispatch& d);
void AddGuestCommands(CLI::App& app, Dispatch& d);
// connections list/close/serve: the SSH session keeper.
void AddConnectionCommands(CLI::App& app, Dispatch& d);
// Last: it walks the tree the others built.
void AddCompletionCommand(CLI::App& app, Dispatch& d);

}  // namespace vpcctl::cli
