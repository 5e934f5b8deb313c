// The prober's edge: raw ICMP and ICMPv6 echo sockets, one per source address, one poll loop.
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>

#include "vpcctl/probe/prober.h"

namespace vpcctl::probe {

namespace {

constexpr int kIpv4Header = 20, kIpv6Header = 40, kIcmpHeader = 8, kCookie = 8;
// No schedule runs longer than this; a safety net under the schedule's own timeouts.
constexpr int64_t kHardLimitUs = 20'000'000;
// The schedule tags probes with 16 bits; a node with more peers than this is probed in batches.
constexpr size_t kBatch = 512;

void Put16(std::string& s, size_t at, uint16_t v) {
  s[at] = static_cast<char>(v >> 8);
  s[at + 1] = static_cast<char>(v & 0xff);
}
uint16_t Get16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

uint16_t Checksum(const std::string& s) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < s.size(); i += 2) {
    sum += (static_cast<uint8_t>(s[i]) << 8) | static_cast<uint8_t>(s[i + 1]);
  }
  if (s.size() % 2) sum += static_cast<uint8_t>(s.back()) << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

socklen_t Sockaddr(const net::IpAddress& a, sockaddr_storage& sa) {
  std::memset(&sa, 0, sizeof sa);
  if (a.is_v4()) {
    auto* s4 = reinterpret_cast<sockaddr_in*>(&sa);
    s4->sin_family = AF_INET;
    std::memcpy(&s4->sin_addr, a.bytes().data(), 4);
    return sizeof(sockaddr_in);
  }
  auto* s6 = reinterpret_cast<sockaddr_in6*>(&sa);
  s6->sin6_family = AF_INET6;
  std::memcpy(&s6->sin6_addr, a.bytes().data(), 16);
  return sizeof(sockaddr_in6);
}

// A raw echo socket bound to `source` (and, on Linux, to `device`), sending with don't-fragment
// set and the local MTU as the only limit, receiving echo replies only.
Result<int> OpenSocket(const net::IpAddress& source, const std::string& device) {
  bool v4 = source.is_v4();
  int proto = v4 ? static_cast<int>(IPPROTO_ICMP) : static_cast<int>(IPPROTO_ICMPV6);
  int fd = socket(v4 ? AF_INET : AF_INET6, SOCK_RAW, proto);
  if (fd < 0) return Failure(Errno("cannot open a raw ICMP socket (vpcctl status needs root)"));
  auto fail = [&](const std::string& what) -> Result<int> {
    std::string e = Errno(what + " on the probe socket for " + source.ToString());
    close(fd);
    return Failure(e);
  };
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  int rcvbuf = 1 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
#ifdef __linux__
  if (!device.empty() &&
      setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, device.c_str(), device.size() + 1) != 0) {
    return fail("SO_BINDTODEVICE " + device);
  }
#endif
  if (v4) {
#ifdef __linux__
    int pmtu = IP_PMTUDISC_PROBE;  // DF set; only the interface MTU limits, not a cached path MTU
    if (setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof pmtu) != 0) {
      return fail("IP_MTU_DISCOVER");
    }
    // ICMP_FILTER of <linux/icmp.h> (which clashes with <netinet/ip_icmp.h>): the types dropped.
    constexpr int kIcmpFilter = 1;
    uint32_t filter = ~(1U << ICMP_ECHOREPLY);
    setsockopt(fd, SOL_RAW, kIcmpFilter, &filter, sizeof filter);
#else
    int on = 1;
    if (setsockopt(fd, IPPROTO_IP, IP_DONTFRAG, &on, sizeof on) != 0) return fail("IP_DONTFRAG");
#endif
  } else {
    int on = 1;
    if (setsockopt(fd, IPPROTO_IPV6, IPV6_DONTFRAG, &on, sizeof on) != 0) {
      return fail("IPV6_DONTFRAG");
    }
#ifdef __linux__
    int pmtu = IPV6_PMTUDISC_PROBE;
    setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pmtu, sizeof pmtu);
#endif
    icmp6_filter filter;
    ICMP6_FILTER_SETBLOCKALL(&filter);
    ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &filter);
    setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter);
  }
  sockaddr_storage sa;
  socklen_t len = Sockaddr(source, sa);
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), len) != 0) return fail("bind");
  return fd;
}

uint64_t RandomCookie() {
  uint64_t c = 0;
  std::ifstream("/dev/urandom", std::ios::binary).read(reinterpret_cast<char*>(&c), sizeof c);
  return c ^ static_cast<uint64_t>(NowUs());
}

Result<std::vector<Outcome>> ProbeBatch(const std::vector<Target>& targets, const Plan& plan) {
  // One socket per (source, device); each target sends through its own.
  std::map<std::pair<std::string, std::string>, size_t> by_source;
  std::vector<pollfd> fds;
  std::vector<net::Family> families;
  std::vector<size_t> socket_of(targets.size());
  struct Closer {
    std::vector<pollfd>& fds;
    ~Closer() {
      for (auto& p : fds) close(p.fd);
    }
  } closer{fds};
  std::vector<std::string> open_errors(targets.size());
  for (size_t i = 0; i < targets.size(); ++i) {
    auto key = std::make_pair(targets[i].source.ToString(), targets[i].device);
    auto it = by_source.find(key);
    if (it == by_source.end()) {
      auto fd = OpenSocket(targets[i].source, targets[i].device);
      if (!fd) {
        open_errors[i] = fd.error().message;
        socket_of[i] = SIZE_MAX;
        continue;
      }
      it = by_source.emplace(key, fds.size()).first;
      fds.push_back(pollfd{*fd, POLLIN, 0});
      families.push_back(targets[i].source.family());
    }
    socket_of[i] = it->second;
  }
  if (fds.empty() && !targets.empty()) return Failure(open_errors[0]);
  auto id = static_cast<uint16_t>(getpid() & 0xffff);
  uint64_t cookie = RandomCookie();
  int64_t start = NowUs();
  Schedule schedule(targets, plan, start);
  std::vector<uint8_t> buf(65536);
  while (true) {
    int64_t now = NowUs();
    while (auto send = schedule.Next(now)) {
      size_t s = socket_of[send->target];
      if (s == SIZE_MAX) {
        schedule.SendFailed(send->seq, open_errors[send->target], now);
        continue;
      }
      const Target& t = targets[send->target];
      std::string msg = EchoRequest(t.address.family(), id, send->seq, cookie, send->size);
      sockaddr_storage sa;
      socklen_t len = Sockaddr(t.address, sa);
      if (sendto(fds[s].fd, msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&sa), len) < 0 &&
          errno != EAGAIN && errno != ENOBUFS) {
        schedule.SendFailed(send->seq, Errno("send to " + t.address.ToString()), NowUs());
      }
      now = NowUs();
    }
    if (schedule.Done() || now - start > kHardLimitUs) break;
    int64_t wait_us = std::clamp<int64_t>(schedule.WakeAt(now) - now, 0, 1'000'000);
    timespec timeout{static_cast<time_t>(wait_us / 1'000'000),
                     static_cast<long>((wait_us % 1'000'000) * 1000)};
    if (ppoll(fds.data(), fds.size(), &timeout, nullptr) < 0 && errno != EINTR) {
      return Failure(Errno("poll on the probe sockets"));
    }
    for (size_t s = 0; s < fds.size(); ++s) {
      if (!(fds[s].revents & POLLIN)) continue;
      while (true) {
        ssize_t n = recv(fds[s].fd, buf.data(), buf.size(), 0);
        if (n < 0) break;
        auto seq = EchoReplySeq(families[s], buf.data(), static_cast<size_t>(n), id, cookie);
        if (seq) schedule.Answer(*seq, NowUs());
      }
    }
  }
  return schedule.Outcomes();
}

}  // namespace

std::string EchoRequest(net::Family f, uint16_t id, uint16_t seq, uint64_t cookie, int size) {
  int header = f == net::Family::kV4 ? kIpv4Header : kIpv6Header;
  size = std::max(size, Schedule::MinSize(f));
  std::string m(static_cast<size_t>(size - header), '\0');
  m[0] = static_cast<char>(f == net::Family::kV4 ? ICMP_ECHO : ICMP6_ECHO_REQUEST);
  Put16(m, 4, id);
  Put16(m, 6, seq);
  for (int i = 0; i < kCookie; ++i) m[kIcmpHeader + i] = static_cast<char>(cookie >> (8 * i));
  for (size_t i = kIcmpHeader + kCookie; i < m.size(); ++i) m[i] = static_cast<char>(i & 0xff);
  if (f == net::Family::kV4) Put16(m, 2, Checksum(m));  // the kernel sums ICMPv6 itself
  return m;
}

std::optional<uint16_t> EchoReplySeq(net::Family f, const uint8_t* data, size_t len, uint16_t id,
                                     uint64_t cookie) {
  size_t at = 0;
  if (f == net::Family::kV4) {
    if (len < kIpv4Header || (data[0] >> 4) != 4) return std::nullopt;
    at = static_cast<size_t>(data[0] & 0x0f) * 4;
    if (at < kIpv4Header) return std::nullopt;
  }
  if (len < at + kIcmpHeader + kCookie) return std::nullopt;
  const uint8_t* m = data + at;
  uint8_t reply = f == net::Family::kV4 ? ICMP_ECHOREPLY : ICMP6_ECHO_REPLY;
  if (m[0] != reply || m[1] != 0 || Get16(m + 4) != id) return std::nullopt;
  for (int i = 0; i < kCookie; ++i) {
    if (m[kIcmpHeader + i] != static_cast<uint8_t>(cookie >> (8 * i))) return std::nullopt;
  }
  return Get16(m + 6);
}

Result<std::vector<Outcome>> SocketProber::Probe(const std::vector<Target>& targets,
                                                 const Plan& plan) {
  std::vector<Outcome> out;
  for (size_t from = 0; from < targets.size(); from += kBatch) {
    std::vector<Target> batch(targets.begin() + static_cast<std::ptrdiff_t>(from),
                              targets.begin() + static_cast<std::ptrdiff_t>(
                                                    std::min(targets.size(), from + kBatch)));
    VPC_ASSIGN_OR_RETURN(auto part, ProbeBatch(batch, plan));
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

}  // namespace vpcctl::probe
