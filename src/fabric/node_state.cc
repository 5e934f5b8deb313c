#include "vpcctl/fabric/node_state.h"

#include "vpcctl/base/text.h"
#include "vpcctl/exec/runner.h"
#include "vpcctl/fabric/wg_key.h"
#include "vpcctl/platform/linux.h"
#include "vpcctl/store/state_dir.h"

namespace vpcctl::fabric {

namespace {

constexpr std::chrono::seconds kStepTimeout{60};

// The programs the plans of either platform may need.
constexpr const char* kTools[] = {"wg", "wireguard-go", "nft", "pfctl"};

}  // namespace

Result<HeldMap> LoadHeldMap(store::Store& db) {
  VPC_ASSIGN_OR_RETURN(auto held, db.LoadMap());
  if (!held) {
    return UsageError(
        "no map on this node yet: the controller pushes one with `vpcctl vpc "
        "deploy` or `vpcctl vpc sync`");
  }
  auto m = model::ParseMap(held->document);
  if (!m) return Failure("the map held in the state database is unusable: " + m.error().message);
  return HeldMap{std::move(*m), held->node, held->generation};
}

std::vector<model::StepReport> StepReports(const std::vector<plan::Step>& steps) {
  std::vector<model::StepReport> out;
  out.reserve(steps.size());
  for (const auto& s : steps) {
    out.push_back({std::string(plan::ActionName(s.action)), s.vpc, s.ifname, plan::Describe(s)});
  }
  return out;
}

Result<plan::Desired> BuildDesired(const model::Fabric& fabric, DesiredInputs in) {
  plan::Desired d;
  if (fabric.FindNode(in.node)) {
    VPC_ASSIGN_OR_RETURN(d, plan::DesiredFor(fabric, in.node, in.only_vpc));
  }
  d.node = in.node;
  d.platform = in.platform;
  platform::DriverFor(in.platform).AddNodeSetup(d, in.env);
  for (auto& r : in.attachments) {
    const plan::DesiredVpc* dv = nullptr;
    for (const auto& v : d.vpcs)
      if (v.vpc == r.vpc) dv = &v;
    if (dv) {
      d.attachments.push_back(plan::DesiredAttachment{std::move(r), dv->mtu});
    } else {
      d.orphans.push_back(std::move(r));
    }
  }
  return d;
}

namespace {

// Where this process keeps vpcctl and its state: itself, and its state directory.
platform::NodeEnv HereEnv(const Context& ctx) { return {ctx.Machine().SelfPath(), ctx.paths.dir}; }

}  // namespace

platform::NodeEnv NodeEnvOf(const Context& ctx, const model::Node& n) {
  if (n.is_local) return HereEnv(ctx);
  platform::NodeEnv env;
  if (!n.remote_vpcctl.empty()) env.vpcctl = n.remote_vpcctl;
  env.state_dir = model::DefaultStateDir(n.platform);
  return env;
}

Result<plan::Desired> NodeDesired(Context& ctx, store::Store& db, const model::Map& map,
                                  const std::string& node, model::Platform platform,
                                  bool make_key) {
  VPC_ASSIGN_OR_RETURN(auto records, db.Attachments());
  VPC_ASSIGN_OR_RETURN(plan::Desired d,
                       BuildDesired(map.fabric, DesiredInputs{node, platform, HereEnv(ctx),
                                                              std::move(records), ""}));
  if (d.wireguard) {
    VPC_ASSIGN_OR_RETURN(d.wireguard->public_key,
                         NodePublicKey(ctx.Machine(), d.wireguard->key_file, make_key));
  }
  return d;
}

Result<plan::Observed> ProbeInterfaces(Context& ctx, const platform::Driver& driver,
                                       bool namespaces) {
  std::vector<std::string> outputs;
  auto commands = driver.ProbeCommands();
  if (namespaces && !driver.NamespaceProbe().empty()) commands.push_back(driver.NamespaceProbe());
  for (const auto& argv : commands) {
    VPC_ASSIGN_OR_RETURN(auto r, ctx.runner.Run(argv, "", kStepTimeout));
    if (!r.ok()) {
      return Failure("probe `" + ShellLine(argv) + "` failed: " + std::string(Trim(r.err)));
    }
    outputs.push_back(std::move(r.out));
  }
  return driver.ParseProbe(outputs);
}

std::optional<std::string> ProbeFirewall(Context& ctx, const platform::Driver& driver) {
  std::string listing;
  bool first = true;
  for (const auto& argv : driver.FirewallProbe()) {
    auto r = ctx.runner.Run(argv, "", kStepTimeout);
    bool ok = r.ok() && r->ok();
    if (first && (!ok || Trim(r->out).empty())) return std::nullopt;  // r is ok when ok
    if (!first) listing += "--\n";
    if (ok) listing += r->out;
    first = false;
  }
  return listing;
}

exec::DaemonIdentity Identity(const plan::DesiredDaemon& d) { return {d.program, d.marks}; }

Result<plan::Observed> ProbeNode(Context& ctx, const platform::Driver& driver,
                                 const plan::Desired& desired, const ProbeHints& hints) {
  bool namespaces = false;  // guests' namespaces matter only when a guest is one
  for (const auto& da : desired.attachments)
    namespaces = namespaces || da.record.kind == model::GuestKind::kNetns;
  VPC_ASSIGN_OR_RETURN(plan::Observed observed, ProbeInterfaces(ctx, driver, namespaces));
  std::set<std::string> tools;
  for (const char* t : kTools)
    if (!ctx.Machine().FindProgram(t).empty()) tools.insert(t);
  observed.tools = tools;
  if (driver.platform() == model::Platform::kLinux)
    observed.wireguard_kernel = ctx.Machine().KernelHasWireguard();
  std::string wg(model::kWgInterface);
  if (observed.Find(wg) && tools.count("wg")) {
    auto r = ctx.runner.Run(platform::WireguardProbe(wg), "", kStepTimeout);
    if (r && r->ok()) {
      platform::ScrubWgDump(r->out);
      VPC_ASSIGN_OR_RETURN(observed.wireguard, platform::ParseWgDump(r->out));
    }
  }
  if (desired.pin_neighbours) {  // unknown when it fails: then only new bridges get pins
    auto r = ctx.runner.Run(platform::LinuxNeighbourProbe(), "", kStepTimeout);
    if (r && r->ok()) {
      auto parsed = platform::ParseIpNeigh(r->out);
      if (parsed) observed.neighbours = std::move(*parsed);
    }
  }
  if (hints.firewall) {
    observed.firewall = *hints.firewall;
  } else if (!desired.firewall.tool.empty() && tools.count(desired.firewall.tool)) {
    observed.firewall = ProbeFirewall(ctx, driver);
  }
  std::vector<std::string> files = {desired.firewall.rules_path, desired.firewall.listing_path};
  for (const auto& f : desired.files) files.push_back(f.path);
  const exec::Host& host = ctx.Machine();
  for (const auto& path : files) {
    if (path.empty() || !host.Stat(path).exists) continue;
    VPC_ASSIGN_OR_RETURN(observed.files[path], host.ReadFile(path));
  }
  for (const auto& d : desired.daemons) {
    observed.daemons[d.name] = host.DaemonPid(d.pidfile, Identity(d)) != 0;
  }
  if (!desired.wireguard_go.name.empty()) {
    observed.daemons[desired.wireguard_go.name] =
        host.DaemonPid(desired.wireguard_go.pidfile, Identity(desired.wireguard_go)) != 0;
  }
  return observed;
}

Result<std::vector<model::NatReport>> LocateBehindNat(Context& ctx, const platform::Driver& driver,
                                                      model::Map& map, const std::string& node,
                                                      const plan::Observed& observed) {
  std::vector<model::NatReport> found;
  model::Node* self = map.fabric.FindNode(node);
  if (!self) return found;
  // The families the node's plain tunnels use (encrypted ones start inside WireGuard).
  std::set<net::Family> used;
  for (const auto& v : map.fabric.vpcs) {
    if (v.encrypted || !v.FindMember(node)) continue;
    for (const auto& t : v.tunnels)
      if (t.Has(node)) used.insert(t.family);
  }
  for (net::Family fam : {net::Family::kV4, net::Family::kV6}) {
    auto& local = fam == net::Family::kV4 ? self->local4 : self->local6;
    const auto& underlay = self->Underlay(fam);
    if (!underlay) continue;
    model::NatReport r{std::string(net::FamilyName(fam)), underlay->ToString(), "", false};
    if (local && platform::HasAddress(observed, *local)) {
      r.local = local->ToString();
      found.push_back(r);
      continue;
    }
    if (platform::HasAddress(observed, *underlay)) {
      local.reset();
      continue;
    }
    // The route to a peer (any other node with an address in the family), else to the node's
    // own public address: behind NAT, both leave by the way out through the NAT.
    net::IpAddress toward = *underlay;
    for (const auto& n : map.fabric.nodes) {
      if (n.name != node && n.Underlay(fam)) {
        toward = *n.Underlay(fam);
        break;
      }
    }
    std::optional<net::IpAddress> source;
    auto argv = driver.RouteProbe(toward);
    auto out = ctx.runner.Run(argv, "", kStepTimeout);
    if (out && out->ok()) source = driver.ParseRouteSource(out->out, observed, fam);
    if (!source) {
      if (!used.count(fam)) continue;
      return Failure("node " + Quoted(node) + ": its underlay address " + underlay->ToString() +
                     " is on none of its interfaces" +
                     (local ? ", nor is its local address " + local->ToString() : std::string()) +
                     ", and `" + ShellLine(argv) + "` gives no source address to start its " +
                     "tunnels from. If it is behind NAT, give the address it has with `vpcctl " +
                     "node update " + node + " --local-address ADDRESS`");
    }
    local = *source;
    r.local = source->ToString();
    r.detected = true;
    found.push_back(r);
  }
  return found;
}

Result<LocatedNode> DesireAndProbe(Context& ctx, const platform::Driver& driver, store::Store& db,
                                   const HeldMap& held, bool make_key) {
  model::Platform platform = driver.platform();
  LocatedNode out;
  VPC_ASSIGN_OR_RETURN(out.desired, NodeDesired(ctx, db, held.map, held.node, platform, make_key));
  VPC_ASSIGN_OR_RETURN(out.observed, ProbeNode(ctx, driver, out.desired));
  model::Map located = held.map;
  VPC_ASSIGN_OR_RETURN(out.behind_nat,
                       LocateBehindNat(ctx, driver, located, held.node, out.observed));
  const model::Node* before = held.map.fabric.FindNode(held.node);
  const model::Node* after = located.fabric.FindNode(held.node);
  if (before && after && (before->local4 != after->local4 || before->local6 != after->local6)) {
    VPC_ASSIGN_OR_RETURN(out.desired, NodeDesired(ctx, db, located, held.node, platform, make_key));
  }
  return out;
}

Status RunBatched(Context& ctx, const platform::Driver& driver,
                  const std::vector<platform::Argv>& commands) {
  VPC_ASSIGN_OR_RETURN(auto batch, driver.Batch(commands));
  for (const auto& inv : batch) {
    auto r = ctx.runner.Run(inv.argv, inv.input, kStepTimeout);
    std::string what = ShellLine(inv.argv);
    if (!r) return Failure("running `" + what + "`: " + r.error().message);
    if (!r->ok()) {
      std::string detail = std::string(Trim(r->err.empty() ? r->out : r->err));
      return Failure(
          "`" + what + "` failed" +
          (r->timed_out ? " (timed out)" : " with exit " + std::to_string(r->exit_code)) + ": " +
          detail);
    }
  }
  return {};
}

}  // namespace vpcctl::fabric
