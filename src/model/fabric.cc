#include "vpcctl/model/fabric.h"

#include "vpcctl/base/text.h"

namespace vpcctl::model {

std::string_view PlatformName(Platform p) { return p == Platform::kLinux ? "linux" : "freebsd"; }

std::string_view DefaultStateDir(Platform p) {
  return p == Platform::kLinux ? "/var/lib/vpcctl" : "/var/db/vpcctl";
}

Result<Platform> ParsePlatform(std::string_view text) {
  if (text == "linux" || text == "Linux") return Platform::kLinux;
  if (text == "freebsd" || text == "FreeBSD") return Platform::kFreeBSD;
  return UsageError("invalid platform " + Quoted(text) + ": must be linux or freebsd");
}

std::optional<Platform> PlatformOfSystem(std::string_view uname_s) {
  if (uname_s == "Linux") return Platform::kLinux;
  if (uname_s == "FreeBSD") return Platform::kFreeBSD;
  return std::nullopt;
}

std::string_view FamilyPrefName(FamilyPref f) {
  switch (f) {
    case FamilyPref::kV4:
      return "ipv4";
    case FamilyPref::kV6:
      return "ipv6";
    case FamilyPref::kAuto:
      break;
  }
  return "auto";
}

Result<FamilyPref> ParseFamilyPref(std::string_view text) {
  if (text == "auto") return FamilyPref::kAuto;
  if (text == "ipv4") return FamilyPref::kV4;
  if (text == "ipv6") return FamilyPref::kV6;
  return UsageError("invalid family " + Quoted(text) + ": must be auto, ipv4 or ipv6");
}

Result<VniRange> VniRange::Parse(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return UsageError("invalid VNI range " + Quoted(text) + ": " + why);
  };
  size_t dash = text.find('-');
  if (dash == std::string_view::npos) return bad("expected LO-HI, e.g. 100-16777215");
  auto lo = ParseUint(text.substr(0, dash), kMaxVni);
  auto hi = ParseUint(text.substr(dash + 1), kMaxVni);
  if (!lo || !hi) return bad("each bound must be a number 1-16777215");
  if (*lo == 0) return bad("VNI 0 is not usable");
  if (*lo > *hi) return bad("LO is greater than HI");
  return VniRange{static_cast<uint32_t>(*lo), static_cast<uint32_t>(*hi)};
}

const Member* Vpc::FindMember(std::string_view node) const {
  for (const auto& m : members)
    if (m.node == node) return &m;
  return nullptr;
}

const Vip* Vpc::FindVip(int vhid) const {
  for (const auto& v : vips)
    if (v.vhid == vhid) return &v;
  return nullptr;
}

int Vip::Rank(std::string_view node) const {
  for (size_t i = 0; i < nodes.size(); ++i)
    if (nodes[i] == node) return static_cast<int>(i);
  return -1;
}

const Node* Fabric::FindNode(std::string_view name) const {
  for (const auto& n : nodes)
    if (n.name == name) return &n;
  return nullptr;
}

Node* Fabric::FindNode(std::string_view name) {
  for (auto& n : nodes)
    if (n.name == name) return &n;
  return nullptr;
}

const Vpc* Fabric::FindVpc(std::string_view name) const {
  for (const auto& v : vpcs)
    if (v.name == name) return &v;
  return nullptr;
}

Vpc* Fabric::FindVpc(std::string_view name) {
  for (auto& v : vpcs)
    if (v.name == name) return &v;
  return nullptr;
}

}  // namespace vpcctl::model

namespace vpcctl::model {

net::Cidr DefaultTransportNetwork() { return *net::Cidr::Parse(kDefaultTransportNetwork); }

bool Fabric::NeedsWireguard(std::string_view node) const {
  for (const auto& v : vpcs)
    if (v.encrypted && v.HasMember(node)) return true;
  return false;
}

int WgOverhead(net::Family underlay) { return underlay == net::Family::kV4 ? 60 : 80; }

int VxlanOverhead(net::Family outer) { return outer == net::Family::kV4 ? 50 : 70; }

int WireguardMtu(const Fabric& fabric, const Node& node) {
  bool v4 = false;
  for (const auto& v : fabric.vpcs) {
    if (!v.encrypted) continue;
    for (const auto& t : v.tunnels) v4 = v4 || (t.Has(node.name) && t.family == net::Family::kV4);
  }
  return node.mtu - WgOverhead(v4 ? net::Family::kV4 : net::Family::kV6);
}

}  // namespace vpcctl::model
