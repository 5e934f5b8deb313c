#include "vpcctl/agent/listing_cache.h"

#include <cerrno>
#include <cstring>
#include <optional>

#include "vpcctl/exec/fd.h"

#ifdef __linux__
#include <arpa/inet.h>
#include <linux/neighbour.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

namespace vpcctl::agent {

namespace {

#ifndef __linux__

// No notifications: every listing is read again.
class NoFeed : public ChangeFeed {
 public:
  Changes Poll() override { return Changes{true, {}}; }
};

#else

// A netlink socket of `protocol` joined to `groups` (group numbers, not masks); -1 on failure.
int Subscribe(int protocol, std::initializer_list<unsigned> groups) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd < 0) return -1;
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  for (unsigned g : groups) {
    ok = ok && setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g, sizeof g) == 0;
  }
  if (!ok) {
    close(fd);
    return -1;
  }
  return fd;
}

// The address a neighbour message names when its entry is not permanent (a learnt entry ageing, or
// a multicast entry the kernel made and collected itself); empty for every other message. The
// cached listings show permanent neighbour entries only, so such a message can change one only
// where it names an address the listing shows: an entry that was permanent and is no longer
// (deleting one reports it FAILED). Without an address (a learnt bridge forwarding entry) it
// changes none; the kernel's deletion of a permanent entry reports it with its address.
std::optional<std::string> NonPermanentNeighbour(const nlmsghdr* h) {
  if (h->nlmsg_type != RTM_NEWNEIGH && h->nlmsg_type != RTM_DELNEIGH) return std::nullopt;
  if (h->nlmsg_len < NLMSG_LENGTH(sizeof(ndmsg))) return std::nullopt;
  const auto* nd = static_cast<const ndmsg*>(NLMSG_DATA(h));
  if ((nd->ndm_state & NUD_PERMANENT) != 0) return std::nullopt;
  int len = static_cast<int>(h->nlmsg_len - NLMSG_LENGTH(sizeof(ndmsg)));
  for (const rtattr* a = reinterpret_cast<const rtattr*>(reinterpret_cast<const char*>(nd) +
                                                         NLMSG_ALIGN(sizeof(ndmsg)));
       RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    if (a->rta_type != NDA_DST) continue;
    char text[INET6_ADDRSTRLEN] = "";
    size_t n = RTA_PAYLOAD(a);
    int family = n == 4 ? AF_INET : n == 16 ? AF_INET6 : 0;
    if (family != 0 && inet_ntop(family, RTA_DATA(a), text, sizeof text)) return std::string(text);
    return std::nullopt;  // an address of another kind: treated as a change of everything
  }
  return std::string();
}

class NetlinkFeed : public ChangeFeed {
 public:
  NetlinkFeed()
      : route_(Subscribe(NETLINK_ROUTE,
                         {RTNLGRP_LINK, RTNLGRP_NEIGH, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR})),
        nft_(Subscribe(NETLINK_NETFILTER, {NFNLGRP_NFTABLES})) {}

  Changes Poll() override {
    Changes c;
    if (route_.get() < 0 || nft_.get() < 0) {
      c.all = true;
      return c;
    }
    Drain(route_.get(), c, true);
    Drain(nft_.get(), c, false);
    return c;
  }

 private:
  // Reads every queued notification. Lost ones (the socket's buffer overflowed) count as a change
  // of everything.
  static void Drain(int fd, Changes& c, bool route) {
    alignas(nlmsghdr) char buf[65536];
    while (true) {
      ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n <= 0) {
        c.all = true;  // ENOBUFS: notifications were dropped
        if (n < 0 && errno == ENOBUFS) continue;
        return;
      }
      if (!route) {
        c.all = true;
        continue;
      }
      Changes got = RouteChanges(buf, static_cast<size_t>(n));
      c.all = c.all || got.all;
      c.neighbours.insert(got.neighbours.begin(), got.neighbours.end());
    }
  }

  exec::Fd route_, nft_;
};

#endif

}  // namespace

#ifdef __linux__
Changes RouteChanges(const void* data, size_t size) {
  Changes c;
  int len = static_cast<int>(size);
  for (auto* h = static_cast<const nlmsghdr*>(data); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
    auto neighbour = NonPermanentNeighbour(h);
    if (!neighbour) {
      c.all = true;
    } else if (!neighbour->empty()) {
      c.neighbours.insert(std::move(*neighbour));
    }
  }
  return c;
}
#endif

std::unique_ptr<ChangeFeed> KernelChangeFeed() {
#ifdef __linux__
  return std::make_unique<NetlinkFeed>();
#else
  return std::make_unique<NoFeed>();
#endif
}

ListingCache::ListingCache(exec::Runner& inner, ChangeFeed& feed, std::set<exec::Argv> cacheable,
                           const Clock& clock, std::chrono::milliseconds max_age,
                           std::chrono::milliseconds spread)
    : inner_(inner),
      feed_(feed),
      cacheable_(std::move(cacheable)),
      clock_(clock),
      max_age_(max_age),
      spread_(spread),
      random_(std::random_device{}()) {}

void ListingCache::Forget(const Changes& c) {
  if (c.all) {
    entries_.clear();
    return;
  }
  // A listing names an address quoted ("dst":"192.0.2.7"): only those that do may have changed.
  for (auto it = entries_.begin(); it != entries_.end();) {
    bool named = false;
    for (const auto& a : c.neighbours) {
      named = named || it->second.result.out.find('"' + a + '"') != std::string::npos;
    }
    it = named ? entries_.erase(it) : std::next(it);
  }
}

Result<exec::CommandResult> ListingCache::Run(const exec::Argv& argv, const std::string& input,
                                              std::chrono::milliseconds timeout) {
  if (!input.empty() || !cacheable_.count(argv)) return inner_.Run(argv, input, timeout);
  std::lock_guard<std::mutex> lock(mu_);
  // Every change reported before the lookup is applied first; one reported while the command
  // runs below is applied at the next lookup.
  Forget(feed_.Poll());
  int64_t now = clock_.NowMs();
  if (auto it = entries_.find(argv); it != entries_.end()) {
    int64_t age = now - it->second.at_ms;
    if (age >= 0 && age < it->second.life_ms) {
      ++hits_;
      return it->second.result;
    }
    entries_.erase(it);
  }
  ++runs_;
  auto r = inner_.Run(argv, input, timeout);
  if (r && r->ok()) {
    int64_t life = max_age_.count();
    if (spread_.count() > 0) {
      life += std::uniform_int_distribution<int64_t>(0, spread_.count() - 1)(random_);
    }
    entries_[argv] = Entry{now, life, *r};
  }
  return r;
}

int ListingCache::hits() const {
  std::lock_guard<std::mutex> lock(mu_);
  return hits_;
}

int ListingCache::runs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return runs_;
}

}  // namespace vpcctl::agent
