#include "vpcctl/agent/netlink_listings.h"

#include <cerrno>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "vpcctl/base/text.h"
#include "vpcctl/exec/fd.h"
#include "vpcctl/platform/linux.h"

#ifdef __linux__
#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

namespace vpcctl::agent {

using json = nlohmann::json;

namespace {

#ifdef __linux__

constexpr int kDumpTries = 3;  // a dump the kernel marks interrupted (a change during it) is redone

// One message's attributes by type (the last of each type wins, as iproute2's parse_rtattr does).
std::map<int, const rtattr*> Attributes(const rtattr* first, int len) {
  std::map<int, const rtattr*> out;
  for (const rtattr* a = first; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    out[a->rta_type & NLA_TYPE_MASK] = a;
  }
  return out;
}

std::map<int, const rtattr*> Nested(const rtattr* a) {
  return Attributes(static_cast<const rtattr*>(RTA_DATA(a)), static_cast<int>(RTA_PAYLOAD(a)));
}

const rtattr* Find(const std::map<int, const rtattr*>& m, int type) {
  auto it = m.find(type);
  return it == m.end() ? nullptr : it->second;
}

std::string String(const rtattr* a) {
  const char* p = static_cast<const char*>(RTA_DATA(a));
  return std::string(p, strnlen(p, RTA_PAYLOAD(a)));
}

template <typename T>
std::optional<T> Scalar(const rtattr* a) {
  if (!a || RTA_PAYLOAD(a) < sizeof(T)) return std::nullopt;
  T v;
  std::memcpy(&v, RTA_DATA(a), sizeof v);
  return v;
}

std::string Mac(const rtattr* a) {
  const auto* b = static_cast<const unsigned char*>(RTA_DATA(a));
  char text[18];
  std::snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4],
                b[5]);
  return text;
}

// An address attribute as text; empty when it is not 4 or 16 bytes.
std::string Address(const rtattr* a) {
  size_t n = RTA_PAYLOAD(a);
  int family = n == 4 ? AF_INET : n == 16 ? AF_INET6 : 0;
  char text[INET6_ADDRSTRLEN] = "";
  if (family == 0 || !inet_ntop(family, RTA_DATA(a), text, sizeof text)) return "";
  return text;
}

bool Zero(const rtattr* a) {
  const auto* b = static_cast<const unsigned char*>(RTA_DATA(a));
  for (size_t i = 0; i < RTA_PAYLOAD(a); ++i)
    if (b[i]) return false;
  return true;
}

bool Multicast(const rtattr* a) {
  const auto* b = static_cast<const unsigned char*>(RTA_DATA(a));
  return RTA_PAYLOAD(a) == 4 ? (b[0] & 0xf0) == 0xe0 : b[0] == 0xff;
}

// Every message of one dump request (`type`, with `header` of `size` bytes after the netlink
// header), or why not.
Result<std::vector<std::string>> Dump(uint16_t type, const void* header, size_t size) {
  for (int attempt = 0; attempt < kDumpTries; ++attempt) {
    exec::Fd fd(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    if (fd.get() < 0) return Failure(std::string("rtnetlink socket: ") + std::strerror(errno));
    sockaddr_nl sa{};
    sa.nl_family = AF_NETLINK;
    if (bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
      return Failure(std::string("rtnetlink bind: ") + std::strerror(errno));
    }
    std::string req(NLMSG_SPACE(size), '\0');
    auto* h = reinterpret_cast<nlmsghdr*>(req.data());
    h->nlmsg_len = static_cast<uint32_t>(NLMSG_LENGTH(size));
    h->nlmsg_type = type;
    h->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    h->nlmsg_seq = 1;
    std::memcpy(NLMSG_DATA(h), header, size);
    if (send(fd.get(), req.data(), req.size(), 0) < 0) {
      return Failure(std::string("rtnetlink send: ") + std::strerror(errno));
    }
    std::vector<std::string> out;
    std::vector<char> buf(1 << 16);
    bool done = false, interrupted = false;
    while (!done) {
      ssize_t n = recv(fd.get(), buf.data(), buf.size(), MSG_TRUNC);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Failure(std::string("rtnetlink recv: ") + std::strerror(errno));
      if (static_cast<size_t>(n) > buf.size()) return Failure("rtnetlink: a message was cut");
      int len = static_cast<int>(n);
      for (auto* m = reinterpret_cast<const nlmsghdr*>(buf.data()); NLMSG_OK(m, len);
           m = NLMSG_NEXT(m, len)) {
        if (m->nlmsg_flags & NLM_F_DUMP_INTR) interrupted = true;
        if (m->nlmsg_type == NLMSG_DONE) {
          done = true;
          break;
        }
        if (m->nlmsg_type == NLMSG_ERROR) {
          const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(m));
          return Failure(std::string("rtnetlink dump: ") + std::strerror(-e->error));
        }
        if (m->nlmsg_type == type - 2) {  // RTM_GET* answers with RTM_NEW*
          out.emplace_back(reinterpret_cast<const char*>(m), m->nlmsg_len);
        }
      }
    }
    if (!interrupted) return out;
  }
  return Failure("rtnetlink dump: interrupted by changes " + std::to_string(kDumpTries) + " times");
}

const nlmsghdr* Header(const std::string& m) { return reinterpret_cast<const nlmsghdr*>(m.data()); }

// What `ip -j -d` prints of a vxlan's info_data that vpcctl reads (iproute2's vxlan_print_opt).
json VxlanData(const rtattr* data) {
  json d = json::object();
  auto a = Nested(data);
  if (auto id = Scalar<uint32_t>(Find(a, IFLA_VXLAN_ID))) d["id"] = *id;
  if (const rtattr* g = Find(a, IFLA_VXLAN_GROUP)) {
    if (!Zero(g)) d[Multicast(g) ? "group" : "remote"] = Address(g);
  } else if (const rtattr* g6 = Find(a, IFLA_VXLAN_GROUP6)) {
    if (!Zero(g6)) d[Multicast(g6) ? "group6" : "remote6"] = Address(g6);
  }
  if (const rtattr* l = Find(a, IFLA_VXLAN_LOCAL)) {
    if (!Zero(l)) d["local"] = Address(l);
  } else if (const rtattr* l6 = Find(a, IFLA_VXLAN_LOCAL6)) {
    if (!Zero(l6)) d["local6"] = Address(l6);
  }
  if (auto port = Scalar<uint16_t>(Find(a, IFLA_VXLAN_PORT))) d["port"] = ntohs(*port);
  if (auto learning = Scalar<uint8_t>(Find(a, IFLA_VXLAN_LEARNING))) d["learning"] = *learning != 0;
  return d;
}

Result<std::vector<std::string>> DumpLinkMessages() {
  ifinfomsg link{};
  link.ifi_family = AF_UNSPEC;
  return Dump(RTM_GETLINK, &link, sizeof link);
}

// The links' names by ifindex (what `ip` prints for a master or a neighbour's device).
std::map<int, std::string> LinkNames(const std::vector<std::string>& links) {
  std::map<int, std::string> names;
  for (const auto& m : links) {
    const nlmsghdr* h = Header(m);
    if (h->nlmsg_len < NLMSG_LENGTH(sizeof(ifinfomsg))) continue;
    const auto* ifi = static_cast<const ifinfomsg*>(NLMSG_DATA(h));
    auto a = Attributes(IFLA_RTA(ifi), static_cast<int>(IFLA_PAYLOAD(h)));
    if (const rtattr* n = Find(a, IFLA_IFNAME)) names[ifi->ifi_index] = String(n);
  }
  return names;
}

json LinkInfo(const rtattr* info) {
  json li = json::object();
  auto a = Nested(info);
  std::string kind;
  if (const rtattr* k = Find(a, IFLA_INFO_KIND)) li["info_kind"] = kind = String(k);
  if (const rtattr* d = Find(a, IFLA_INFO_DATA); d && kind == "vxlan") {
    li["info_data"] = VxlanData(d);
  }
  std::string slave;
  if (const rtattr* k = Find(a, IFLA_INFO_SLAVE_KIND)) li["info_slave_kind"] = slave = String(k);
  if (const rtattr* d = Find(a, IFLA_INFO_SLAVE_DATA); d && slave == "bridge") {
    json sd = json::object();
    if (auto iso = Scalar<uint8_t>(Find(Nested(d), IFLA_BRPORT_ISOLATED))) {
      sd["isolated"] = *iso != 0;
    }
    li["info_slave_data"] = sd;
  }
  return li;
}

#endif

}  // namespace

#ifdef __linux__

Result<std::string> DumpLinks() {
  VPC_ASSIGN_OR_RETURN(auto links, DumpLinkMessages());
  ifaddrmsg addr{};
  addr.ifa_family = AF_UNSPEC;
  VPC_ASSIGN_OR_RETURN(auto addrs, Dump(RTM_GETADDR, &addr, sizeof addr));
  std::map<int, json> addr_info;  // ifindex -> its addresses, in the kernel's order
  for (const auto& m : addrs) {
    const nlmsghdr* h = Header(m);
    if (h->nlmsg_len < NLMSG_LENGTH(sizeof(ifaddrmsg))) continue;
    const auto* ifa = static_cast<const ifaddrmsg*>(NLMSG_DATA(h));
    auto a = Attributes(IFA_RTA(ifa), static_cast<int>(IFA_PAYLOAD(h)));
    const rtattr* local = Find(a, IFA_LOCAL) ? Find(a, IFA_LOCAL) : Find(a, IFA_ADDRESS);
    if (!local) continue;
    json& list = addr_info[static_cast<int>(ifa->ifa_index)];
    if (list.is_null()) list = json::array();
    list.push_back({{"local", Address(local)}, {"prefixlen", ifa->ifa_prefixlen}});
  }
  std::map<int, std::string> names = LinkNames(links);
  json out = json::array();
  for (const auto& m : links) {
    const nlmsghdr* h = Header(m);
    if (h->nlmsg_len < NLMSG_LENGTH(sizeof(ifinfomsg))) continue;
    const auto* ifi = static_cast<const ifinfomsg*>(NLMSG_DATA(h));
    auto a = Attributes(IFLA_RTA(ifi), static_cast<int>(IFLA_PAYLOAD(h)));
    const rtattr* name = Find(a, IFLA_IFNAME);
    if (!name) continue;
    json e = {{"ifindex", ifi->ifi_index}, {"ifname", String(name)}};
    e["flags"] = (ifi->ifi_flags & IFF_UP) ? json::array({"UP"}) : json::array();
    if (auto mtu = Scalar<uint32_t>(Find(a, IFLA_MTU))) e["mtu"] = *mtu;
    if (auto master = Scalar<uint32_t>(Find(a, IFLA_MASTER))) {
      auto it = names.find(static_cast<int>(*master));
      e["master"] = it != names.end() ? it->second : "if" + std::to_string(*master);
    }
    if (const rtattr* mac = Find(a, IFLA_ADDRESS); mac && RTA_PAYLOAD(mac) == 6) {
      e["address"] = Mac(mac);
    }
    if (const rtattr* alias = Find(a, IFLA_IFALIAS)) e["ifalias"] = String(alias);
    if (const rtattr* info = Find(a, IFLA_LINKINFO)) e["linkinfo"] = LinkInfo(info);
    auto ai = addr_info.find(ifi->ifi_index);
    e["addr_info"] = ai != addr_info.end() ? ai->second : json::array();
    out.push_back(std::move(e));
  }
  return out.dump();
}

Result<std::string> DumpPermanentNeighbours() {
  ndmsg nd{};
  nd.ndm_family = AF_UNSPEC;
  VPC_ASSIGN_OR_RETURN(auto neighbours, Dump(RTM_GETNEIGH, &nd, sizeof nd));
  std::map<int, std::string> names;
  json out = json::array();
  for (const auto& m : neighbours) {
    const nlmsghdr* h = Header(m);
    if (h->nlmsg_len < NLMSG_LENGTH(sizeof(ndmsg))) continue;
    const auto* e = static_cast<const ndmsg*>(NLMSG_DATA(h));
    // What `ip neigh show nud permanent` keeps (externally learnt entries whatever their state).
    if (!(e->ndm_state & NUD_PERMANENT) && !(e->ndm_flags & NTF_EXT_LEARNED)) continue;
    auto a = Attributes(reinterpret_cast<const rtattr*>(reinterpret_cast<const char*>(e) +
                                                        NLMSG_ALIGN(sizeof(ndmsg))),
                        static_cast<int>(h->nlmsg_len - NLMSG_LENGTH(sizeof(ndmsg))));
    const rtattr* dst = Find(a, NDA_DST);
    if (!dst) continue;
    if (names.empty()) {
      VPC_ASSIGN_OR_RETURN(auto links, DumpLinkMessages());
      names = LinkNames(links);
    }
    auto it = names.find(e->ndm_ifindex);
    json j = {{"dst", Address(dst)},
              {"dev", it != names.end() ? it->second : "if" + std::to_string(e->ndm_ifindex)}};
    if (const rtattr* ll = Find(a, NDA_LLADDR); ll && RTA_PAYLOAD(ll) == 6) j["lladdr"] = Mac(ll);
    out.push_back(std::move(j));
  }
  return out.dump();
}

Result<exec::CommandResult> NetlinkListings::Run(const exec::Argv& argv, const std::string& input,
                                                 std::chrono::milliseconds timeout) {
  bool links = argv == platform::LinuxLinkProbe(),
       neighbours = argv == platform::LinuxNeighbourProbe();
  if (!input.empty() || (!links && !neighbours)) return inner_.Run(argv, input, timeout);
  auto text = links ? DumpLinks() : DumpPermanentNeighbours();
  if (!text) return inner_.Run(argv, input, timeout);  // ip says what it says
  exec::CommandResult r;
  r.out = std::move(*text);
  return r;
}

Status CheckNetlinkListings(exec::Runner& inner) {
  for (const auto& argv : {platform::LinuxLinkProbe(), platform::LinuxNeighbourProbe()}) {
    auto mine = argv == platform::LinuxLinkProbe() ? DumpLinks() : DumpPermanentNeighbours();
    if (!mine) return Failure(mine.error().message);
    auto ip = inner.Run(argv, "", std::chrono::seconds(10));
    if (!ip || !ip->ok()) return Failure("`" + Join(argv, " ") + "` failed");
    if (argv == platform::LinuxLinkProbe()) {
      auto a = platform::ParseIpLink(*mine), b = platform::ParseIpLink(ip->out);
      if (!a || !b) return Failure("the link listings do not parse");
      if (*a != *b) return Failure("the link listing differs from `ip -j -d addr show`");
    } else {
      auto a = platform::ParseIpNeigh(*mine), b = platform::ParseIpNeigh(ip->out);
      if (!a || !b) return Failure("the neighbour listings do not parse");
      if (*a != *b) return Failure("the neighbour listing differs from `ip neigh show`");
    }
  }
  return {};
}

#else

Result<std::string> DumpLinks() { return Failure("rtnetlink is Linux's"); }
Result<std::string> DumpPermanentNeighbours() { return Failure("rtnetlink is Linux's"); }

Result<exec::CommandResult> NetlinkListings::Run(const exec::Argv& argv, const std::string& input,
                                                 std::chrono::milliseconds timeout) {
  return inner_.Run(argv, input, timeout);
}

Status CheckNetlinkListings(exec::Runner&) { return Failure("rtnetlink is Linux's"); }

#endif

}  // namespace vpcctl::agent
