// vpcctl init: registers the local node and generates its key pair.
#include "vpcctl/fabric/init.h"

#include <ostream>

#include "vpcctl/base/text.h"
#include "vpcctl/fabric/format.h"
#include "vpcctl/fabric/node_state.h"
#include "vpcctl/fabric/nodes.h"
#include "vpcctl/model/names.h"
#include "vpcctl/platform/driver.h"
#include "vpcctl/ssh/keys.h"

namespace vpcctl::fabric {

std::optional<int> MtuOfAddress(const plan::Observed& observed, const net::IpAddress& address) {
  for (const auto& i : observed.interfaces)
    for (const auto& a : i.addresses)
      if (a.address == address && i.mtu > 0) return i.mtu;
  return std::nullopt;
}

Result<int> UsableDetectedMtu(Context& ctx, int detected, const std::string& where) {
  std::string seen = "the interface holding " + where + " has MTU " + std::to_string(detected);
  if (detected > model::kMaxNodeMtu) {
    ctx.io.Warn(seen + ", above the largest a node may have: recording " +
                std::to_string(model::kMaxNodeMtu) + " (VPC MTUs stay at most 9216)");
    return model::kMaxNodeMtu;
  }
  if (detected < model::kMinNodeMtu) {
    return Failure(seen + ", below " + std::to_string(model::kMinNodeMtu) +
                   ": too small to carry tunnels; nothing was recorded (give --mtu if it is "
                   "wrong)");
  }
  return detected;
}

Result<model::Platform> LocalPlatform(const Context& ctx) {
  std::string sys = ctx.Machine().SystemName();
  if (auto p = model::PlatformOfSystem(sys)) return *p;
  return Failure("unsupported system " + Quoted(sys) + ": vpcctl runs on Linux and FreeBSD");
}

namespace {

// 128 random bits, hex: identifies this controller's fabric in every map it sends.
std::string NewFabricId(const exec::Host& host) {
  std::string out;
  const char* hex = "0123456789abcdef";
  for (int i = 0; i < 8; ++i) {
    uint32_t v = host.Random();
    for (int k = 0; k < 4; ++k) out += hex[(v >> (k * 4)) & 0xf];
  }
  return out;
}

// Reads the MTU of the interface that holds `address` with the platform's own probe.
std::optional<int> DetectLocalMtu(Context& ctx, model::Platform p, const net::IpAddress& address) {
  auto observed = ProbeInterfaces(ctx, platform::DriverFor(p));
  if (!observed) return std::nullopt;
  return MtuOfAddress(*observed, address);
}

// What init's options describe, every problem with them reported at once.
struct InitValues {
  model::Node node;
  model::VniRange range;
  std::optional<int> mtu;  // none: detected
  model::Transport transport;
};

Result<InitValues> InitValuesOf(const Context& ctx, const InitOptions& o) {
  Problems problems;
  problems.Add(model::ValidateNodeName(o.name));
  InitValues v;
  model::Node& node = v.node;
  node.name = o.name;
  node.is_local = true;
  if (o.addresses.empty()) problems.Add(UsageError("init needs at least one --address"));
  ParseUnderlayAddresses(o.addresses, node, problems);
  if (!o.vni_range.empty()) {
    auto r = model::VniRange::Parse(o.vni_range);
    problems.Add(r);
    if (r) v.range = *r;
  }
  if (!o.mtu.empty()) {
    auto m = model::ParseNodeMtu(o.mtu);
    problems.Add(m);
    if (m) v.mtu = *m;
  }
  model::Transport& transport = v.transport;
  if (!o.transport_network.empty()) {
    auto c = net::Cidr::Parse(o.transport_network);
    if (!c) {
      problems.Add(UsageError("invalid --transport-network " + Quoted(o.transport_network) + ": " +
                              c.error().message));
    } else {
      transport.network = *c;
      problems.Add(model::ValidateTransportNetwork(*c));
    }
  }
  for (const auto* a : {&node.underlay4, &node.underlay6}) {
    if (*a && transport.network.Contains(**a)) {
      problems.Add(UsageError("the transport network " + transport.network.ToString() +
                              " contains the underlay address " + (*a)->ToString() +
                              "; choose another with --transport-network"));
    }
  }
  if (!o.wireguard_port.empty()) {
    auto p = ParseUint(o.wireguard_port, 65535);
    if (!p || *p == 0) {
      problems.Add(
          UsageError("invalid --wireguard-port " + Quoted(o.wireguard_port) + ": must be 1-65535"));
    } else {
      transport.port = static_cast<int>(*p);
    }
  }
  auto platform = LocalPlatform(ctx);
  problems.Add(platform);
  VPC_TRY(problems.ToStatus());
  node.platform = *platform;
  node.ssh_host = o.addresses.front();
  if (auto a = net::IpAddress::Parse(o.addresses.front())) node.ssh_host = a->ToString();
  return v;
}

// The underlay MTU: --mtu, else that of the interface holding the first underlay address, else
// 1500 with a warning.
Result<int> InitMtu(Context& ctx, const InitValues& v) {
  if (v.mtu) return *v.mtu;
  auto primary = v.node.underlay4 ? *v.node.underlay4 : *v.node.underlay6;
  auto detected = DetectLocalMtu(ctx, v.node.platform, primary);
  if (detected) return UsableDetectedMtu(ctx, *detected, primary.ToString());
  ctx.io.Warn("no local interface holds " + primary.ToString() +
              "; assuming an underlay MTU of 1500 (set it with --mtu)");
  return v.node.mtu;
}

void PrintInit(Context& ctx, const InitValues& v, const std::string& pubkey, uint64_t gen,
               bool json_out) {
  const model::Node& node = v.node;
  if (json_out) {
    auto j = NodeJson(node);
    j["state_dir"] = ctx.paths.dir;
    j["public_key"] = pubkey;
    j["vni_range"] = v.range.ToString();
    j["transport_network"] = v.transport.network.ToString();
    j["wireguard_port"] = v.transport.port;
    j["generation"] = gen;
    PrintJson(ctx.io.out, j);
    return;
  }
  ctx.io.out << "initialised node " << node.name << " (" << model::PlatformName(node.platform)
             << ", underlay " << UnderlayText(node) << ", mtu " << node.mtu << ") in "
             << ctx.paths.dir << "\n"
             << "VNI range " << v.range.ToString() << "\n"
             << "transport network " << v.transport.network.ToString()
             << " (encrypted VPCs, inside WireGuard on UDP port " << v.transport.port << ")\n"
             << "public key: " << pubkey << "\n";
}

}  // namespace

// Pipeline: the values of the options (pure but for the platform), lock and open the state,
// refuse a second init, the MTU, the key pair, the node and the fabric's settings in one
// transaction, then print.
Status Init(Context& ctx, const InitOptions& o) {
  VPC_ASSIGN_OR_RETURN(InitValues v, InitValuesOf(ctx, o));
  std::vector<std::string> warnings;
  VPC_TRY(store::EnsureStateDir(ctx.paths.dir, &warnings));
  for (const auto& w : warnings) ctx.io.Warn(w);
  VPC_ASSIGN_OR_RETURN(store::StateLock lock,
                       store::StateLock::Acquire(ctx.paths.lock(), ctx.command_line));
  warnings.clear();
  VPC_ASSIGN_OR_RETURN(auto db, store::Store::Open(ctx.paths.db(), true, &warnings));
  for (const auto& w : warnings) ctx.io.Warn(w);
  store::Transaction tx(*db);
  VPC_TRY(tx.Begin());
  VPC_ASSIGN_OR_RETURN(auto existing, db->GetSetting("local_node"));
  if (existing) {
    return UsageError("vpcctl is already initialised in " + ctx.paths.dir + " as node " +
                      Quoted(*existing) + "; nothing was changed");
  }
  VPC_ASSIGN_OR_RETURN(v.node.mtu, InitMtu(ctx, v));
  VPC_ASSIGN_OR_RETURN(std::string pubkey,
                       ssh::EnsureKeyPair(ctx.paths.private_key(), "vpcctl@" + v.node.name));
  VPC_TRY(db->SaveNode(v.node));
  VPC_TRY(db->SetSetting("local_node", v.node.name));
  VPC_TRY(db->SetSetting("vni_range", v.range.ToString()));
  VPC_TRY(db->SetSetting("transport_network", v.transport.network.ToString()));
  VPC_TRY(db->SetSetting("wireguard_port", std::to_string(v.transport.port)));
  VPC_TRY(db->SetSetting("fabric_id", NewFabricId(ctx.Machine())));
  VPC_ASSIGN_OR_RETURN(uint64_t gen, db->BumpGeneration());
  VPC_TRY(tx.Commit());
  PrintInit(ctx, v, pubkey, gen, o.json);
  return {};
}

}  // namespace vpcctl::fabric
