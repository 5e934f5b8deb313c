// The address commands of each lease effect, and the announcement frames (fence.h).
#include "vpcctl/vipd/fence.h"

#include "vpcctl/platform/freebsd.h"

namespace vpcctl::vipd {

namespace {

std::string WithPrefix(const VipConfig& v) {
  return v.address.ToString() + "/" + std::to_string(v.prefix);
}

Argv LinuxAdd(const VipConfig& v, int lifetime_s) {
  std::string s = std::to_string(lifetime_s);
  Argv a = {"ip", "addr", "replace", WithPrefix(v), "dev", v.bridge};
  if (lifetime_s > 0) {
    a.insert(a.end(), {"valid_lft", s, "preferred_lft", s});
  }
  // An IPv6 VIP is usable at once: its holder is the only one to have it (no DAD wait).
  if (!v.address.is_v4()) a.push_back("nodad");
  return a;
}

Argv CarpState(const VipConfig& v, bool master) {
  return platform::CarpStateCommand(v.bridge, v.vhid, master);
}

}  // namespace

std::vector<Argv> FenceCommands(model::Platform platform, const VipConfig& v, Action action,
                                int lifetime_s) {
  if (v.bridge.empty()) return {};
  if (platform == model::Platform::kFreeBSD) {
    if (action == Action::kRefresh) return {};
    return {CarpState(v, action == Action::kAcquire)};
  }
  if (action == Action::kDrop) return {{"ip", "addr", "del", WithPrefix(v), "dev", v.bridge}};
  return {LinuxAdd(v, lifetime_s)};
}

std::vector<Argv> ReleaseCommands(model::Platform platform, const VipConfig& v) {
  if (v.bridge.empty() || !v.Candidate()) return {};
  return FenceCommands(platform, v, Action::kDrop, 0);
}

std::string GratuitousArp(const Mac& mac, const net::IpAddress& ip) {
  std::string f;
  auto put = [&f](std::initializer_list<int> bytes) {
    for (int b : bytes) f += static_cast<char>(b);
  };
  auto put_mac = [&] {
    for (uint8_t b : mac) f += static_cast<char>(b);
  };
  auto put_ip = [&] {
    for (int i = 0; i < 4; ++i) f += static_cast<char>(ip.bytes()[i]);
  };
  put({0xff, 0xff, 0xff, 0xff, 0xff, 0xff});  // to everyone
  put_mac();
  put({0x08, 0x06});                          // ARP
  put({0x00, 0x01, 0x08, 0x00, 6, 4});        // Ethernet, IPv4
  put({0x00, 0x01});                          // request (what Linux sends for a gratuitous ARP)
  put_mac();
  put_ip();
  put({0, 0, 0, 0, 0, 0});
  put_ip();                                   // sender = target: gratuitous
  return f;
}

std::string UnsolicitedNa(const Mac& mac, const net::IpAddress& ip) {
  std::string m;
  m += static_cast<char>(136);  // neighbour advertisement
  m += '\0';
  m += std::string(2, '\0');   // checksum: the kernel's
  m += static_cast<char>(0x20);  // override, not solicited, not a router
  m += std::string(3, '\0');
  for (uint8_t b : ip.bytes()) m += static_cast<char>(b);
  m += static_cast<char>(2);  // target link-layer address option, 8 bytes
  m += static_cast<char>(1);
  for (uint8_t b : mac) m += static_cast<char>(b);
  return m;
}

}  // namespace vpcctl::vipd
