#include "vpcctl/fabric/format.h"

#include <algorithm>
#include <ostream>

#include "vpcctl/base/text.h"
#include "vpcctl/ssh/keys.h"

namespace vpcctl::fabric {

using json = nlohmann::json;

void Table::Print(std::ostream& out) const {
  std::vector<size_t> width(header_.size(), 0);
  auto measure = [&](const std::vector<std::string>& r) {
    for (size_t i = 0; i < r.size() && i < width.size(); ++i) width[i] = std::max(width[i], r[i].size());
  };
  measure(header_);
  for (const auto& r : rows_) measure(r);
  auto print = [&](const std::vector<std::string>& r) {
    std::string line;
    for (size_t i = 0; i < r.size() && i < width.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 2, ' ');
    }
    out << line << "\n";
  };
  print(header_);
  for (const auto& r : rows_) print(r);
}

// Invalid UTF-8 (none should reach here: node text is made printable on arrival) is replaced
// rather than thrown on.
void PrintJson(std::ostream& out, const json& j) {
  out << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
}

void AddChange(std::vector<std::string>& changes, const char* what, const std::string& old_value,
               const std::string& new_value) {
  if (old_value != new_value)
    changes.push_back(std::string(what) + " " + old_value + " -> " + new_value);
}

void PrintUpdated(std::ostream& out, bool json, nlohmann::json j, const std::string& subject,
                  const std::vector<std::string>& changes, uint64_t generation) {
  if (json) {
    j["changes"] = changes;
    j["generation"] = generation;
    PrintJson(out, j);
    return;
  }
  out << "updated " << subject << ": "
      << (changes.empty() ? std::string("nothing changed") : Join(changes, "; ")) << "\n";
}

namespace {

json OptAddr(const std::optional<net::IpAddress>& a) {
  return a ? json(a->ToString()) : json(nullptr);
}

json OptInt(const std::optional<int>& v) { return v ? json(*v) : json(nullptr); }

json OptText(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

}  // namespace

std::string SshText(const model::Node& n) {
  bool v6 = n.ssh_host.find(':') != std::string::npos;
  return n.ssh_user + "@" + (v6 ? "[" + n.ssh_host + "]" : n.ssh_host) + ":" +
         std::to_string(n.ssh_port);
}

std::string UnderlayText(const model::Node& n) {
  std::string out;
  if (n.underlay4) out += n.underlay4->ToString();
  if (n.underlay6) out += (out.empty() ? "" : ", ") + n.underlay6->ToString();
  return out;
}

std::string LocalText(const model::Node& n) {
  std::string out;
  if (n.local4) out += n.local4->ToString();
  if (n.local6) out += (out.empty() ? "" : ", ") + n.local6->ToString();
  return out.empty() ? "-" : out;
}

std::string FingerprintText(const model::Node& n) {
  if (n.host_key.empty()) return "-";
  auto fp = ssh::Fingerprint(n.host_key);
  return fp ? *fp : "invalid";
}

json NodeJson(const model::Node& n) {
  std::string fp = FingerprintText(n);
  return json{
      {"name", n.name},
      {"platform", model::PlatformName(n.platform)},
      {"local", n.is_local},
      {"ssh",
       {{"host", n.ssh_host}, {"port", n.ssh_port}, {"user", n.ssh_user}, {"sudo", n.use_sudo}}},
      {"underlay", {{"ipv4", OptAddr(n.underlay4)}, {"ipv6", OptAddr(n.underlay6)}}},
      {"behind_nat", n.BehindNat()},
      {"local_address", {{"ipv4", OptAddr(n.local4)}, {"ipv6", OptAddr(n.local6)}}},
      {"mtu", n.mtu},
      {"host_key_fingerprint", fp == "-" ? json(nullptr) : json(fp)},
      {"remote_vpcctl", OptText(n.remote_vpcctl)},
      {"remote_version", OptText(n.remote_version)},
      {"last_check", OptText(n.last_check)},
      {"transport", OptAddr(n.transport)},
      {"wireguard_public_key", OptText(n.wg_public_key)},
  };
}

json VpcSummaryJson(const model::Vpc& v) {
  return json{{"name", v.name},
              {"id", v.id},
              {"peer_network", v.peer_network.ToString()},
              {"family", model::FamilyPrefName(v.family)},
              {"mtu", v.mtu},
              {"port", v.port},
              {"members", v.members.size()},
              {"tunnels", v.tunnels.size()},
              {"encrypted", v.encrypted}};
}

json VpcJson(const model::Fabric& f, const model::Vpc& v) {
  json members = json::array();
  for (const auto& m : v.members) {
    const model::Node* n = f.FindNode(m.node);
    members.push_back({{"node", m.node},
                       {"platform", n ? json(model::PlatformName(n->platform)) : json(nullptr)},
                       {"overlay", m.overlay.ToString()},
                       {"interface", v.name},
                       {"transport", v.encrypted && n ? OptAddr(n->transport) : json(nullptr)},
                       {"wireguard_public_key",
                        v.encrypted && n ? OptText(n->wg_public_key) : json(nullptr)}});
  }
  json tunnels = json::array();
  for (const auto& t : v.tunnels) {
    json ends = json::array();
    for (const std::string* end : {&t.a, &t.b}) {
      const model::Node* n = f.FindNode(*end);
      json underlay = nullptr;
      if (n && n->Underlay(t.family)) underlay = n->Underlay(t.family)->ToString();
      json transport = nullptr;
      if (v.encrypted && n && n->transport) transport = n->transport->ToString();
      ends.push_back({{"node", *end},
                      {"interface", t.InterfaceName()},
                      {"underlay", underlay},
                      {"transport", transport}});
    }
    tunnels.push_back({{"vni", t.vni}, {"family", net::FamilyName(t.family)}, {"ends", ends}});
  }
  return json{{"name", v.name},
              {"id", v.id},
              {"bridge", v.name},
              {"peer_network", v.peer_network.ToString()},
              {"family", model::FamilyPrefName(v.family)},
              {"mtu", v.mtu},
              {"mtu_fixed", v.mtu_fixed},
              {"port", v.port},
              {"max_jails", OptInt(v.max_jails)},
              {"max_vms", OptInt(v.max_vms)},
              {"members", members},
              {"tunnels", tunnels},
              {"encrypted", v.encrypted},
              {"transport", v.encrypted ? json{{"network", f.transport.network.ToString()},
                                              {"wireguard_port", f.transport.port}}
                                        : json(nullptr)}};
}

std::string PathMtuText(const model::PeerHealth& p) {
  std::string mtu = "(VPC MTU " + std::to_string(p.mtu) + ")";
  if (!p.path_mtu || *p.path_mtu == 0) {
    return "path drops full-size frames and every smaller one tried " + mtu;
  }
  return "path drops frames larger than " + std::to_string(*p.path_mtu) + " bytes " + mtu;
}

}  // namespace vpcctl::fabric
