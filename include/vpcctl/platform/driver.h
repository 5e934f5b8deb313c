// One driver per OS: renders plan steps to argv lists and parses probe output. Pure: drivers never
// run anything; exec/ and ssh/ do. Both drivers are golden-tested on any machine.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vpcctl/base/result.h"
#include "vpcctl/model/fabric.h"
#include "vpcctl/plan/diff.h"
#include "vpcctl/plan/state.h"

namespace vpcctl::platform {

using Argv = std::vector<std::string>;

// One process to run: argv, with `input` on its stdin.
struct Invocation {
  Argv argv;
  std::string input;
};

struct PingResult {
  int transmitted = 0;
  int received = 0;
  double avg_ms = -1;  // -1 when nothing came back
};

// Where the VIP machinery finds vpcctl and its state on the node.
struct VipEnv {
  std::string vpcctl = "/usr/local/sbin/vpcctl";
  std::string state_dir;
};

class Driver {
 public:
  virtual ~Driver() = default;
  virtual model::Platform platform() const = 0;
  // The commands that carry out one step, in order.
  virtual std::vector<Argv> Render(const plan::Step& step) const = 0;
  // The commands whose output ParseProbe reads, in order.
  virtual std::vector<Argv> ProbeCommands() const = 0;
  // Parses the outputs of ProbeCommands() (same order) into the observed state.
  virtual Result<plan::Observed> ParseProbe(const std::vector<std::string>& outputs) const = 0;
  // Groups commands into as few processes as the platform allows (Linux: `ip -batch -`).
  virtual std::vector<Invocation> Batch(const std::vector<Argv>& commands) const;
  // Fills the desired daemon files, daemons and VIP mode for the node's VIPs (also when it has
  // none: then they are to be removed or stopped).
  virtual void AddVipSetup(plan::Desired& d, const VipEnv& env) const = 0;
  virtual std::string DefaultStateDir() const = 0;
  // Pings `to` from this node's overlay address `from`, through `bridge`, `count` times.
  virtual Argv PingCommand(const std::string& bridge, const net::IpAddress& from,
                           const net::IpAddress& to, int count) const = 0;
};

// The commands of the steps both platforms carry out the same way (files, daemons); nullopt for
// interface steps. Apply performs the file write/removal and daemon signals itself, then runs these.
std::optional<std::vector<Argv>> RenderCommon(const plan::Step& step);

// Reads the summary lines of ping(8) (iputils and FreeBSD formats).
Result<PingResult> ParsePing(std::string_view output);

const Driver& DriverFor(model::Platform p);

// Every command of a plan, flattened, in order.
std::vector<Argv> RenderAll(const Driver& d, const std::vector<plan::Step>& steps);
// The plan as a shell script: a comment describing each step, then its commands.
std::string RenderScript(const Driver& d, const std::vector<plan::Step>& steps);

}  // namespace vpcctl::platform
