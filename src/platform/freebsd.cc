#include "vpcctl/platform/freebsd.h"

#include <algorithm>
#include <map>

#include "vpcctl/base/text.h"

namespace vpcctl::platform {

using plan::Action;

uint32_t FreeBsdBridgeUnit(uint32_t vpc_id) { return 10000 + vpc_id; }

namespace {

std::string CloneName(const plan::DesiredTunnel& t) { return "vxlan" + std::to_string(t.vni); }

// The address family word and the address with its prefix, for ifconfig.
Argv AddressWords(const net::IfAddress& a) {
  return {a.address.is_v4() ? "inet" : "inet6", a.ToString()};
}

// Create-time parameters of a tunnel; learning off: one remote per tunnel, never learned.
Argv VxlanCreateArgs(const plan::DesiredTunnel& t) {
  std::string port = std::to_string(t.port);
  return {"vxlanid",        std::to_string(t.vni), "vxlanlocal",      t.local.ToString(),
          "vxlanremote",    t.remote.ToString(),   "vxlanlocalport",  port,
          "vxlanremoteport", port,                 "-vxlanlearn"};
}

std::string WgClone() { return "wg" + std::to_string(kFreeBsdWgUnit); }

void Append(Argv& to, const Argv& more) { to.insert(to.end(), more.begin(), more.end()); }

}  // namespace

// ifconfig words that put a CARP VIP on an interface: vhid first among the CARP words. A new vhid
// starts as BACKUP by itself (`state` is not applied to a vhid that has no address yet), with the
// skew that prefers no node; vipd makes the lease holder MASTER (CarpStateCommand).
Argv CarpWords(const plan::DesiredVip& v) {
  return {v.address.is_v4() ? "inet" : "inet6",
          "vhid",
          std::to_string(v.vhid),
          "advbase",
          std::to_string(v.advert_ms / 1000),
          "advskew",
          std::to_string(plan::kCarpBackupSkew),
          "pass",
          v.secret,
          "alias",
          v.address.ToString() + "/" + std::to_string(v.address.bits())};
}

Argv CarpStateCommand(const std::string& bridge, int vhid, bool master) {
  // Without an address family word ifconfig takes inet, which carries the vhid for either
  // family: the state belongs to the vhid, not to an address.
  int skew = master ? plan::kCarpHolderSkew : plan::kCarpBackupSkew;
  return {"ifconfig", bridge, "vhid", std::to_string(vhid), "advskew", std::to_string(skew),
          "state", master ? "master" : "backup"};
}

// Over 80 lines on purpose: FreeBSD's command for each action, one case each in one switch, read
// against ifconfig(8) and rc.conf(5) as a table (tests/golden holds the output, and
// check-freebsd-cmds.py lints it). Helpers already take the multi-command cases.
std::vector<Argv> FreeBsdDriver::Render(const plan::Step& s) const {
  if (auto common = RenderCommon(s)) return *common;
  const std::string& i = s.ifname;
  std::string tag = plan::OwnerTag(s.vpc);
  switch (s.action) {
    case Action::kDestroy:
      return {{"ifconfig", i, "destroy"}};
    case Action::kCreateTunnel: {
      // All vxlan parameters right after `create` (13 drops them after a rename), then rename.
      std::string clone = CloneName(s.tunnel);
      Argv create = {"ifconfig", clone, "create"};
      Append(create, VxlanCreateArgs(s.tunnel));
      Append(create, {"mtu", std::to_string(s.mtu), "description", tag});
      return {create, {"ifconfig", clone, "name", i}};
    }
    case Action::kCreateBridge: {
      std::string clone = "bridge" + std::to_string(FreeBsdBridgeUnit(s.vpc_id));
      return {{"ifconfig", clone, "create", "mtu", std::to_string(s.mtu), "description", tag},
              {"ifconfig", clone, "name", i}};
    }
    case Action::kSetOwner:
      return {{"ifconfig", i, "description", tag}};
    // The address family word (ether) must follow the interface name directly.
    case Action::kSetMac:
      return {{"ifconfig", i, "ether", s.mac.ToString()}};
    case Action::kSetMtu:
      return {{"ifconfig", i, "mtu", std::to_string(s.mtu)}};
    case Action::kAddMember: {
      std::vector<Argv> out;
      if (!s.from_bridge.empty()) out.push_back({"ifconfig", s.from_bridge, "deletem", i});
      out.push_back({"ifconfig", s.bridge, "addm", i, "private", i});
      return out;
    }
    case Action::kSetIsolated:
      return {{"ifconfig", s.bridge, "private", i}};
    case Action::kAddAddress: {
      Argv a = {"ifconfig", i};
      Append(a, AddressWords(s.address));
      a.push_back("alias");
      return {a};
    }
    case Action::kRemoveAddress: {
      Argv a = {"ifconfig", i};
      Append(a, AddressWords(s.address));
      a.push_back("-alias");
      return {a};
    }
    case Action::kUp:
      return {{"ifconfig", i, "up"}};
    case Action::kAddVip: {
      Argv carp = {"ifconfig", i};
      Append(carp, CarpWords(s.vip));
      // Preemption is vipd's (per VIP): CARP's host-wide net.inet.carp.preempt is left alone; with
      // equal skews on every backup it changes nothing.
      return {{"kldload", "-n", "carp"}, carp};
    }
    case Action::kRemoveVip:
      return {{"ifconfig", i, s.address.address.is_v4() ? "inet" : "inet6",
               s.address.address.ToString(), "-alias"}};
    case Action::kAttachGuest: {
      const model::Attachment& a = s.guest;
      std::string mtu = std::to_string(s.mtu);
      std::vector<Argv> out;
      if (a.kind == model::GuestKind::kJail) {
        // epairNa stays on the host, on the bridge; epairNb moves into the jail.
        std::string pair = a.ifname.substr(0, a.ifname.size() - 1);
        out.push_back({"ifconfig", pair, "create"});
        out.push_back({"ifconfig", a.ifname, "mtu", mtu, "description", model::GuestTag(a), "up"});
        out.push_back({"ifconfig", a.inside, "mtu", mtu});
        // The address family word (ether) must follow the interface name directly.
        if (a.mac) out.push_back({"ifconfig", a.inside, "ether", a.mac->ToString()});
        out.push_back({"ifconfig", a.vpc, "addm", a.ifname});
        out.push_back({"ifconfig", a.inside, "vnet", a.guest});
        Argv up = {"jexec", a.guest, "ifconfig", a.inside};
        if (a.address) Append(up, AddressWords(*a.address));
        up.push_back("up");
        out.push_back(up);
        return out;
      }
      // A VM's MAC belongs to its NIC (bhyve virtio-net,tapN,mac=...), not to the host's tap.
      out.push_back({"ifconfig", a.ifname, "create", "mtu", mtu, "description", model::GuestTag(a),
                     "up"});
      out.push_back({"ifconfig", a.vpc, "addm", a.ifname});
      return out;
    }
    case Action::kDetachGuest:
      return {{"ifconfig", i, "destroy"}};
    case Action::kRejoinGuest:
      return {{"ifconfig", s.guest.vpc, "addm", i}};
    case Action::kCreateWireguard:
      // if_wg is in base since 13.2; keys and peers are wg(8)'s (wireguard-tools).
      return {{"kldload", "-n", "if_wg"},
              {"ifconfig", WgClone(), "create", "mtu", std::to_string(s.mtu), "description", tag},
              {"ifconfig", WgClone(), "name", i}};
    case Action::kLoadFirewall:
      return {{"kldload", "-n", "pf"}, {"pfctl", "-a", kPfAnchor, "-f", s.firewall.rules_path}};
    case Action::kRemoveFirewall:
      return {{"pfctl", "-a", kPfAnchor, "-F", "all"}};
    default:
      break;
  }
  return {};
}

namespace {

// True when this node is a candidate of a VIP of the VPC (it carries a CARP address); a member
// that is an acceptor only takes part in the lease and nothing more.
bool CarriesVips(const plan::DesiredVpc& v) {
  for (const auto& vip : v.vips)
    if (vip.rank >= 0) return true;
  return false;
}

// True when the node takes part in a VIP's lease: as a candidate, an acceptor only or a witness.
bool TakesPartInLeases(const plan::Desired& d) {
  for (const auto& v : d.vpcs)
    if (!v.vips.empty()) return true;
  return !d.witness_vips.empty();
}

}  // namespace

std::string RenderDevdConf(const plan::Desired& d, const NodeEnv& env) {
  std::vector<std::string> bridges;
  for (const auto& v : d.vpcs)
    if (CarriesVips(v)) bridges.push_back(v.vpc);
  if (bridges.empty()) return {};
  return "# Generated by vpcctl: CARP state changes on VPC bridges go to `vpcctl vip-event`, which\n"
         "# hands them to vipd: CARP's own changes are put back where the lease says.\n"
         "notify 0 {\n"
         "\tmatch \"system\"\t\t\"CARP\";\n"
         "\tmatch \"subsystem\"\t\"[0-9]+@(" + Join(bridges, "|") + ")\";\n"
         "\tmatch \"type\"\t\t\"(MASTER|BACKUP|INIT)\";\n"
         "\taction \"" + env.vpcctl + " --state-dir " + env.state_dir +
         " vip-event carp $subsystem $type\";\n};\n";
}

namespace {

std::string List(const std::vector<std::string>& items) {
  return "{ " + Join(items, " ") + " }";
}

void AddUnique(std::vector<std::string>& to, const std::string& item) {
  if (std::find(to.begin(), to.end(), item) == to.end()) to.push_back(item);
}

}  // namespace

std::string RenderPfAnchor(const plan::Desired& d) {
  if (d.vpcs.empty() && d.witness_vips.empty()) return {};
  std::vector<std::string> plain, transport, nodes, overlay, rules;
  // One local socket per (local address, port): the encrypted ones on the transport address.
  std::vector<std::pair<std::string, int>> plain_sockets, wg_sockets;
  for (const auto& v : d.vpcs) {
    for (const auto& t : v.tunnels) {
      auto socket = std::make_pair(t.local.ToString(), t.port);
      if (t.encrypted) {
        AddUnique(transport, t.remote.ToString());
        if (std::find(wg_sockets.begin(), wg_sockets.end(), socket) == wg_sockets.end())
          wg_sockets.push_back(socket);
      } else {
        AddUnique(plain, t.remote.ToString());
        if (std::find(plain_sockets.begin(), plain_sockets.end(), socket) == plain_sockets.end())
          plain_sockets.push_back(socket);
      }
    }
  }
  std::string wg(model::kWgInterface);
  if (!wg_sockets.empty()) {
    rules.push_back("# VXLAN of encrypted VPCs: only through WireGuard, from the peers' transport "
                    "addresses");
  }
  for (const auto& [addr, port] : wg_sockets) {
    std::string to = " to " + addr + " port " + std::to_string(port);
    rules.push_back("block drop in quick on ! " + wg + " proto udp" + to);
    rules.push_back("block drop in quick on " + wg + " proto udp from ! <vpcctl_transport>" + to);
  }
  if (!plain_sockets.empty()) {
    rules.push_back("# VXLAN of plain VPCs: only from the members' underlay addresses");
  }
  for (const auto& [addr, port] : plain_sockets) {
    rules.push_back("block drop in quick proto udp from ! <vpcctl_plain> to " + addr + " port " +
                    std::to_string(port));
  }
  bool vipd = TakesPartInLeases(d);
  if (d.wireguard || vipd) {
    for (const auto& a : d.fabric_underlays) AddUnique(nodes, a.ToString());
  }
  if (d.wireguard) {
    rules.push_back("# WireGuard: only from the fabric's nodes");
    rules.push_back("block drop in quick proto udp from ! <vpcctl_nodes> to any port " +
                    std::to_string(d.wireguard->port));
  }
  if (!d.vpcs.empty()) {
    rules.push_back("# VIP election (CARP) claiming a VPC's addresses: only on that VPC's bridge");
  }
  for (const auto& v : d.vpcs) {
    rules.push_back("block drop in quick on ! " + v.vpc + " proto carp from " +
                    v.address.Network().ToString());
  }
  if (vipd) {
    // A negated list (`on ! { a b }`) would expand to one rule per item, each blocking what the
    // others allow: a table and one rule per bridge instead.
    std::string port = " port " + std::to_string(model::kVipdPort);
    rules.push_back("# VIP leases (vipd): to a VPC's addresses only on its bridge, to any other "
                    "address only from the fabric's nodes");
    for (const auto& v : d.vpcs) {
      std::string net = v.address.Network().ToString();
      AddUnique(overlay, net);
      rules.push_back("block drop in quick on ! " + v.vpc + " proto udp to " + net + port);
    }
    rules.push_back("block drop in quick proto udp from ! <vpcctl_nodes> to " +
                    std::string(overlay.empty() ? "any" : "! <vpcctl_overlay>") + port);
  }
  std::string out = "# Generated by vpcctl for node " + d.node + ": the underlay firewall of its "
                    "VPCs, for pf's anchor \"" + std::string(kPfAnchor) + "\".\n"
                    "# pf.conf must evaluate it (anchor \"" + std::string(kPfAnchor) +
                    "\") and pf must be enabled (pf_enable=\"YES\").\n";
  // Only the tables a rule uses (pf drops unreferenced ones).
  if (!plain.empty()) out += "table <vpcctl_plain> const " + List(plain) + "\n";
  if (!transport.empty()) out += "table <vpcctl_transport> const " + List(transport) + "\n";
  if (!nodes.empty()) out += "table <vpcctl_nodes> const " + List(nodes) + "\n";
  if (!overlay.empty()) out += "table <vpcctl_overlay> const " + List(overlay) + "\n";
  for (const auto& r : rules) out += r + "\n";
  return out;
}

// route(8): `route -n get -inet ADDR` prints the route's fields, one per line, among them
// "  interface: vtnet0"; the source is that interface's first address in the family.
Argv FreeBsdDriver::RouteProbe(const net::IpAddress& to) const {
  return {"route", "-n", "get", to.is_v4() ? "-inet" : "-inet6", to.ToString()};
}

std::optional<net::IpAddress> FreeBsdDriver::ParseRouteSource(std::string_view output,
                                                              const plan::Observed& observed,
                                                              net::Family family) const {
  for (const auto& line : Split(std::string(output), '\n')) {
    std::string_view l = Trim(line);
    if (!StartsWith(l, "interface:")) continue;
    const auto* iface = observed.Find(Trim(l.substr(10)));
    if (!iface) return std::nullopt;
    for (const auto& a : iface->addresses) {
      if (a.address.family() == family && !a.address.IsLinkLocal()) return a.address;
    }
  }
  return std::nullopt;
}

std::vector<Argv> FreeBsdDriver::FirewallProbe() const {
  std::vector<Argv> out = {{"pfctl", "-a", kPfAnchor, "-s", "rules"}};
  for (const char* table : {"vpcctl_plain", "vpcctl_transport", "vpcctl_nodes", "vpcctl_overlay"}) {
    out.push_back({"pfctl", "-a", kPfAnchor, "-t", table, "-T", "show"});
  }
  return out;
}

void FreeBsdDriver::AddNodeSetup(plan::Desired& d, const NodeEnv& env) const {
  if (d.wireguard) d.wireguard->key_file = WgKeyPath(env);
  d.firewall = FirewallPaths(env);
  d.firewall.rules = RenderPfAnchor(d);
  d.firewall.tool = "pfctl";
  d.firewall.package = "pf (in base: kldload pf)";
  AddVipSetup(d, env);
}

std::string DevdConfPath(std::string_view vpcctl) {
  // PREFIX/sbin/vpcctl -> PREFIX, whose configuration lives in PREFIX/etc (in /etc for /usr).
  std::string_view prefix = vpcctl;
  for (int up = 0; up < 2; ++up) {
    size_t slash = prefix.rfind('/');
    prefix = prefix.substr(0, slash == std::string_view::npos ? 0 : slash);
  }
  std::string etc = prefix == "/usr" ? "/etc" : std::string(prefix) + "/etc";
  return etc + "/devd/vpcctl.conf";
}

std::string VipdSupervisorPidfile(std::string_view state_dir) {
  return std::string(state_dir) + "/vipd-daemon.pid";
}

Argv SupervisedVipd(const Argv& vipd, const std::string& pidfile, std::string_view state_dir) {
  // -f: daemon(8) leaves apply's output pipes at once; -r: vipd restarted a second after it dies;
  // -S -T: its output to syslog, tagged.
  Argv out = {"daemon", "-f", "-r", "-S", "-T", "vpcctl-vipd", "-P", VipdSupervisorPidfile(state_dir),
              "-p", pidfile};
  Append(out, vipd);
  return out;
}

void FreeBsdDriver::AddVipSetup(plan::Desired& d, const NodeEnv& env) const {
  d.kernel_vips = true;
  std::string devd = RenderDevdConf(d, env);
  d.files.push_back(
      plan::DesiredFile{DevdConfPath(env.vpcctl), devd, 0644, {"service", "devd", "restart"}, {}});
  d.files.push_back(VipdConfigFile(d, env));
  plan::DesiredDaemon v = VipdDaemon(d, env);
  if (!v.start.empty()) v.start = SupervisedVipd(v.start, v.pidfile, env.state_dir);
  // daemon(8) detaches it, writes both pid files and sends its output to syslog. No stale files:
  // daemon(8) locks its pid files while it runs (a second one, started while the first waits to
  // restart vipd, refuses to run) and reuses them once unlocked; vipd replaces its own socket.
  v.detach = false;
  v.log.clear();
  v.ready.clear();
  v.stale.clear();
  d.daemons.push_back(v);
  // vip-watch (the CARP demotion loop of vpcctl before the lease) is stopped where it still runs.
  plan::DesiredDaemon w;
  w.name = "vip-watch";
  w.pidfile = env.state_dir + "/vip-watch.pid";
  w.reload_on_hup = false;
  w.stale = {w.pidfile};
  w.program = env.vpcctl.substr(env.vpcctl.rfind('/') + 1);
  w.marks = {env.state_dir, "vip-watch"};
  d.daemons.push_back(w);
}

// -v adds each vxlan interface's learning setting.
std::vector<Argv> FreeBsdDriver::ProbeCommands() const { return {{"ifconfig", "-a", "-v"}}; }

Result<plan::Observed> FreeBsdDriver::ParseProbe(const std::vector<std::string>& outputs) const {
  if (outputs.size() != 1) return Failure("freebsd probe: expected 1 output");
  return ParseIfconfig(outputs[0]);
}

namespace {

int PrefixFromNetmask(std::string_view hex) {
  if (!StartsWith(hex, "0x")) return -1;
  uint64_t v = 0;
  if (hex.size() < 3 || hex.size() > 10) return -1;
  for (char c : hex.substr(2)) {
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= static_cast<uint64_t>(c - '0');
    else if (c >= 'a' && c <= 'f')
      v |= static_cast<uint64_t>(c - 'a' + 10);
    else
      return -1;
  }
  int n = 0;
  for (int bit = 31; bit >= 0 && (v >> bit & 1); --bit) ++n;
  return n;
}

std::vector<std::string> Words(std::string_view line) {
  std::vector<std::string> out;
  for (auto& w : Split(Trim(line), ' '))
    if (!w.empty()) out.push_back(w);
  return out;
}

}  // namespace

// Over 80 lines on purpose: one pass over `ifconfig -a` output, a line at a time, the state (the
// interface being read) carried from line to line; each kind of line is a case of one loop, as
// in ifconfig's own printing (sbin/ifconfig), which tests/fixtures/freebsd follows.
Result<plan::Observed> ParseIfconfig(std::string_view text) {
  plan::Observed obs;
  struct Membership {
    std::string bridge;
    bool isolated;
  };
  std::map<std::string, Membership> members;
  plan::ObservedInterface* cur = nullptr;
  int index = 0;
  for (const std::string& raw : Split(text, '\n')) {
    if (raw.empty()) continue;
    if (raw[0] != '\t' && raw[0] != ' ') {
      size_t colon = raw.find(": flags=");
      if (colon == std::string::npos || colon == 0) {
        return Failure("cannot parse `ifconfig -a` output: unexpected line " + Quoted(raw));
      }
      plan::ObservedInterface o;
      o.name = raw.substr(0, colon);
      o.ifindex = ++index;  // order of appearance; ifconfig does not print the index
      size_t lt = raw.find('<', colon), gt = raw.find('>', colon);
      if (lt != std::string::npos && gt != std::string::npos && gt > lt) {
        for (const auto& f : Split(raw.substr(lt + 1, gt - lt - 1), ','))
          if (f == "UP") o.up = true;
      }
      size_t mtu = raw.find(" mtu ", colon);
      if (mtu != std::string::npos) {
        auto v = ParseUint(Trim(raw.substr(mtu + 5)), 1u << 20);
        if (v) o.mtu = static_cast<int>(*v);
      }
      obs.interfaces.push_back(std::move(o));
      cur = &obs.interfaces.back();
      continue;
    }
    if (!cur) return Failure("cannot parse `ifconfig -a` output: data before the first interface");
    std::string_view line = Trim(raw);
    auto w = Words(line);
    if (w.empty()) continue;
    if (StartsWith(line, "description: ")) {
      cur->owner = std::string(line.substr(13));
    } else if (w[0] == "ether" && w.size() >= 2) {
      if (auto mac = net::MacAddress::Parse(w[1]); mac) cur->mac = *mac;
    } else if ((w[0] == "inet" && w.size() >= 4 && w[2] == "netmask") ||
               (w[0] == "inet6" && w.size() >= 4 && w[2] == "prefixlen")) {
      auto a = net::IpAddress::Parse(w[1].substr(0, w[1].find('%')));
      int len = w[0] == "inet" ? PrefixFromNetmask(w[3])
                               : static_cast<int>(ParseUint(w[3], 128).value_or(999));
      if (!a || len < 0 || len > a->bits()) continue;
      auto vhid = std::find(w.begin(), w.end(), "vhid");
      if (vhid != w.end()) {  // a CARP address: the VIP machinery's, not the node's own
        if (vhid + 1 != w.end()) {
          if (auto n = ParseUint(*(vhid + 1), 255)) {
            cur->vips.push_back(plan::ObservedVip{*a, static_cast<int>(*n), 0, -1, ""});
          }
        }
        continue;
      }
      cur->addresses.push_back(net::IfAddress{*a, len});
    } else if (w[0] == "carp:" && w.size() >= 8 && w[2] == "vhid") {
      // "carp: MASTER vhid 20 advbase 1 advskew 100"
      auto vhid = ParseUint(w[3], 255);
      auto base = ParseUint(w[5], 255);
      auto skew = ParseUint(w[7], 255);
      for (auto& v : cur->vips) {
        if (vhid && v.vhid == static_cast<int>(*vhid)) {
          v.state = w[1];
          v.advbase = base ? static_cast<int>(*base) : 0;
          v.advskew = skew ? static_cast<int>(*skew) : -1;
        }
      }
    } else if (w[0] == "vxlan" && w.size() >= 7 && w[1] == "vni") {
      cur->kind = plan::IfKind::kVxlan;
      auto vni = ParseUint(w[2], model::kMaxVni);
      if (vni) cur->vni = static_cast<uint32_t>(*vni);
      for (size_t k = 3; k + 1 < w.size(); k += 2) {
        net::IpAddress a;
        int port = 0;
        if (!net::ParseEndpoint(w[k + 1], &a, &port)) continue;
        if (w[k] == "local") {
          cur->local = a;
          cur->port = port;  // local and remote ports are equal for tunnels we create
        } else if (w[k] == "remote" || w[k] == "group") {
          cur->remote = a;
        }
      }
    } else if (w[0] == "config:" && w.size() >= 2 && cur->kind == plan::IfKind::kVxlan) {
      // ifconfig -v: "config: learning portrange 0-0 ttl 64" / "config: nolearning ..."
      if (w[1] == "learning") cur->learning = true;
      if (w[1] == "nolearning") cur->learning = false;
    } else if (w[0] == "groups:") {
      for (size_t k = 1; k < w.size(); ++k) {
        if (w[k] == "bridge") cur->kind = plan::IfKind::kBridge;
        if (w[k] == "vxlan" && cur->kind == plan::IfKind::kOther) cur->kind = plan::IfKind::kVxlan;
        if (w[k] == "wg") cur->kind = plan::IfKind::kWireguard;
      }
    } else if (w[0] == "id" && w.size() >= 4 && w[2] == "priority") {
      cur->kind = plan::IfKind::kBridge;
    } else if (w[0] == "member:" && w.size() >= 3) {
      bool isolated = w[2].find("PRIVATE") != std::string::npos;
      members[w[1]] = Membership{cur->name, isolated};
    }
  }
  for (auto& o : obs.interfaces) {
    if (auto it = members.find(o.name); it != members.end()) {
      o.master = it->second.bridge;
      o.isolated = it->second.isolated;
    }
  }
  return obs;
}

std::string RenderRcConf(const plan::Desired& d, bool show_secrets) {
  std::string out;
  out += "# rc.conf lines from vpcctl for node " + d.node + ": ";
  std::vector<std::string> names;
  for (const auto& v : d.vpcs) names.push_back(v.vpc);
  out += names.empty() ? std::string("no VPCs") : "VPC " + Join(names, ", ");
  out += ".\n# Append to /etc/rc.conf (or /etc/rc.conf.d/netif); they recreate the interfaces at "
         "boot.\n";
  if (d.vpcs.empty()) return out;
  std::vector<std::string> clones;
  // WireGuard first: the encrypted tunnels' sockets bind to its transport address.
  if (d.wireguard) clones.push_back(WgClone());
  for (const auto& v : d.vpcs) {
    for (const auto& t : v.tunnels) clones.push_back(CloneName(t));
    clones.push_back("bridge" + std::to_string(FreeBsdBridgeUnit(v.vpc_id)));
  }
  out += "cloned_interfaces=\"${cloned_interfaces} " + Join(clones, " ") + "\"\n";
  if (d.wireguard) {
    const auto& w = *d.wireguard;
    std::string wg(model::kWgInterface);
    std::string var = "ifconfig_wg_vpcctl";  // network.subr maps '-' to '_'
    out += "# WireGuard for the encrypted VPCs (if_wg; kld_list=\"if_wg\" loads it early). Its key "
           "and peers\n# are not rc.conf settings: the vpcctl rc.d script sets them with wg(8).\n";
    out += "ifconfig_" + WgClone() + "_name=\"" + wg + "\"\n";
    std::string cfg = w.address.address.is_v4() ? "inet " + w.address.ToString() + " " : "";
    cfg += "mtu " + std::to_string(w.mtu) + " description " + plan::OwnerTag(plan::kWgOwner) + " up";
    out += var + "=\"" + cfg + "\"\n";
    if (w.address.address.is_v6()) out += var + "_ipv6=\"inet6 " + w.address.ToString() + "\"\n";
  }
  for (const auto& v : d.vpcs) {
    std::string tag = plan::OwnerTag(v.vpc);
    std::string mtu = std::to_string(v.mtu);
    out += "# VPC " + v.vpc + "\n";
    for (const auto& t : v.tunnels) {
      std::string clone = CloneName(t);
      out += "create_args_" + clone + "=\"" + Join(VxlanCreateArgs(t), " ") + "\"\n";
      out += "ifconfig_" + clone + "_name=\"" + t.ifname + "\"\n";
      out += "ifconfig_" + t.ifname + "=\"mtu " + mtu + " description " + tag + " up\"\n";
    }
    std::string bridge_clone = "bridge" + std::to_string(FreeBsdBridgeUnit(v.vpc_id));
    out += "ifconfig_" + bridge_clone + "_name=\"" + v.vpc + "\"\n";
    std::string cfg;
    if (v.address.address.is_v4()) cfg += "inet " + v.address.ToString() + " ";
    cfg += "mtu " + mtu + " description " + tag;
    for (const auto& t : v.tunnels) cfg += " addm " + t.ifname + " private " + t.ifname;
    cfg += " up";
    out += "ifconfig_" + v.vpc + "=\"" + cfg + "\"\n";
    if (v.address.address.is_v6()) {
      out += "ifconfig_" + v.vpc + "_ipv6=\"inet6 " + v.address.ToString() + "\"\n";
    }
    int alias = 0;
    for (const auto& vip : v.vips) {
      if (vip.rank < 0) continue;  // an acceptor only: no CARP address
      plan::DesiredVip shown = vip;
      if (!show_secrets) shown.secret = "(redacted)";
      Argv words = CarpWords(shown);
      out += "ifconfig_" + v.vpc + "_alias" + std::to_string(alias++) + "=\"" + Join(words, " ") +
             "\"\n";
    }
  }
  bool carp = false;
  for (const auto& v : d.vpcs) carp = carp || CarriesVips(v);
  out += "# The underlay firewall is pf's anchor \"" + std::string(kPfAnchor) +
         "\", loaded by the vpcctl rc.d script: it needs\n# pf_enable=\"YES\" and the line "
         "anchor \"" + std::string(kPfAnchor) + "\" in /etc/pf.conf.\n";
  if (carp) {
    out += "# CARP also needs carp_load=\"YES\" in /boot/loader.conf. Each VIP starts as a CARP BACKUP "
           "that\n# prefers no node (advskew " + std::to_string(plan::kCarpBackupSkew) +
           "); vpcctl's VIP daemon, which `vpcctl apply --local` starts (the\n# rc.d script runs it "
           "at boot), makes the lease holder MASTER. Without it, CARP elects by itself.\n";
    if (!show_secrets) {
      out += "# VIP secrets are shown as (redacted): add --show-secrets to print them.\n";
    }
  }
  return out;
}

}  // namespace vpcctl::platform
