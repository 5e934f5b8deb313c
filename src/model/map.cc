#include "vpcctl/model/map.h"

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "vpcctl/base/text.h"
#include "vpcctl/crypto/wireguard_key.h"
#include "vpcctl/model/json_reader.h"
#include "vpcctl/model/names.h"

namespace vpcctl::model {

using json = nlohmann::json;

namespace {

json Addr(const std::optional<net::IpAddress>& a) { return a ? json(a->ToString()) : json(); }
json Count(const std::optional<int>& v) { return v ? json(*v) : json(); }

// The map's fields, read with errors that name them ("invalid map: map.nodes[0].mtu ...").
struct Reader : JsonReader {
  Reader(const json& j, std::string path) : JsonReader(j, "map", std::move(path)) {}
  static Error Bad(const std::string& path, const std::string& why) {
    return JsonReader::Bad("map", path, why);
  }
};

Result<Node> ParseNode(const json& j, const std::string& path) {
  Reader r(j, path);
  if (!j.is_object()) return Reader::Bad(path, "is not an object");
  VPC_TRY(
      r.OnlyKeys({"name", "platform", "underlay", "local", "mtu", "transport", "wireguard_key"}));
  Node n;
  VPC_ASSIGN_OR_RETURN(n.name, r.Str("name"));
  VPC_TRY(ValidateNodeName(n.name));
  VPC_ASSIGN_OR_RETURN(std::string p, r.Str("platform"));
  VPC_ASSIGN_OR_RETURN(n.platform, ParsePlatform(p));
  VPC_ASSIGN_OR_RETURN(const json* u, r.Field("underlay", json::value_t::object));
  Reader ur(*u, path + ".underlay");
  VPC_TRY(ur.OnlyKeys({"ipv4", "ipv6"}));
  VPC_ASSIGN_OR_RETURN(n.underlay4, ur.OptAddr("ipv4", net::Family::kV4));
  VPC_ASSIGN_OR_RETURN(n.underlay6, ur.OptAddr("ipv6", net::Family::kV6));
  if (!n.underlay4 && !n.underlay6) return Reader::Bad(path + ".underlay", "has no address");
  if (auto it = j.find("local"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return Reader::Bad(path + ".local", "is not an object");
    Reader lr(*it, path + ".local");
    VPC_TRY(lr.OnlyKeys({"ipv4", "ipv6"}));
    VPC_ASSIGN_OR_RETURN(n.local4, lr.OptAddr("ipv4", net::Family::kV4));
    VPC_ASSIGN_OR_RETURN(n.local6, lr.OptAddr("ipv6", net::Family::kV6));
  }
  VPC_ASSIGN_OR_RETURN(int64_t mtu, r.Int("mtu", 576, 65535));
  n.mtu = static_cast<int>(mtu);
  n.ssh_host = n.underlay4 ? n.underlay4->ToString() : n.underlay6->ToString();
  if (auto it = j.find("transport"); it != j.end() && !it->is_null()) {
    auto a = it->is_string() ? net::IpAddress::Parse(it->get<std::string>())
                             : Result<net::IpAddress>(Failure("not a string"));
    if (!a) return Reader::Bad(path + ".transport", "is not an IP address");
    n.transport = *a;
  }
  if (auto it = j.find("wireguard_key"); it != j.end() && !it->is_null()) {
    if (!it->is_string() || !crypto::IsWgKey(it->get<std::string>())) {
      return Reader::Bad(path + ".wireguard_key", "is not a WireGuard public key");
    }
    n.wg_public_key = it->get<std::string>();
  }
  return n;
}

// The lease fields of a VIP (format 3).
Status ParseLease(const Reader& vr, const std::string& vp, Vip& vip) {
  VPC_ASSIGN_OR_RETURN(int64_t lease, vr.Int("lease_ms", kMinLeaseMs, kMaxLeaseMs));
  vip.lease_ms = static_cast<int>(lease);
  VPC_ASSIGN_OR_RETURN(auto check, vr.OptStr("check"));
  if (check) {
    if (!ValidateCheck(*check).ok()) {
      return Reader::Bad(vp + ".check", "is not a check command (absolute path, then arguments)");
    }
    vip.check = *check;
  }
  VPC_ASSIGN_OR_RETURN(auto witness, vr.OptStr("witness"));
  if (witness) {
    if (!ValidateNodeName(*witness).ok()) return Reader::Bad(vp + ".witness", "is not a node name");
    vip.witness = *witness;
  }
  VPC_ASSIGN_OR_RETURN(const json* unsafe, vr.Field("unsafe_two_node", json::value_t::boolean));
  vip.unsafe_two_node = unsafe->get<bool>();
  return {};
}

Result<Member> ParseMember(const json& e, const std::string& mp) {
  Reader mr(e, mp);
  if (!e.is_object()) return Reader::Bad(mp, "is not an object");
  VPC_TRY(mr.OnlyKeys({"node", "overlay"}));
  Member m;
  VPC_ASSIGN_OR_RETURN(m.node, mr.Str("node"));
  VPC_ASSIGN_OR_RETURN(std::string overlay, mr.Str("overlay"));
  auto a = net::IpAddress::Parse(overlay);
  if (!a) return Reader::Bad(mp + ".overlay", "is not an IP address");
  m.overlay = *a;
  return m;
}

Result<Tunnel> ParseTunnel(const json& e, const std::string& tp) {
  Reader tr(e, tp);
  if (!e.is_object()) return Reader::Bad(tp, "is not an object");
  VPC_TRY(tr.OnlyKeys({"vni", "a", "b", "family"}));
  Tunnel t;
  VPC_ASSIGN_OR_RETURN(int64_t vni, tr.Int("vni", 1, kMaxVni));
  t.vni = static_cast<uint32_t>(vni);
  VPC_ASSIGN_OR_RETURN(t.a, tr.Str("a"));
  VPC_ASSIGN_OR_RETURN(t.b, tr.Str("b"));
  VPC_ASSIGN_OR_RETURN(std::string f, tr.Str("family"));
  if (f != "ipv4" && f != "ipv6") return Reader::Bad(tp + ".family", "must be ipv4 or ipv6");
  t.family = f == "ipv4" ? net::Family::kV4 : net::Family::kV6;
  return t;
}

// A VIP of a VPC with `members` members; `format` is the map's (leases came with 3).
Result<Vip> ParseVip(const json& e, const std::string& vp, int64_t format, size_t members) {
  if (!e.is_object()) return Reader::Bad(vp, "is not an object");
  Reader vr(e, vp);
  if (format >= 3) {
    VPC_TRY(vr.OnlyKeys({"vhid", "address", "nodes", "secret", "advert_ms", "preempt", "lease_ms",
                         "check", "witness", "unsafe_two_node"}));
  } else {
    VPC_TRY(vr.OnlyKeys({"vhid", "address", "nodes", "secret", "advert_ms", "preempt"}));
  }
  Vip vip;
  VPC_ASSIGN_OR_RETURN(int64_t vhid, vr.Int("vhid", 1, 255));
  vip.vhid = static_cast<int>(vhid);
  VPC_ASSIGN_OR_RETURN(std::string addr, vr.Str("address"));
  auto a = net::IpAddress::Parse(addr);
  if (!a) return Reader::Bad(vp + ".address", "is not an IP address");
  vip.address = *a;
  VPC_ASSIGN_OR_RETURN(const json* nodes, vr.Field("nodes", json::value_t::array));
  for (const auto& n : *nodes) {
    if (!n.is_string()) return Reader::Bad(vp + ".nodes", "must hold node names");
    vip.nodes.push_back(n.get<std::string>());
  }
  // null: withheld, the map is for a node outside the VIP's group.
  VPC_ASSIGN_OR_RETURN(auto secret, vr.OptStr("secret"));
  if (!secret && !vr.Has("secret")) return Reader::Bad(vp + ".secret", "is missing");
  vip.secret = secret.value_or("");
  if (vip.secret == kRedacted) {
    return Reader::Bad(vp + ".secret", "was redacted (export the map with --show-secrets)");
  }
  VPC_ASSIGN_OR_RETURN(int64_t advert, vr.Int("advert_ms", 10, 255000));
  vip.advert_ms = static_cast<int>(advert);
  VPC_ASSIGN_OR_RETURN(const json* preempt, vr.Field("preempt", json::value_t::boolean));
  vip.preempt = preempt->get<bool>();
  if (format >= 3) {
    VPC_TRY(ParseLease(vr, vp, vip));
  } else {
    // Before leases, either node of a two-member VPC held the VIP alone when it lost the other.
    vip.unsafe_two_node = members == 2;
  }
  return vip;
}

// The VPC's own fields (name, numbers, settings), before its members, tunnels and VIPs.
Status ParseVpcFields(const json& j, const Reader& r, const std::string& path, Vpc& v) {
  VPC_ASSIGN_OR_RETURN(v.name, r.Str("name"));
  VPC_TRY(ValidateVpcName(v.name));
  VPC_ASSIGN_OR_RETURN(int64_t id, r.Int("id", 1, 22767));
  v.id = static_cast<uint32_t>(id);
  VPC_ASSIGN_OR_RETURN(std::string cidr, r.Str("peer_network"));
  VPC_ASSIGN_OR_RETURN(v.peer_network, net::Cidr::Parse(cidr));
  VPC_ASSIGN_OR_RETURN(std::string fam, r.Str("family"));
  VPC_ASSIGN_OR_RETURN(v.family, ParseFamilyPref(fam));
  VPC_ASSIGN_OR_RETURN(int64_t mtu, r.Int("mtu", 576, 9216));
  v.mtu = static_cast<int>(mtu);
  VPC_ASSIGN_OR_RETURN(int64_t port, r.Int("port", 1, 65535));
  v.port = static_cast<int>(port);
  VPC_ASSIGN_OR_RETURN(v.max_jails, r.OptCount("max_jails"));
  VPC_ASSIGN_OR_RETURN(v.max_vms, r.OptCount("max_vms"));
  if (auto it = j.find("encrypted"); it != j.end()) {
    if (!it->is_boolean()) return Reader::Bad(path + ".encrypted", "must be true or false");
    v.encrypted = it->get<bool>();
  }
  return {};
}

Result<Vpc> ParseVpc(const json& j, const std::string& path, int64_t format) {
  Reader r(j, path);
  if (!j.is_object()) return Reader::Bad(path, "is not an object");
  VPC_TRY(r.OnlyKeys({"name", "id", "peer_network", "family", "mtu", "port", "max_jails", "max_vms",
                      "members", "tunnels", "vips", "encrypted"}));
  Vpc v;
  VPC_TRY(ParseVpcFields(j, r, path, v));
  VPC_ASSIGN_OR_RETURN(const json* members, r.Field("members", json::value_t::array));
  for (size_t i = 0; i < members->size(); ++i) {
    VPC_ASSIGN_OR_RETURN(Member m,
                         ParseMember((*members)[i], path + ".members[" + std::to_string(i) + "]"));
    v.members.push_back(std::move(m));
  }
  VPC_ASSIGN_OR_RETURN(const json* tunnels, r.Field("tunnels", json::value_t::array));
  for (size_t i = 0; i < tunnels->size(); ++i) {
    VPC_ASSIGN_OR_RETURN(Tunnel t,
                         ParseTunnel((*tunnels)[i], path + ".tunnels[" + std::to_string(i) + "]"));
    v.tunnels.push_back(std::move(t));
  }
  auto vips = j.find("vips");
  if (vips != j.end() && !vips->is_array()) return Reader::Bad(path + ".vips", "must be an array");
  for (size_t i = 0; vips != j.end() && i < vips->size(); ++i) {
    VPC_ASSIGN_OR_RETURN(Vip vip, ParseVip((*vips)[i], path + ".vips[" + std::to_string(i) + "]",
                                           format, v.members.size()));
    v.vips.push_back(std::move(vip));
  }
  return v;
}

}  // namespace

bool InVipGroup(const Vpc& vpc, const Vip& vip, std::string_view node) {
  return vpc.HasMember(node) || (!vip.witness.empty() && vip.witness == node);
}

size_t VipAcceptors(const Vpc& vpc, const Vip& vip) {
  return vpc.members.size() + (vip.witness.empty() ? 0 : 1);
}

std::string MapToJson(const Map& m, bool include_secrets, std::string_view for_node) {
  json nodes = json::array();
  for (const auto& n : m.fabric.nodes) {
    nodes.push_back({{"name", n.name},
                     {"platform", PlatformName(n.platform)},
                     {"underlay", {{"ipv4", Addr(n.underlay4)}, {"ipv6", Addr(n.underlay6)}}},
                     {"mtu", n.mtu},
                     {"transport", Addr(n.transport)},
                     {"wireguard_key", n.wg_public_key.empty() ? json() : json(n.wg_public_key)}});
    // Only behind NAT: a map without NAT stays what older nodes read.
    if (n.BehindNat()) {
      nodes.back()["local"] = {{"ipv4", Addr(n.local4)}, {"ipv6", Addr(n.local6)}};
    }
  }
  json vpcs = json::array();
  for (const auto& v : m.fabric.vpcs) {
    json members = json::array();
    for (const auto& mem : v.members) {
      members.push_back({{"node", mem.node}, {"overlay", mem.overlay.ToString()}});
    }
    json tunnels = json::array();
    for (const auto& t : v.tunnels) {
      tunnels.push_back(
          {{"vni", t.vni}, {"a", t.a}, {"b", t.b}, {"family", net::FamilyName(t.family)}});
    }
    json vips = json::array();
    for (const auto& vip : v.vips) {
      vips.push_back({{"vhid", vip.vhid},
                      {"address", vip.address.ToString()},
                      {"nodes", vip.nodes},
                      {"secret", !include_secrets ? json(kRedacted)
                                 : for_node.empty() || InVipGroup(v, vip, for_node)
                                     ? json(vip.secret)
                                     : json()},
                      {"advert_ms", vip.advert_ms},
                      {"preempt", vip.preempt},
                      {"lease_ms", vip.lease_ms},
                      {"check", vip.check.empty() ? json() : json(vip.check)},
                      {"witness", vip.witness.empty() ? json() : json(vip.witness)},
                      {"unsafe_two_node", vip.unsafe_two_node}});
    }
    vpcs.push_back({{"name", v.name},
                    {"id", v.id},
                    {"peer_network", v.peer_network.ToString()},
                    {"family", FamilyPrefName(v.family)},
                    {"mtu", v.mtu},
                    {"port", v.port},
                    {"max_jails", Count(v.max_jails)},
                    {"max_vms", Count(v.max_vms)},
                    {"members", members},
                    {"tunnels", tunnels},
                    {"vips", vips},
                    {"encrypted", v.encrypted}});
  }
  json j = {{"format", kMapFormat},
            {"fabric", m.fabric_id},
            {"generation", m.fabric.generation},
            {"controller", m.controller},
            {"transport",
             {{"network", m.fabric.transport.network.ToString()}, {"port", m.fabric.transport.port}}},
            {"nodes", nodes},
            {"vpcs", vpcs}};
  if (m.epoch > 0) j["epoch"] = m.epoch;  // only after a restore: older nodes read the rest
  return j.dump(1) + "\n";
}

Result<Map> ParseMap(std::string_view text) {
  VPC_ASSIGN_OR_RETURN(json j, ParseJsonObject(text, "map"));
  Reader r(j, "map");
  VPC_TRY(r.OnlyKeys(
      {"format", "fabric", "generation", "epoch", "controller", "transport", "nodes", "vpcs"}));
  VPC_ASSIGN_OR_RETURN(int64_t format, r.Int("format", 0, 1000));
  // Format 1 (before encrypted VPCs) is read as a map whose VPCs are all plain; formats 1 and 2
  // (before leases) with the lease defaults.
  if (format < 1 || format > kMapFormat) {
    return Failure("invalid map: format " + std::to_string(format) + " (this vpcctl reads format " +
                   std::to_string(kMapFormat) + "; upgrade vpcctl on this node)");
  }
  Map m;
  VPC_ASSIGN_OR_RETURN(m.fabric_id, r.Str("fabric"));
  bool hex = m.fabric_id.size() == 32;
  for (char c : m.fabric_id) hex = hex && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  if (!hex) return Reader::Bad("map.fabric", "must be 32 lowercase hex digits");
  VPC_ASSIGN_OR_RETURN(int64_t gen, r.Int("generation", 0, INT64_MAX));
  m.fabric.generation = static_cast<uint64_t>(gen);
  if (j.contains("epoch")) {
    VPC_ASSIGN_OR_RETURN(int64_t epoch, r.Int("epoch", 0, INT64_MAX));
    m.epoch = static_cast<uint64_t>(epoch);
  }
  VPC_ASSIGN_OR_RETURN(m.controller, r.Str("controller"));
  VPC_TRY(ValidateNodeName(m.controller));
  if (j.contains("transport")) {
    VPC_ASSIGN_OR_RETURN(const json* t, r.Field("transport", json::value_t::object));
    Reader tr(*t, "map.transport");
    VPC_TRY(tr.OnlyKeys({"network", "port"}));
    VPC_ASSIGN_OR_RETURN(std::string network, tr.Str("network"));
    auto cidr = net::Cidr::Parse(network);
    if (!cidr) return Reader::Bad("map.transport.network", "is not a CIDR network");
    m.fabric.transport.network = *cidr;
    VPC_ASSIGN_OR_RETURN(int64_t port, tr.Int("port", 1, 65535));
    m.fabric.transport.port = static_cast<int>(port);
  }
  VPC_ASSIGN_OR_RETURN(const json* nodes, r.Field("nodes", json::value_t::array));
  for (size_t i = 0; i < nodes->size(); ++i) {
    VPC_ASSIGN_OR_RETURN(Node n, ParseNode((*nodes)[i], "map.nodes[" + std::to_string(i) + "]"));
    m.fabric.nodes.push_back(std::move(n));
  }
  VPC_ASSIGN_OR_RETURN(const json* vpcs, r.Field("vpcs", json::value_t::array));
  for (size_t i = 0; i < vpcs->size(); ++i) {
    VPC_ASSIGN_OR_RETURN(Vpc v, ParseVpc((*vpcs)[i], "map.vpcs[" + std::to_string(i) + "]", format));
    m.fabric.vpcs.push_back(std::move(v));
  }
  auto st = ValidateFabric(m.fabric);
  if (!st.ok()) return Failure("invalid map: " + st.error().message);
  return m;
}

Status ValidateTransportNetwork(const net::Cidr& network) {
  int max = network.family() == net::Family::kV4 ? 30 : 126;
  if (network.prefix() > max) {
    return UsageError("transport network " + network.ToString() + " is too small: its prefix " +
                      "must be /" + std::to_string(max) + " or shorter");
  }
  if (network.network().IsMulticast()) {
    return UsageError("transport network " + network.ToString() + " is a multicast range");
  }
  return {};
}

bool Overlaps(const net::Cidr& a, const net::Cidr& b) {
  return a.family() == b.family() && (a.Contains(b.network()) || b.Contains(a.network()));
}

Status ValidateVipLease(const Fabric& f, const Vpc& v, const Vip& vip, const std::string& vw) {
  if (auto st = ValidateLease(vip.lease_ms); !st.ok()) return Failure(vw + ": " + st.error().message);
  if (!vip.check.empty()) {
    if (auto st = ValidateCheck(vip.check); !st.ok()) return Failure(vw + ": " + st.error().message);
  }
  if (!vip.witness.empty()) {
    if (auto st = ValidateWitness(f, v, vip.witness); !st.ok()) {
      return Failure(vw + ": " + st.error().message);
    }
  }
  if (VipAcceptors(v, vip) == 2 && !vip.unsafe_two_node) {
    return Failure(vw + ": only two acceptors (the members of " + v.name +
                   "); a lease is partition-safe only with a witness, or it must be marked "
                   "unsafe_two_node");
  }
  return {};
}

Status ValidateWitness(const Fabric& f, const Vpc& v, const std::string& witness) {
  const Node* w = f.FindNode(witness);
  if (!w) return UsageError("witness " + Quoted(witness) + " is not a node of the fabric");
  if (v.HasMember(witness)) {
    return UsageError("witness " + Quoted(witness) + " is a member of VPC " + Quoted(v.name) +
                      " (and so an acceptor already); a witness must be a node outside it");
  }
  // The witness speaks from one underlay address (IPv4 when it has one): every member must have
  // an address of that family.
  net::Family fam = w->underlay4 ? net::Family::kV4 : net::Family::kV6;
  for (const auto& m : v.members) {
    const Node* n = f.FindNode(m.node);
    if (n && !n->Underlay(fam)) {
      return UsageError("witness " + Quoted(witness) + " speaks " +
                        std::string(net::FamilyName(fam)) + " on the underlay, but member " +
                        Quoted(m.node) + " of VPC " + Quoted(v.name) + " has no " +
                        std::string(net::FamilyName(fam)) + " underlay address");
    }
  }
  return {};
}

namespace {

// The nodes: names, underlay, transport addresses and WireGuard keys, each unique and well-formed.
Status ValidateNodes(const Fabric& f) {
  std::set<std::string> names;
  std::set<net::IpAddress> underlays;
  std::set<net::IpAddress> transports;
  const net::Cidr& transport = f.transport.network;
  for (const auto& n : f.nodes) {
    VPC_TRY(ValidateNodeName(n.name));
    if (!names.insert(n.name).second) return Failure("node " + Quoted(n.name) + " appears twice");
    for (const auto* a : {&n.underlay4, &n.underlay6}) {
      if (*a && !underlays.insert(**a).second) {
        return Failure("underlay address " + (*a)->ToString() + " belongs to two nodes");
      }
      if (*a && transport.Contains(**a)) {
        return Failure("underlay address " + (*a)->ToString() + " of node " + Quoted(n.name) +
                       " is inside the transport network " + transport.ToString());
      }
    }
    for (net::Family fam : {net::Family::kV4, net::Family::kV6}) {
      const auto& local = fam == net::Family::kV4 ? n.local4 : n.local6;
      if (!local) continue;
      if (!n.Underlay(fam)) {
        return Failure("node " + Quoted(n.name) + " has the local address " + local->ToString() +
                       " but no " + std::string(net::FamilyName(fam)) + " underlay address");
      }
      if (*local == *n.Underlay(fam)) {
        return Failure("node " + Quoted(n.name) + " has the local address " + local->ToString() +
                       " equal to its underlay address (local is for nodes behind NAT)");
      }
    }
    if (n.transport) {
      if (!transport.Contains(*n.transport) || *n.transport == transport.network() ||
          (transport.family() == net::Family::kV4 && *n.transport == transport.Broadcast())) {
        return Failure("node " + Quoted(n.name) + " has transport address " +
                       n.transport->ToString() + " outside the usable " + transport.ToString());
      }
      if (!transports.insert(*n.transport).second) {
        return Failure("transport address " + n.transport->ToString() + " belongs to two nodes");
      }
    }
    if (!n.wg_public_key.empty() && !crypto::IsWgKey(n.wg_public_key)) {
      return Failure("node " + Quoted(n.name) + " has an invalid WireGuard public key");
    }
  }
  return {};
}

// What the VPCs validated so far took across the fabric.
struct FabricSeen {
  std::set<std::string> vpc_names;
  std::set<uint32_t> vpc_ids;
  std::set<uint32_t> vnis;
  std::map<std::pair<std::string, std::string>, net::Family> wg_pairs;  // encrypted pairs
};

// A VPC's own settings: name, id, MTU, port, its peer network against the transport network.
Status ValidateVpcSettings(const Fabric& f, const Vpc& v, const std::string& where,
                           FabricSeen& seen) {
  const net::Cidr& transport = f.transport.network;
  VPC_TRY(ValidateVpcName(v.name));
  if (!seen.vpc_names.insert(v.name).second) return Failure(where + " appears twice");
  if (v.id < 1 || v.id > 22767 || !seen.vpc_ids.insert(v.id).second) {
    return Failure(where + " has a bad or duplicate id " + std::to_string(v.id));
  }
  int lo = v.peer_network.family() == net::Family::kV6 ? 1280 : 576;
  if (v.mtu < lo || v.mtu > 9216) return Failure(where + " has MTU " + std::to_string(v.mtu));
  if (v.port < 1 || v.port > 65535) return Failure(where + " has port " + std::to_string(v.port));
  if (Overlaps(v.peer_network, transport)) {
    return Failure(where + " has peer network " + v.peer_network.ToString() +
                   ", which overlaps the transport network " + transport.ToString());
  }
  if (v.encrypted && v.port == f.transport.port) {
    return Failure(where + " uses the WireGuard port " + std::to_string(v.port) + " for VXLAN");
  }
  return {};
}

// A VPC's members: nodes of the fabric, once each, with usable, unique overlay addresses (added
// to `overlays`).
Status ValidateMembers(const Fabric& f, const Vpc& v, const std::string& where,
                       std::set<std::string>& members, std::set<net::IpAddress>& overlays) {
  for (const auto& m : v.members) {
    const Node* n = f.FindNode(m.node);
    if (!n) return Failure(where + " member " + Quoted(m.node) + " is not a node");
    if (!members.insert(m.node).second) {
      return Failure(where + " lists member " + Quoted(m.node) + " twice");
    }
    if (!v.peer_network.Contains(m.overlay) || m.overlay == v.peer_network.network() ||
        (v.peer_network.family() == net::Family::kV4 && v.peer_network.prefix() < 31 &&
         m.overlay == v.peer_network.Broadcast())) {
      return Failure(where + " member " + Quoted(m.node) + " has overlay address " +
                     m.overlay.ToString() + " outside the usable " + v.peer_network.ToString());
    }
    if (!overlays.insert(m.overlay).second) {
      return Failure(where + " gives overlay address " + m.overlay.ToString() + " twice");
    }
    if (v.encrypted && !n->transport) {
      return Failure(where + " is encrypted, but member " + Quoted(m.node) +
                     " has no transport address");
    }
  }
  return {};
}

// A VPC's tunnels: a full mesh of its members, VNIs unique in the fabric, each pair on one family.
Status ValidateTunnels(const Fabric& f, const Vpc& v, const std::string& where,
                       const std::set<std::string>& members, FabricSeen& seen) {
  std::set<std::pair<std::string, std::string>> pairs;
  for (const auto& t : v.tunnels) {
    std::string tw = where + " tunnel " + std::to_string(t.vni);
    if (t.vni < 1 || t.vni > kMaxVni) return Failure(tw + ": VNI out of range");
    if (!seen.vnis.insert(t.vni).second) return Failure(tw + ": VNI used twice in the fabric");
    if (!(t.a < t.b)) return Failure(tw + ": ends must be ordered (a < b)");
    if (!members.count(t.a) || !members.count(t.b)) {
      return Failure(tw + ": ends " + t.a + ", " + t.b + " are not both members");
    }
    if (!pairs.insert({t.a, t.b}).second) return Failure(tw + ": second tunnel for one pair");
    const Node* a = f.FindNode(t.a);
    const Node* b = f.FindNode(t.b);
    if (!a->Underlay(t.family) || !b->Underlay(t.family)) {
      return Failure(tw + ": both ends need an " + std::string(net::FamilyName(t.family)) +
                     " underlay address");
    }
    bool freebsd = a->platform == Platform::kFreeBSD || b->platform == Platform::kFreeBSD;
    if (freebsd && t.vni > kFreeBsdMaxVni) return Failure(tw + ": above 32767 with a FreeBSD end");
    if (v.encrypted) {
      auto [it, fresh] = seen.wg_pairs.emplace(std::make_pair(t.a, t.b), t.family);
      if (!fresh && it->second != t.family) {
        return Failure(tw + ": WireGuard between " + t.a + " and " + t.b +
                       " would run over two families");
      }
    }
  }
  size_t n = v.members.size();
  if (pairs.size() != n * (n - (n ? 1 : 0)) / 2) {
    return Failure(where + " has " + std::to_string(pairs.size()) + " tunnels for " +
                   std::to_string(n) + " members (a full mesh needs " +
                   std::to_string(n * (n - (n ? 1 : 0)) / 2) + ")");
  }
  return {};
}

// A VPC's VIPs: vhids, addresses, groups of one platform, secrets, advert intervals, leases.
Status ValidateVips(const Fabric& f, const Vpc& v, const std::string& where,
                    const std::set<std::string>& members, std::set<net::IpAddress>& overlays) {
  std::set<int> vhids;
  for (const auto& vip : v.vips) {
    std::string vw = where + " VIP " + vip.address.ToString();
    if (vip.vhid < 1 || vip.vhid > 255 || !vhids.insert(vip.vhid).second) {
      return Failure(vw + ": bad or duplicate vhid " + std::to_string(vip.vhid));
    }
    if (vip.address.family() != v.peer_network.family() || overlays.count(vip.address)) {
      return Failure(vw + ": wrong family, or an overlay address");
    }
    overlays.insert(vip.address);
    if (vip.nodes.size() < 2 || vip.nodes.size() > kMaxVipNodes) {
      return Failure(vw + ": needs 2-" + std::to_string(kMaxVipNodes) + " nodes");
    }
    std::set<std::string> group;
    std::set<Platform> platforms;
    for (const auto& n : vip.nodes) {
      if (!members.count(n) || !group.insert(n).second) {
        return Failure(vw + ": node " + Quoted(n) + " is not a member or is listed twice");
      }
      platforms.insert(f.FindNode(n)->platform);
    }
    if (platforms.size() != 1) return Failure(vw + ": mixes FreeBSD and Linux nodes");
    // An empty secret is one withheld from a node outside the group (see MapToJson).
    if (auto st = ValidateSecret(vip.secret); !st.ok() && !vip.secret.empty()) {
      return Failure(vw + ": " + st.error().message);
    }
    bool carp = *platforms.begin() == Platform::kFreeBSD;
    if (carp ? (vip.advert_ms < 1000 || vip.advert_ms % 1000 != 0)
             : (vip.advert_ms > 40950 || vip.advert_ms % 10 != 0)) {
      return Failure(vw + ": advert interval " + std::to_string(vip.advert_ms) +
                     " ms is not possible on its platform");
    }
    VPC_TRY(ValidateVipLease(f, v, vip, vw));
  }
  return {};
}

}  // namespace

Status ValidateFabric(const Fabric& f) {
  if (auto st = ValidateTransportNetwork(f.transport.network); !st.ok()) {
    return Failure(st.error().message);
  }
  VPC_TRY(ValidateNodes(f));
  FabricSeen seen;
  for (const auto& v : f.vpcs) {
    std::string where = "VPC " + Quoted(v.name);
    VPC_TRY(ValidateVpcSettings(f, v, where, seen));
    std::set<std::string> members;
    std::set<net::IpAddress> overlays;
    VPC_TRY(ValidateMembers(f, v, where, members, overlays));
    VPC_TRY(ValidateTunnels(f, v, where, members, seen));
    VPC_TRY(ValidateVips(f, v, where, members, overlays));
  }
  return {};
}

}  // namespace vpcctl::model
