// rtnetlink RTM_NEWADDR / RTM_DELADDR for vipd (netlink.h).
#include "netlink.h"

#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vpcctl::vipd {

namespace {

struct Request {
  nlmsghdr h;
  ifaddrmsg ifa;
  char attrs[128];
};

void AddAttr(Request& r, uint16_t type, const void* data, size_t len) {
  auto* a = reinterpret_cast<rtattr*>(reinterpret_cast<char*>(&r) + NLMSG_ALIGN(r.h.nlmsg_len));
  a->rta_type = type;
  a->rta_len = static_cast<uint16_t>(RTA_LENGTH(len));
  std::memcpy(RTA_DATA(a), data, len);
  r.h.nlmsg_len = NLMSG_ALIGN(r.h.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

// Sends the request and returns the kernel's verdict (0 or -errno).
Result<int> Transact(Request& r) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return Failure(std::string("netlink socket: ") + std::strerror(errno));
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  timeval tv{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (sendto(fd, &r, r.h.nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0) {
    int e = errno;
    close(fd);
    return Failure(std::string("netlink send: ") + std::strerror(e));
  }
  char buf[4096];
  ssize_t n = recv(fd, buf, sizeof buf, 0);
  int e = errno;
  close(fd);
  if (n < 0) return Failure(std::string("netlink receive: ") + std::strerror(e));
  auto* h = reinterpret_cast<nlmsghdr*>(buf);
  if (!NLMSG_OK(h, static_cast<unsigned>(n)) || h->nlmsg_type != NLMSG_ERROR) {
    return Failure("netlink: unexpected answer");
  }
  return reinterpret_cast<nlmsgerr*>(NLMSG_DATA(h))->error;
}

Result<Request> Make(uint16_t type, uint16_t flags, const std::string& ifname,
                     const net::IpAddress& a, int prefix) {
  unsigned index = if_nametoindex(ifname.c_str());
  if (index == 0) return Failure("no interface " + ifname);
  Request r{};
  r.h.nlmsg_len = NLMSG_LENGTH(sizeof(ifaddrmsg));
  r.h.nlmsg_type = type;
  r.h.nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | NLM_F_ACK | flags);
  r.ifa.ifa_family = a.is_v4() ? AF_INET : AF_INET6;
  r.ifa.ifa_prefixlen = static_cast<unsigned char>(prefix);
  r.ifa.ifa_scope = RT_SCOPE_UNIVERSE;
  r.ifa.ifa_index = index;
  size_t len = a.is_v4() ? 4 : 16;
  AddAttr(r, IFA_LOCAL, a.bytes().data(), len);
  AddAttr(r, IFA_ADDRESS, a.bytes().data(), len);
  return r;
}

}  // namespace

Status NetlinkReplaceAddress(const std::string& ifname, const net::IpAddress& a, int prefix,
                             int lifetime_s) {
  VPC_ASSIGN_OR_RETURN(Request r, Make(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, ifname, a, prefix));
  if (!a.is_v4()) {
    uint32_t flags = IFA_F_NODAD;
    r.ifa.ifa_flags = IFA_F_NODAD;
    AddAttr(r, IFA_FLAGS, &flags, sizeof flags);
  }
  if (lifetime_s > 0) {
    ifa_cacheinfo ci{};
    ci.ifa_prefered = static_cast<uint32_t>(lifetime_s);
    ci.ifa_valid = static_cast<uint32_t>(lifetime_s);
    AddAttr(r, IFA_CACHEINFO, &ci, sizeof ci);
  }
  VPC_ASSIGN_OR_RETURN(int err, Transact(r));
  if (err != 0) {
    return Failure("adding " + a.ToString() + "/" + std::to_string(prefix) + " to " + ifname + ": " +
                   std::strerror(-err));
  }
  return {};
}

Status NetlinkDeleteAddress(const std::string& ifname, const net::IpAddress& a, int prefix) {
  auto r = Make(RTM_DELADDR, 0, ifname, a, prefix);
  if (!r) return {};  // no interface: no address
  VPC_ASSIGN_OR_RETURN(int err, Transact(*r));
  if (err != 0 && err != -EADDRNOTAVAIL && err != -ENOENT && err != -ENODEV) {
    return Failure("removing " + a.ToString() + " from " + ifname + ": " + std::strerror(-err));
  }
  return {};
}

}  // namespace vpcctl::vipd
