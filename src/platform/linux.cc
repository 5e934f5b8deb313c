#include "vpcctl/platform/linux.h"

#include <map>
#include <nlohmann/json.hpp>

#include "vpcctl/base/text.h"

namespace vpcctl::platform {

using plan::Action;
using json = nlohmann::json;

namespace {

// A namespace gets a veth whose peer moves in as eth0; a VM or a named tap gets a tap.
std::vector<Argv> AttachGuest(const plan::Step& s) {
  const model::Attachment& a = s.guest;
  std::string mtu = std::to_string(s.mtu);
  std::vector<Argv> out;
  if (a.kind == model::GuestKind::kNetns) {
    std::string tmp = a.ifname + "p";
    out.push_back({"ip", "link", "add", "name", a.ifname, "mtu", mtu, "type", "veth", "peer",
                   "name", tmp, "mtu", mtu, "netns", a.guest});
    out.push_back({"ip", "link", "set", "dev", a.ifname, "alias", model::GuestTag(a)});
    out.push_back({"ip", "-n", a.guest, "link", "set", "dev", tmp, "name", a.inside});
    if (a.mac) {
      out.push_back({"ip", "-n", a.guest, "link", "set", "dev", a.inside, "address",
                     a.mac->ToString()});
    }
    if (a.address) {
      out.push_back({"ip", "-n", a.guest, "addr", "add", a.address->ToString(), "dev", a.inside});
    }
    out.push_back({"ip", "-n", a.guest, "link", "set", "dev", a.inside, "up"});
    out.push_back({"ip", "-n", a.guest, "link", "set", "dev", "lo", "up"});
  } else {
    out.push_back({"ip", "tuntap", "add", "dev", a.ifname, "mode", "tap"});
    out.push_back({"ip", "link", "set", "dev", a.ifname, "mtu", mtu});
    out.push_back({"ip", "link", "set", "dev", a.ifname, "alias", model::GuestTag(a)});
    // A VM's MAC belongs to its NIC (QEMU -device virtio-net,mac=...), not to the host's tap.
  }
  out.push_back({"ip", "link", "set", "dev", a.ifname, "master", a.vpc});
  out.push_back({"ip", "link", "set", "dev", a.ifname, "up"});
  return out;
}

}  // namespace

std::vector<Argv> LinuxDriver::Render(const plan::Step& s) const {
  if (auto common = RenderCommon(s)) return *common;
  const std::string& i = s.ifname;
  std::string tag = plan::OwnerTag(s.vpc);
  switch (s.action) {
    case Action::kDestroy:
      return {{"ip", "link", "del", "dev", i}};
    case Action::kCreateTunnel: {
      const auto& t = s.tunnel;
      return {{"ip", "link", "add", "name", i, "mtu", std::to_string(s.mtu), "type", "vxlan", "id",
               std::to_string(t.vni), "local", t.local.ToString(), "remote", t.remote.ToString(),
               "dstport", std::to_string(t.port), "nolearning"},
              {"ip", "link", "set", "dev", i, "alias", tag}};
    }
    case Action::kCreateBridge:
      return {{"ip", "link", "add", "name", i, "mtu", std::to_string(s.mtu), "type", "bridge"},
              {"ip", "link", "set", "dev", i, "alias", tag}};
    case Action::kSetOwner:
      return {{"ip", "link", "set", "dev", i, "alias", tag}};
    case Action::kSetMtu:
      return {{"ip", "link", "set", "dev", i, "mtu", std::to_string(s.mtu)}};
    // Port isolation in ip's bridge_slave form (the same flag as `bridge link set dev X isolated
    // on`), so that a whole plan is one `ip -batch`.
    case Action::kAddMember:
      return {{"ip", "link", "set", "dev", i, "master", s.bridge},
              {"ip", "link", "set", "dev", i, "type", "bridge_slave", "isolated", "on"}};
    case Action::kSetIsolated:
      return {{"ip", "link", "set", "dev", i, "type", "bridge_slave", "isolated", "on"}};
    case Action::kAddAddress:
      return {{"ip", "addr", "add", s.address.ToString(), "dev", i}};
    // Flushed by exact address rather than deleted: the step's goal is "absent", and an address
    // can leave between probe and apply (a VIP whose lease ended while its removal was planned);
    // `ip addr del` would fail on it, the flush succeeds and leaves the same state.
    case Action::kRemoveAddress: {
      const net::IpAddress& a = s.address.address;
      return {{"ip", "addr", "flush", "dev", i, "to", a.ToString() + (a.is_v4() ? "/32" : "/128")}};
    }
    case Action::kUp:
      return {{"ip", "link", "set", "dev", i, "up"}};
    case Action::kAttachGuest:
      return AttachGuest(s);
    case Action::kDetachGuest:
      return {{"ip", "link", "del", "dev", i}};
    case Action::kRejoinGuest:
      return {{"ip", "link", "set", "dev", i, "master", s.guest.vpc}};
    case Action::kCreateWireguard:
      return {{"ip", "link", "add", "name", i, "mtu", std::to_string(s.mtu), "type", "wireguard"},
              {"ip", "link", "set", "dev", i, "alias", tag}};
    case Action::kSetMac:
      return {{"ip", "link", "set", "dev", i, "address", s.mac.ToString()}};
    case Action::kPinNeighbour:
      return {{"ip", "neigh", "replace", s.address.address.ToString(), "lladdr", s.mac.ToString(),
               "dev", i, "nud", "permanent"}};
    case Action::kUnpinNeighbour:
      return {{"ip", "neigh", "del", s.address.address.ToString(), "dev", i}};
    case Action::kLoadFirewall:
      return {{"nft", "-f", s.firewall.rules_path}};
    case Action::kRemoveFirewall:
      return {{"nft", "delete", "table", "inet", "vpcctl"}};
    default:
      break;  // keepalived owns VIP addresses on Linux
  }
  return {};
}

namespace {

std::string Saddr(const net::IpAddress& a) { return a.is_v4() ? "ip saddr " : "ip6 saddr "; }

std::string SetOf(const std::vector<std::string>& items) {
  return items.size() == 1 ? items[0] : "{ " + Join(items, ", ") + " }";
}

}  // namespace

std::string RenderNftables(const plan::Desired& d) {
  if (d.vpcs.empty()) return {};
  std::vector<std::string> rules;
  std::map<int, std::vector<std::string>> vnis;  // VXLAN port -> this node's VNIs on it
  for (const auto& v : d.vpcs) {
    for (const auto& t : v.tunnels) {
      std::string vni = std::to_string(t.vni);
      rules.push_back(std::string(t.encrypted ? "iifname \"" + std::string(model::kWgInterface) + "\" "
                                              : "") +
                      Saddr(t.remote) + t.remote.ToString() + " udp dport " +
                      std::to_string(t.port) + " @th,96,24 " + vni + " accept");
      vnis[t.port].push_back(vni);
    }
  }
  for (const auto& [port, list] : vnis) {
    rules.push_back("udp dport " + std::to_string(port) + " @th,96,24 " + SetOf(list) + " drop");
  }
  if (d.wireguard) {
    std::vector<std::string> v4, v6;
    for (const auto& a : d.fabric_underlays) (a.is_v4() ? v4 : v6).push_back(a.ToString());
    std::string port = std::to_string(d.wireguard->port);
    if (!v4.empty()) rules.push_back("ip saddr " + SetOf(v4) + " udp dport " + port + " accept");
    if (!v6.empty()) rules.push_back("ip6 saddr " + SetOf(v6) + " udp dport " + port + " accept");
    rules.push_back("udp dport " + port + " drop");
  }
  // vipd's leases: over the VPC bridges, and from fabric nodes' underlays (a witness's).
  std::vector<std::string> bridges;
  for (const auto& v : d.vpcs) {
    if (!v.vips.empty()) bridges.push_back("\"" + v.vpc + "\"");
  }
  if (!bridges.empty() || !d.witness_vips.empty()) {
    std::string port = "udp dport " + std::to_string(model::kVipdPort);
    std::string on = bridges.empty() ? "" : " iifname != " + SetOf(bridges);
    std::vector<std::string> v4, v6;
    for (const auto& a : d.fabric_underlays) (a.is_v4() ? v4 : v6).push_back(a.ToString());
    rules.push_back(v4.empty() ? "meta nfproto ipv4 " + port + on + " drop"
                               : "ip saddr != " + SetOf(v4) + " " + port + on + " drop");
    rules.push_back(v6.empty() ? "meta nfproto ipv6 " + port + on + " drop"
                               : "ip6 saddr != " + SetOf(v6) + " " + port + on + " drop");
  }
  std::string out =
      "# Generated by vpcctl for node " + d.node + ": the underlay firewall of its VPCs.\n"
      "# `vpcctl apply --local` loads it with nft -f, replacing the whole table at once.\n"
      "table inet vpcctl {}\n"
      "delete table inet vpcctl\n"
      "table inet vpcctl {\n"
      "\tchain input {\n"
      "\t\ttype filter hook input priority filter - 10; policy accept;\n";
  for (const auto& r : rules) out += "\t\t" + r + "\n";
  out += "\t}\n}\n";
  return out;
}

std::string RpsMask(unsigned cpus) {
  if (cpus == 0) cpus = 1;
  std::vector<std::string> groups;  // least significant first
  for (unsigned lo = 0; lo < cpus; lo += 32) {
    unsigned n = std::min(32u, cpus - lo);
    char buf[16];
    std::snprintf(buf, sizeof buf, "%08x", n == 32 ? 0xffffffffu : (1u << n) - 1);
    groups.push_back(buf);
  }
  std::string& top = groups.back();
  top = top.substr(std::min(top.find_first_not_of('0'), top.size() - 1));
  std::string out;
  for (size_t i = groups.size(); i-- > 0;) out += (out.empty() ? "" : ",") + groups[i];
  return out;
}

// `ip -j route get ADDR`: [{"dst": ..., "dev": "eth0", "prefsrc": "192.168.44.2", ...}]
Argv LinuxDriver::RouteProbe(const net::IpAddress& to) const {
  return {"ip", "-j", to.is_v4() ? "-4" : "-6", "route", "get", to.ToString()};
}

std::optional<net::IpAddress> LinuxDriver::ParseRouteSource(std::string_view output,
                                                            const plan::Observed& observed,
                                                            net::Family family) const {
  json j = json::parse(output, nullptr, false);
  if (!j.is_array()) return std::nullopt;
  for (const auto& route : j) {
    if (!route.is_object()) continue;
    auto src = route.find("prefsrc");
    if (src != route.end() && src->is_string()) {
      auto a = net::IpAddress::Parse(src->get<std::string>());
      if (a && a->family() == family && HasAddress(observed, *a)) return *a;
    }
  }
  return std::nullopt;
}

std::vector<Argv> LinuxDriver::FirewallProbe() const {
  return {{"nft", "list", "table", "inet", "vpcctl"}};
}

void LinuxDriver::AddNodeSetup(plan::Desired& d, const NodeEnv& env) const {
  if (d.wireguard) d.wireguard->key_file = WgKeyPath(env);
  // wireguard-go stays in the foreground (-f): vpcctl detaches it and keeps its pid file.
  plan::DesiredDaemon wg;
  wg.name = "wireguard-go";
  wg.pidfile = env.state_dir + "/wireguard-go.pid";
  wg.start = {"wireguard-go", "-f", std::string(model::kWgInterface)};
  wg.reload_on_hup = false;
  wg.detach = true;
  wg.log = env.state_dir + "/wireguard-go.log";
  wg.ready = "/var/run/wireguard/" + std::string(model::kWgInterface) + ".sock";
  // A socket left by a wireguard-go that died would pass for the new one's before it is ready.
  wg.stale = {wg.pidfile, wg.ready};
  // wireguard-go writes each decrypted packet to its tun and the kernel would process it (VXLAN,
  // bridge, guest) inside that write: spread it over the CPUs instead (measured: +20%).
  wg.spread_interface = std::string(model::kWgInterface);
  wg.program = "wireguard-go";
  wg.marks = {std::string(model::kWgInterface)};
  d.wireguard_go = wg;
  d.firewall = FirewallPaths(env);
  d.firewall.rules = RenderNftables(d);
  d.firewall.tool = "nft";
  d.firewall.package = "the nftables package";
  AddVipSetup(d, env);
  d.daemons.push_back(AgentDaemon(d, env));
}

void LinuxDriver::AddVipSetup(plan::Desired& d, const NodeEnv& env) const {
  // keepalived carried VIPs before vipd: its configuration goes and a running one is stopped.
  d.files.push_back(plan::DesiredFile{env.state_dir + "/keepalived.conf", "", 0600, {}, {}});
  plan::DesiredDaemon k;
  k.name = "keepalived";
  k.pidfile = env.state_dir + "/keepalived.pid";
  k.config = env.state_dir + "/keepalived.conf";
  k.stale = {k.pidfile, env.state_dir + "/keepalived-vrrp.pid"};
  k.program = "keepalived";
  k.marks = {k.config};
  d.daemons.push_back(k);
  d.files.push_back(VipdConfigFile(d, env));
  d.daemons.push_back(VipdDaemon(d, env));
}

// `ip -d addr` lists every link with its details (vxlan settings, bridge port flags) and its
// addresses: one process instead of three (`ip -d link`, `ip addr`, `bridge -d link`).
Argv LinuxLinkProbe() { return {"ip", "-j", "-d", "addr", "show"}; }

std::vector<Argv> LinuxDriver::ProbeCommands() const { return {LinuxLinkProbe()}; }

Argv LinuxDriver::NamespaceProbe() const { return {"ip", "-j", "netns", "list"}; }

Status CheckBatchTokens(const Argv& argv) {
  for (const auto& token : argv) {
    std::string why = token.empty() ? "it is empty" : "";
    for (char c : token) {
      if (!why.empty()) break;
      if (c < 0x21 || c > 0x7e) {
        why = "it contains a blank, control or non-ASCII character";
      } else if (c == '#' || c == '\'' || c == '"' || c == '\\') {
        why = "it contains " + Quoted(std::string_view(&c, 1));
      }
    }
    if (!why.empty()) {
      return Failure("refusing to put " + Quoted(Join(argv, " ")) + " into an iproute2 batch: " +
                     "the token " + Quoted(token) + " cannot be written there exactly (" + why +
                     ")");
    }
  }
  return {};
}

Result<std::vector<Invocation>> LinuxDriver::Batch(const std::vector<Argv>& all) const {
  std::vector<Argv> commands = MergeWgPeerCommands(all);
  std::vector<Invocation> out;
  for (size_t i = 0; i < commands.size();) {
    const std::string& prog = commands[i][0];
    // Batch lines take no global options (`ip -n NS ...` runs on its own).
    auto batchable = [&](const Argv& c) {
      return c[0] == prog && c.size() > 1 && !StartsWith(c[1], "-");
    };
    size_t j = i;
    while (j < commands.size() && batchable(commands[j])) ++j;
    if (j == i) {
      out.push_back(Invocation{commands[i], ""});
      ++i;
      continue;
    }
    if ((prog == "ip" || prog == "bridge") && j - i > 1) {
      Invocation inv{{prog, "-batch", "-"}, ""};
      for (size_t k = i; k < j; ++k) {
        VPC_TRY(CheckBatchTokens(commands[k]));
        inv.input += Join(Argv(commands[k].begin() + 1, commands[k].end()), " ") + "\n";
      }
      out.push_back(std::move(inv));
    } else {
      for (size_t k = i; k < j; ++k) out.push_back(Invocation{commands[k], ""});
    }
    i = j;
  }
  return out;
}

namespace {

Result<json> ParseArray(std::string_view text, const char* what) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_array()) {
    return Failure(std::string("cannot parse the output of `") + what + "`: not a JSON array");
  }
  return j;
}

std::string Str(const json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int Int(const json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_number_integer() ? it->get<int>() : 0;
}

std::optional<net::IpAddress> Addr(const json& o, const char* v4, const char* v6) {
  for (const char* k : {v4, v6}) {
    std::string s = Str(o, k);
    if (s.empty()) continue;
    auto a = net::IpAddress::Parse(s);
    if (a) return *a;
  }
  return std::nullopt;
}

// The addresses of one `ip -j addr` entry (its addr_info).
std::vector<net::IfAddress> AddrInfo(const json& e) {
  std::vector<net::IfAddress> out;
  auto ai = e.find("addr_info");
  if (ai == e.end() || !ai->is_array()) return out;
  for (const auto& a : *ai) {
    if (!a.is_object()) continue;
    auto ip = net::IpAddress::Parse(Str(a, "local"));
    int len = Int(a, "prefixlen");
    if (ip && len >= 0 && len <= ip->bits()) out.push_back(net::IfAddress{*ip, len});
  }
  return out;
}

}  // namespace

Result<std::vector<plan::ObservedInterface>> ParseIpLink(std::string_view text) {
  VPC_ASSIGN_OR_RETURN(json j, ParseArray(text, "ip -j -d link show"));
  std::vector<plan::ObservedInterface> out;
  for (const auto& e : j) {
    if (!e.is_object()) continue;
    plan::ObservedInterface o;
    o.name = Str(e, "ifname");
    if (o.name.empty()) continue;
    o.ifindex = Int(e, "ifindex");
    o.mtu = Int(e, "mtu");
    o.owner = Str(e, "ifalias");
    o.master = Str(e, "master");
    if (auto mac = net::MacAddress::Parse(Str(e, "address")); mac) o.mac = *mac;
    if (auto f = e.find("flags"); f != e.end() && f->is_array()) {
      for (const auto& flag : *f)
        if (flag.is_string() && flag.get<std::string>() == "UP") o.up = true;
    }
    if (auto li = e.find("linkinfo"); li != e.end() && li->is_object()) {
      std::string kind = Str(*li, "info_kind");
      auto data = li->find("info_data");
      if (kind == "vxlan") {
        o.kind = plan::IfKind::kVxlan;
        if (data != li->end() && data->is_object()) {
          if (auto id = data->find("id"); id != data->end() && id->is_number_unsigned())
            o.vni = id->get<uint32_t>();
          o.local = Addr(*data, "local", "local6");
          o.remote = Addr(*data, "remote", "remote6");
          o.port = Int(*data, "port");
          if (auto l = data->find("learning"); l != data->end() && l->is_boolean())
            o.learning = l->get<bool>();
        }
      } else if (kind == "bridge") {
        o.kind = plan::IfKind::kBridge;
      } else if (kind == "wireguard") {
        o.kind = plan::IfKind::kWireguard;
      } else if (kind == "tun" && o.name == model::kWgInterface) {
        o.kind = plan::IfKind::kWireguard;  // wireguard-go's
        o.userspace = true;
      }
      if (Str(*li, "info_slave_kind") == "bridge") {
        auto sd = li->find("info_slave_data");
        if (sd != li->end() && sd->is_object()) {
          auto iso = sd->find("isolated");
          o.isolated = iso != sd->end() && iso->is_boolean() && iso->get<bool>();
        }
      }
    }
    o.addresses = AddrInfo(e);  // present in `ip -d addr show`
    out.push_back(std::move(o));
  }
  return out;
}

Result<std::map<std::string, std::vector<net::IfAddress>>> ParseIpAddr(std::string_view text) {
  VPC_ASSIGN_OR_RETURN(json j, ParseArray(text, "ip -j addr show"));
  std::map<std::string, std::vector<net::IfAddress>> out;
  for (const auto& e : j) {
    if (!e.is_object()) continue;
    std::string name = Str(e, "ifname");
    if (name.empty()) continue;
    out[name] = AddrInfo(e);
  }
  return out;
}

Result<std::map<std::string, BridgePort>> ParseBridgeLink(std::string_view text) {
  VPC_ASSIGN_OR_RETURN(json j, ParseArray(text, "bridge -j -d link show"));
  std::map<std::string, BridgePort> out;
  for (const auto& e : j) {
    if (!e.is_object()) continue;
    std::string name = Str(e, "ifname");
    if (name.empty()) continue;
    BridgePort p;
    p.master = Str(e, "master");
    auto iso = e.find("isolated");
    p.isolated = iso != e.end() && iso->is_boolean() && iso->get<bool>();
    out[name] = p;
  }
  return out;
}

Result<std::set<std::string>> ParseNetnsList(std::string_view text) {
  std::set<std::string> out;
  if (Trim(text).empty()) return out;
  VPC_ASSIGN_OR_RETURN(json j, ParseArray(text, "ip -j netns list"));
  for (const auto& e : j)
    if (e.is_object() && !Str(e, "name").empty()) out.insert(Str(e, "name"));
  return out;
}

Argv LinuxNeighbourProbe() { return {"ip", "-j", "neigh", "show", "nud", "permanent"}; }

Result<std::vector<plan::ObservedNeighbour>> ParseIpNeigh(std::string_view text) {
  VPC_ASSIGN_OR_RETURN(json j, ParseArray(text, "ip -j neigh show nud permanent"));
  std::vector<plan::ObservedNeighbour> out;
  for (const auto& e : j) {
    if (!e.is_object()) continue;
    auto a = net::IpAddress::Parse(Str(e, "dst"));
    std::string dev = Str(e, "dev");
    if (!a || dev.empty()) continue;
    plan::ObservedNeighbour n{dev, *a, std::nullopt};
    if (auto mac = net::MacAddress::Parse(Str(e, "lladdr")); mac) n.mac = *mac;
    out.push_back(std::move(n));
  }
  return out;
}

Result<plan::Observed> LinuxDriver::ParseProbe(const std::vector<std::string>& outputs) const {
  if (outputs.size() == 1 || outputs.size() == 2) {  // ip -j -d addr show (, ip -j netns list)
    VPC_ASSIGN_OR_RETURN(auto links, ParseIpLink(outputs[0]));
    plan::Observed obs;
    obs.interfaces = std::move(links);
    if (outputs.size() == 2) {
      VPC_ASSIGN_OR_RETURN(obs.netns, ParseNetnsList(outputs[1]));
    }
    return obs;
  }
  // The older form: ip -d link, ip addr, bridge -d link (and ip netns list).
  if (outputs.size() != 3 && outputs.size() != 4) return Failure("linux probe: expected 1 output");
  VPC_ASSIGN_OR_RETURN(auto links, ParseIpLink(outputs[0]));
  VPC_ASSIGN_OR_RETURN(auto addrs, ParseIpAddr(outputs[1]));
  VPC_ASSIGN_OR_RETURN(auto ports, ParseBridgeLink(outputs[2]));
  plan::Observed obs;
  for (auto& l : links) {
    if (auto it = addrs.find(l.name); it != addrs.end()) l.addresses = it->second;
    if (auto it = ports.find(l.name); it != ports.end()) {
      if (l.master.empty()) l.master = it->second.master;
      l.isolated = l.isolated || it->second.isolated;
    }
    obs.interfaces.push_back(std::move(l));
  }
  if (outputs.size() == 4) {
    VPC_ASSIGN_OR_RETURN(obs.netns, ParseNetnsList(outputs[3]));
  }
  return obs;
}

}  // namespace vpcctl::platform
