// vpcctl vipd: the lease of every VIP of this node on real sockets and clocks (daemon.h). One
// thread runs the leases (poll loop); each service check has a thread of its own that only
// reports its verdict.
#include "vpcctl/vipd/daemon.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "netlink.h"
#include "vpcctl/base/text.h"
#include "vpcctl/exec/files.h"
#include "vpcctl/exec/runner.h"
#include "vpcctl/exec/syslog.h"
#include "vpcctl/platform/freebsd.h"
#include "vpcctl/store/state_dir.h"
#include "vpcctl/vipd/config.h"
#include "vpcctl/vipd/fence.h"
#include "vpcctl/vipd/lease.h"
#include "vpcctl/vipd/wire.h"

namespace vpcctl::vipd {

using json = nlohmann::json;

namespace {

volatile sig_atomic_t g_stop = 0;
volatile sig_atomic_t g_reload = 0;
void OnSignal(int s) {
  if (s == SIGHUP) {
    g_reload = 1;
  } else {
    g_stop = 1;
  }
}

Ms MonoMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<Ms>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

uint64_t RealtimeUs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000 + static_cast<uint64_t>(ts.tv_nsec) / 1000;
}


// To its stderr: vipd.log on Linux, which also gets each line but debug traces in the system log
// (as vpcctl-vipd); on FreeBSD daemon(8) -S sends stderr to syslog itself.
void Log(const std::string& line, int priority = LOG_INFO) {
  std::string l = UtcNowMs() + " vipd: " + line + "\n";
  ssize_t n = write(STDERR_FILENO, l.data(), l.size());
  (void)n;
#ifndef __FreeBSD__
  static exec::SysLog syslog("vpcctl-vipd");
  if (priority != LOG_DEBUG) syslog.Send(priority, line);
#else
  (void)priority;
#endif
}

// Drops no earlier than this before the lease ends: the removal (a forked `ip`) must be done
// before any acceptor's grant runs out.
constexpr Ms kDropGuardMs = 150;
constexpr int kCheckEveryMs = 1000;

// A service check: runs in a thread of its own, every second; 2 failures in a row make it
// failing, 2 successes passing (the first verdict counts at once).
class CheckRunner {
 public:
  CheckRunner(exec::Runner& runner, std::string command, int wake_fd)
      : runner_(runner), argv_(Split(command, ' ')), command_(command), wake_fd_(wake_fd) {
    argv_.erase(std::remove(argv_.begin(), argv_.end(), std::string()), argv_.end());
    thread_ = std::thread([this] { Loop(); });
  }
  ~CheckRunner() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  // nullopt until the first verdict.
  std::optional<bool> Healthy() {
    std::lock_guard<std::mutex> l(mu_);
    return healthy_;
  }
  const std::string& Command() const { return command_; }
  std::string LastError() {
    std::lock_guard<std::mutex> l(mu_);
    return last_error_;
  }

 private:
  void Loop() {
    int ok_run = 0, bad_run = 0;
    std::unique_lock<std::mutex> l(mu_);
    while (!stop_) {
      l.unlock();
      auto r = runner_.Run(argv_, "", std::chrono::milliseconds(kCheckEveryMs));
      bool ok = r && r->ok();
      std::string why = !r ? r.error().message
                           : r->timed_out ? "timed out"
                                          : "exit " + std::to_string(r->exit_code);
      l.lock();
      ok_run = ok ? ok_run + 1 : 0;
      bad_run = ok ? 0 : bad_run + 1;
      std::optional<bool> next = healthy_;
      if (!healthy_) next = ok;
      else if (*healthy_ && bad_run >= 2) next = false;
      else if (!*healthy_ && ok_run >= 2) next = true;
      if (!ok) last_error_ = why;
      if (next != healthy_) {
        healthy_ = next;
        char b = 1;
        ssize_t n = write(wake_fd_, &b, 1);
        (void)n;
      }
      cv_.wait_for(l, std::chrono::milliseconds(kCheckEveryMs), [this] { return stop_; });
    }
  }

  exec::Runner& runner_;
  std::vector<std::string> argv_;
  std::string command_;
  int wake_fd_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::optional<bool> healthy_;
  std::string last_error_;
  std::thread thread_;
};

struct Transition {
  std::string state;
  std::string at;
};

struct Instance {
  VipConfig cfg;
  std::unique_ptr<Acceptor> acc;
  std::unique_ptr<Candidate> cand;
  std::unique_ptr<CheckRunner> check;
  std::deque<Transition> transitions;  // the last few, newest last
  Ms announce_again = 0;
  Ms warned_slow = 0;
};

class Daemon {
 public:
  Daemon(fabric::Context& ctx, Config cfg) : ctx_(ctx), cfg_(std::move(cfg)) {
    // VPCCTL_VIPD_TRACE=1 logs every lease message (for debugging a group).
    const char* t = std::getenv("VPCCTL_VIPD_TRACE");
    debug_ = t && std::string(t) == "1";
  }

  Status Run() {
    if (pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) return Failure("vipd: pipe: " + std::string(strerror(errno)));
    incarnation_ = RealtimeUs();
    Ms now = MonoMs();
    for (const auto& v : cfg_.vips) {
      ReleaseAddress(v);
      Add(v, now);
    }
    VPC_TRY(OpenControl());
    // Hooks learn each candidate's state from the start, as CARP and VRRP tell them.
    for (auto& [key, in] : vips_) {
      if (in->cand) Transition(*in, "BACKUP", "vipd started");
    }
    Log("started for node " + cfg_.node + " with " + std::to_string(cfg_.vips.size()) +
        " VIP(s); acceptors answer after one grant (" + std::to_string(MaxGrant()) + " ms)");
    while (!g_stop) {
      if (g_reload) {
        g_reload = 0;
        Reload();
      }
      Bind();
      Loop();
    }
    Shutdown();
    return {};
  }

 private:
  Ms MaxGrant() const {
    Ms g = 0;
    for (const auto& v : cfg_.vips) g = std::max(g, GrantMs(v.lease_ms));
    return g;
  }

  void Add(const VipConfig& v, Ms now) {
    auto in = std::make_unique<Instance>();
    in->cfg = v;
    if (v.acceptor) in->acc = std::make_unique<Acceptor>(cfg_.node, v.lease_ms, now);
    if (v.Candidate()) {
      CandidateConfig c;
      c.self = cfg_.node;
      c.rank = static_cast<uint32_t>(v.rank);
      if (v.acceptor) c.acceptors.push_back(cfg_.node);
      c.candidates.emplace_back(cfg_.node, c.rank);
      for (const auto& p : v.peers) {
        if (p.acceptor) c.acceptors.push_back(p.node);
        if (p.rank >= 0) c.candidates.emplace_back(p.node, static_cast<uint32_t>(p.rank));
      }
      c.quorum = v.Quorum();
      c.lease = v.lease_ms;
      c.drop_guard = kDropGuardMs;
      c.preempt = v.preempt;
      c.kernel_lifetime = cfg_.platform == model::Platform::kLinux;
      c.first_ballot = RealtimeUs() / 1000;
      in->cand = std::make_unique<Candidate>(c, now, RealtimeUs() ^ static_cast<uint64_t>(getpid()));
      if (!v.check.empty()) {
        in->check = std::make_unique<CheckRunner>(ctx_.runner, v.check, wake_[1]);
        Step s;
        in->cand->SetHealthy(false, now, s);  // until the check's first verdict
      }
    }
    vips_[v.Key()] = std::move(in);
  }

  // The address of a VIP this vipd holds no lease for must not stay (a previous run's).
  void ReleaseAddress(const VipConfig& v) {
    if (v.bridge.empty() || !v.Candidate()) return;
    Status st = Fence(v, Action::kDrop, 0);
    if (!st.ok()) Log("cannot release " + v.address.ToString() + ": " + st.error().message, LOG_ERR);
  }

  // Re-reads the configuration: unchanged VIPs keep their lease; changed ones start over (their
  // address released, their grants forgotten: one grant of silence).
  void Reload() {
    auto text = exec::ReadFile(ConfigPath(ctx_.paths.dir));
    Result<Config> next = text ? ParseConfig(*text) : Result<Config>(text.error());
    if (!next) {
      Log("reload refused, keeping the running configuration: " + next.error().message,
          LOG_WARNING);
      return;
    }
    Ms now = MonoMs();
    std::map<std::string, const VipConfig*> wanted;
    for (const auto& v : next->vips) wanted[v.Key()] = &v;
    for (auto it = vips_.begin(); it != vips_.end();) {
      auto w = wanted.find(it->first);
      if (w != wanted.end() && *w->second == it->second->cfg && next->node == cfg_.node) {
        ++it;
        continue;
      }
      Retire(*it->second, now, w == wanted.end() ? "VIP removed" : "VIP changed");
      it = vips_.erase(it);
    }
    cfg_ = *next;
    for (const auto& v : cfg_.vips) {
      if (vips_.count(v.Key())) continue;
      Add(v, now);
      if (vips_[v.Key()]->cand) Transition(*vips_[v.Key()], "BACKUP", "VIP added");
    }
    Log("reloaded: " + std::to_string(vips_.size()) + " VIP(s)");
  }

  void Retire(Instance& in, Ms now, const std::string& why) {
    if (in.cand && in.cand->Holds()) {
      Step s;
      in.cand->SetHealthy(false, now, s);  // hands the lease over, releasing its grants
      Apply(in, s, why);
    }
    ReleaseAddress(in.cfg);
  }

  void Shutdown() {
    Ms now = MonoMs();
    for (auto& [key, in] : vips_) Retire(*in, now, "vipd stopping");
    for (auto& [addr, fd] : sockets_) close(fd);
    if (control_ >= 0) close(control_);
    unlink(SocketPath(ctx_.paths.dir).c_str());
    // FreeBSD: daemon(8) supervises vipd and would start it again: a stop is for both.
    if (cfg_.platform == model::Platform::kFreeBSD) {
      std::ifstream f(platform::VipdSupervisorPidfile(ctx_.paths.dir));
      long pid = 0;
      if (f >> pid && pid > 1 && static_cast<pid_t>(pid) == getppid()) kill(static_cast<pid_t>(pid), SIGTERM);
    }
    Log("stopped");
  }

  // ---- sockets

  // Whether `peer` is reached on the VIP's own network (over the bridge, from the overlay
  // address); otherwise (a witness, or a member seen from one) from the underlay.
  static bool OnBridge(const VipConfig& v, const net::IpAddress& peer) {
    if (v.bridge.empty() || peer.family() != v.local.family()) return false;
    auto net = net::IfAddress{v.local, v.prefix}.Network();
    return net.Contains(peer);
  }

  static std::string WildcardKey(net::Family f) { return f == net::Family::kV4 ? "*4" : "*6"; }

  int OpenSocket(const net::IpAddress& addr, bool wildcard) {
    std::string key = wildcard ? WildcardKey(addr.family()) : addr.ToString();
    int fd = socket(addr.is_v4() ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -1;
    sockaddr_storage sa{};
    socklen_t len = Sockaddr(addr, cfg_.port, sa);
    if (wildcard) {  // the any-address of the family
      if (addr.is_v4()) {
        reinterpret_cast<sockaddr_in*>(&sa)->sin_addr.s_addr = htonl(INADDR_ANY);
      } else {
        reinterpret_cast<sockaddr_in6*>(&sa)->sin6_addr = in6addr_any;
      }
    }
    int one = 1;
    if (!addr.is_v4()) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, reinterpret_cast<sockaddr*>(&sa), len) != 0) {
      if (bind_warned_.insert(key).second) {
        Log("cannot listen on " + key + " port " + std::to_string(cfg_.port) + " yet: " +
            strerror(errno) + " (retrying every second)");
      }
      close(fd);
      return -1;
    }
    Log("listening on " + key + " port " + std::to_string(cfg_.port));
    return fd;
  }

  void Bind() {
    Ms now = MonoMs();
    if (now < next_bind_) return;
    next_bind_ = now + 1000;
    for (const auto& v : cfg_.vips) {
      std::string key = v.local.ToString();
      if (!sockets_.count(key)) {
        int fd = OpenSocket(v.local, false);
        if (fd >= 0) sockets_[key] = fd;
      }
      // Peers off the bridge (a witness, or members seen from one) are reached from the
      // underlay: a socket on the family's any-address, so the kernel picks the source.
      for (const auto& p : v.peers) {
        const net::IpAddress& to = p.addresses.front();
        std::string wkey = WildcardKey(to.family());
        if (OnBridge(v, to) || sockets_.count(wkey)) continue;
        int fd = OpenSocket(to, true);
        if (fd >= 0) sockets_[wkey] = fd;
      }
    }
  }

  static socklen_t Sockaddr(const net::IpAddress& a, int port, sockaddr_storage& sa) {
    if (a.is_v4()) {
      auto* s4 = reinterpret_cast<sockaddr_in*>(&sa);
      s4->sin_family = AF_INET;
      s4->sin_port = htons(static_cast<uint16_t>(port));
      std::memcpy(&s4->sin_addr, a.bytes().data(), 4);
      return sizeof *s4;
    }
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&sa);
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(static_cast<uint16_t>(port));
    std::memcpy(&s6->sin6_addr, a.bytes().data(), 16);
    return sizeof *s6;
  }

  static std::optional<net::IpAddress> FromSockaddr(const sockaddr_storage& sa) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (sa.ss_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&sa)->sin_addr, buf, sizeof buf);
    } else if (sa.ss_family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&sa)->sin6_addr, buf, sizeof buf);
    } else {
      return std::nullopt;
    }
    auto a = net::IpAddress::Parse(buf);
    if (!a) return std::nullopt;
    return *a;
  }

  void Trace(const char* what, const Instance& in, const Msg& m) {
    Log(std::string(what) + " " + in.cfg.Key() + " " + KindName(m.kind) + " " + m.from + "->" + m.to +
        " b=" + std::to_string(m.ballot.n) + "." + std::to_string(m.ballot.id) +
        (m.holder.empty() ? "" : " holder=" + m.holder + " rem=" + std::to_string(m.remaining)) +
        (m.kind == Kind::kReject ? " promised=" + std::to_string(m.promised.n) : ""),
        LOG_DEBUG);
  }

  void Send(Instance& in, const Msg& m) {
    if (debug_) Trace("send", in, m);
    if (m.to == cfg_.node) {
      local_.push_back({in.cfg.Key(), m});
      return;
    }
    const PeerConfig* peer = nullptr;
    for (const auto& p : in.cfg.peers) {
      if (p.node == m.to) peer = &p;
    }
    if (!peer) return;
    const net::IpAddress& to = peer->addresses.front();
    auto fd = sockets_.find(OnBridge(in.cfg, to) || in.cfg.bridge.empty() ? in.cfg.local.ToString()
                                                                          : WildcardKey(to.family()));
    if (fd == sockets_.end()) return;
    Envelope e{in.cfg.vpc, in.cfg.vhid, incarnation_, ++seq_, m};
    std::string d = Encode(e, in.cfg.secret);
    sockaddr_storage sa{};
    socklen_t len = Sockaddr(to, cfg_.port, sa);
    ssize_t n = sendto(fd->second, d.data(), d.size(), 0, reinterpret_cast<sockaddr*>(&sa), len);
    (void)n;
  }

  void Receive(int fd) {
    for (int i = 0; i < 64; ++i) {
      char buf[kMaxDatagram + 1];
      sockaddr_storage sa{};
      socklen_t len = sizeof sa;
      ssize_t n = recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&sa), &len);
      if (n <= 0) return;
      std::string_view d(buf, static_cast<size_t>(n));
      auto src = FromSockaddr(sa);
      Deliver(d, src);
      // What it sent to itself first: a release to its own acceptor must land before the next
      // datagram (a successor's prepare) is read.
      DrainLocal();
    }
  }

  void Drop(const std::string& why) {
    ++dropped_;
    if (dropped_ <= 20 || dropped_ % 1000 == 0) {
      Log("dropped a message (" + why + "); " + std::to_string(dropped_) + " so far");
    }
  }

  void Deliver(std::string_view d, const std::optional<net::IpAddress>& src) {
    auto e = Decode(d);
    if (!e) return Drop(e.error().message);
    auto it = vips_.find(e->vpc + "/" + std::to_string(e->vhid));
    if (it == vips_.end()) return Drop("no VIP " + e->vpc + "/" + std::to_string(e->vhid) + " here");
    Instance& in = *it->second;
    if (!Verify(d, in.cfg.secret)) return Drop("bad MAC for " + in.cfg.Key());
    const Msg& m = e->msg;
    if (m.to != cfg_.node) return Drop("addressed to " + m.to);
    const PeerConfig* peer = nullptr;
    for (const auto& p : in.cfg.peers) {
      if (p.node == m.from) peer = &p;
    }
    if (!peer) return Drop(m.from + " is not in the group of " + in.cfg.Key());
    bool known_source = false;
    for (const auto& a : peer->addresses) known_source = known_source || (src && a == *src);
    if (!known_source) {
      return Drop("from " + m.from + " but sent from " + (src ? src->ToString() : "?"));
    }
    if ((m.kind == Kind::kPrepare || m.kind == Kind::kPropose || m.kind == Kind::kTransfer) &&
        (peer->rank < 0 || m.ballot.id != static_cast<uint32_t>(peer->rank))) {
      return Drop(m.from + " is not the candidate of ballot id " + std::to_string(m.ballot.id));
    }
    if (!guard_.Accept(m.from + "/" + in.cfg.Key(), e->incarnation, e->seq)) {
      return Drop("replayed or stale message from " + m.from);
    }
    Handle(in, m);
  }

  void Handle(Instance& in, const Msg& m) {
    Ms now = MonoMs();
    if (debug_) Trace("recv", in, m);
    Step s;
    if (ForAcceptor(m.kind)) {
      if (!in.acc) return;
      if (m.kind == Kind::kPrepare && in.cand) in.cand->Heard(m, now);
      if (auto r = in.acc->Handle(m, now)) s.send.push_back(*r);
    } else if (in.cand) {
      in.cand->Handle(m, now, s);
    }
    Apply(in, s, "");
  }

  // ---- effects

  void Apply(Instance& in, Step& s, const std::string& context) {
    bool dropped_ok = true;
    std::vector<std::pair<std::string, std::string>> transitions;
    for (const auto& e : s.effects) {
      Ms t0 = MonoMs();
      Status done = Fence(in.cfg, e.action, e.lifetime_s);
      if (!done.ok()) Log("failed: " + done.error().message, LOG_ERR);
      if (debug_) Log(std::string("fence took ") + std::to_string(MonoMs() - t0) + " ms", LOG_DEBUG);
      std::string why = context.empty() ? e.why : context;
      if (e.action == Action::kAcquire) {
        Announce(in);
        in.announce_again = MonoMs() + 100;
        transitions.emplace_back("MASTER", why);
      } else if (e.action == Action::kDrop) {
        dropped_ok = dropped_ok && done.ok();
        bool fault = in.cand && !in.cand->Healthy();
        transitions.emplace_back(fault ? "FAULT" : "BACKUP", why);
      }
    }
    for (const auto& m : s.send) {
      // A lease is released (or transferred) only once its address is gone.
      if (!dropped_ok && (m.kind == Kind::kRelease || m.kind == Kind::kHandover ||
                          m.kind == Kind::kTransfer)) {
        continue;
      }
      Send(in, m);
    }
    // Hooks last: a successor waits for no fork.
    for (const auto& [state, why] : transitions) Transition(in, state, why);
  }

  // The effect on the address: rtnetlink on Linux (no fork on the lease's clock), the platform's
  // commands (fence.h) elsewhere.
  Status Fence(const VipConfig& v, Action action, int lifetime_s) {
    if (v.bridge.empty()) return {};
    if (cfg_.platform == model::Platform::kLinux) {
      if (action == Action::kDrop) return NetlinkDeleteAddress(v.bridge, v.address, v.prefix);
      return NetlinkReplaceAddress(v.bridge, v.address, v.prefix, lifetime_s);
    }
    for (const auto& argv : FenceCommands(cfg_.platform, v, action, lifetime_s)) {
      auto r = ctx_.runner.Run(argv, "", std::chrono::seconds(2));
      if (!r) return r.error();
      if (!r->ok()) return Failure(Join(argv, " ") + ": " + Printable(r->err));
    }
    return {};
  }

  void Transition(Instance& in, const std::string& state, const std::string& why) {
    std::string at = UtcNowMs();
    in.transitions.push_back({state, at});
    while (in.transitions.size() > 5) in.transitions.pop_front();
    Log(in.cfg.Key() + " " + in.cfg.address.ToString() + " -> " + state + " (" + why + ")",
        LOG_NOTICE);
    // Recorded and hooks.d run by `vpcctl vip-event`, detached: the lease never waits for it.
    std::vector<std::string> argv = {exec::SelfPath(), "--state-dir", ctx_.paths.dir, "vip-event",
                                     "lease", in.cfg.vpc, std::to_string(in.cfg.vhid), state};
    // Spawned, not forked: the lease loop waits for no copy of this process's page tables.
    auto pid = exec::SpawnDetached(argv);
    if (!pid) {
      Log("cannot run vip-event: " + pid.error().message, LOG_ERR);
    } else {
      events_.push_back(*pid);
    }
  }

  void Announce(const Instance& in) {
    if (cfg_.platform != model::Platform::kLinux || in.cfg.bridge.empty()) return;
    unsigned ifindex = if_nametoindex(in.cfg.bridge.c_str());
    auto mac_text = exec::ReadFile("/sys/class/net/" + in.cfg.bridge + "/address");
    if (ifindex == 0 || !mac_text) return;
    auto mac = net::MacAddress::Parse(Trim(*mac_text));
    if (!mac) return;
    Mac m{};
    std::copy(mac->bytes().begin(), mac->bytes().end(), m.begin());
    if (in.cfg.address.is_v4()) {
      int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ARP));
      if (fd < 0) return;
      sockaddr_ll ll{};
      ll.sll_family = AF_PACKET;
      ll.sll_ifindex = static_cast<int>(ifindex);
      ll.sll_halen = 6;
      std::memset(ll.sll_addr, 0xff, 6);
      std::string f = GratuitousArp(m, in.cfg.address);
      ssize_t n = sendto(fd, f.data(), f.size(), 0, reinterpret_cast<sockaddr*>(&ll), sizeof ll);
      (void)n;
      close(fd);
      return;
    }
    int fd = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6);
    if (fd < 0) return;
    int hops = 255;
    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof hops);
    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifindex, sizeof ifindex);
    sockaddr_storage src{};
    socklen_t slen = Sockaddr(in.cfg.address, 0, src);
    int r = bind(fd, reinterpret_cast<sockaddr*>(&src), slen);
    (void)r;
    sockaddr_in6 to{};
    to.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "ff02::1", &to.sin6_addr);
    to.sin6_scope_id = ifindex;
    std::string na = UnsolicitedNa(m, in.cfg.address);
    ssize_t n = sendto(fd, na.data(), na.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
    (void)n;
    close(fd);
  }

  // ---- control socket

  Status OpenControl() {
    std::string path = SocketPath(ctx_.paths.dir);
    unlink(path.c_str());
    control_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (path.size() >= sizeof sa.sun_path) return Failure("vipd: socket path too long: " + path);
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    mode_t old = umask(077);
    int r = bind(control_, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    umask(old);
    if (r != 0 || listen(control_, 8) != 0) {
      return Failure("vipd: cannot listen on " + path + ": " + strerror(errno));
    }
    return {};
  }

  void ServeControl() {
    for (int i = 0; i < 8; ++i) {
      int c = accept4(control_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      timeval tv{0, 200000};
      setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      std::string req;
      char buf[4096];
      while (req.size() < 65536 && req.find('\n') == std::string::npos) {
        ssize_t n = read(c, buf, sizeof buf);
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
      }
      std::string answer = Answer(req).dump() + "\n";
      ssize_t n = write(c, answer.data(), answer.size());
      (void)n;
      close(c);
    }
  }

  json Answer(const std::string& text) {
    auto j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("op") || !j["op"].is_string()) {
      return {{"error", "bad request"}};
    }
    std::string op = j["op"].get<std::string>();
    Ms now = MonoMs();
    if (op == "status") return StatusJson(now);
    if (op == "move") {
      if (!j.contains("vpc") || !j["vpc"].is_string() || !j.contains("vhid") ||
          !j["vhid"].is_number_integer()) {
        return {{"error", "bad request"}};
      }
      auto it = vips_.find(j["vpc"].get<std::string>() + "/" + std::to_string(j["vhid"].get<int>()));
      if (it == vips_.end() || !it->second->cand) {
        return {{"error", "this node is not a candidate of that VIP"}};
      }
      Instance& in = *it->second;
      if (!in.cand->Healthy()) return {{"error", "this node's service check is failing"}};
      Step s;
      in.cand->Move(now, s);
      Apply(in, s, "vip move");
      return {{"ok", true}};
    }
    if (op == "carp") {
      // FreeBSD's devd saw CARP change state by itself: put it back where the lease says.
      if (!j.contains("vpc") || !j["vpc"].is_string() || !j.contains("vhid") ||
          !j["vhid"].is_number_integer()) {
        return {{"error", "bad request"}};
      }
      auto it = vips_.find(j["vpc"].get<std::string>() + "/" + std::to_string(j["vhid"].get<int>()));
      if (it == vips_.end() || !it->second->cand) return {{"error", "no such VIP candidate here"}};
      Instance& in = *it->second;
      Status st = Fence(in.cfg, in.cand->Holds() ? Action::kAcquire : Action::kDrop, 0);
      if (!st.ok()) return {{"error", st.error().message}};
      return {{"ok", true}};
    }
    if (op == "cancel-move") {
      for (auto& [key, in] : vips_) {
        if (in->cand) in->cand->CancelMove();
      }
      return {{"ok", true}};
    }
    return {{"error", "unknown op " + op}};
  }

  json StatusJson(Ms now) {
    json vips = json::array();
    for (const auto& [key, in] : vips_) {
      json v = {{"vpc", in->cfg.vpc},
                {"vhid", in->cfg.vhid},
                {"address", in->cfg.address.ToString()},
                {"rank", in->cfg.rank},
                {"acceptor", in->cfg.acceptor}};
      std::string state = "ACCEPTOR";
      if (in->acc && in->acc->Silent(now)) state = "WAITING";
      if (in->cand) {
        const Candidate& c = *in->cand;
        state = c.Holds() ? "HOLDER" : !c.Healthy() ? "CHECK-FAILED" : "STANDBY";
        v["holds"] = c.Holds();
        if (!c.KnownHolder().empty() && c.KnownUntil() > now) {
          v["holder"] = c.KnownHolder();
          v["remaining_ms"] = c.KnownUntil() - now;
        }
        v["epoch"] = c.Epoch();
        if (c.LastRoundMs() >= 0) v["round_ms"] = c.LastRoundMs();
      } else if (in->acc) {
        if (auto g = in->acc->Current(now)) {
          v["holder"] = g->holder;
          v["epoch"] = g->ballot.n;
          v["remaining_ms"] = g->expires - now;
        }
      }
      if (in->check) {
        v["check"] = in->cfg.check;
        auto h = in->check->Healthy();
        v["check_ok"] = h ? json(*h) : json();
        if (h && !*h) v["check_error"] = in->check->LastError();
      }
      v["state"] = state;
      json t = json::array();
      for (const auto& x : in->transitions) t.push_back({{"state", x.state}, {"at", x.at}});
      v["transitions"] = t;
      vips.push_back(v);
    }
    return {{"node", cfg_.node}, {"pid", getpid()}, {"dropped", dropped_}, {"vips", vips}};
  }

  // ---- the loop

  // The vip-event processes that ended (each is waited for, never any other child).
  void ReapEvents() {
    std::erase_if(events_, [](pid_t pid) { return waitpid(pid, nullptr, WNOHANG) != 0; });
  }

  void Loop() {
    ReapEvents();
    Ms now = MonoMs();
    Ms wake = now + 1000;
    for (auto& [key, in] : vips_) {
      if (in->cand) wake = std::min(wake, in->cand->NextWake());
      if (in->announce_again) wake = std::min(wake, in->announce_again);
    }
    std::vector<pollfd> fds;
    fds.push_back({wake_[0], POLLIN, 0});
    fds.push_back({control_, POLLIN, 0});
    for (const auto& [addr, fd] : sockets_) fds.push_back({fd, POLLIN, 0});
    int timeout = static_cast<int>(std::clamp<Ms>(wake - now, 0, 1000));
    int n = poll(fds.data(), fds.size(), timeout);
    if (n > 0) {
      if (fds[0].revents) {
        char buf[64];
        while (read(wake_[0], buf, sizeof buf) > 0) {
        }
      }
      if (fds[1].revents) ServeControl();
      DrainLocal();
      for (size_t i = 2; i < fds.size(); ++i) {
        if (fds[i].revents & POLLIN) Receive(fds[i].fd);
      }
    }
    DrainLocal();
    now = MonoMs();
    for (auto& [key, in] : vips_) {
      if (in->check && in->cand) {
        auto h = in->check->Healthy();
        bool healthy = h.value_or(false);
        if (healthy != in->cand->Healthy()) {
          Step s;
          in->cand->SetHealthy(healthy, now, s);
          Log(key + " service check " + (healthy ? "passes" : "fails: " + in->check->LastError()));
          Apply(*in, s, healthy ? "service check passes" : "service check failed");
        }
      }
      if (in->cand) {
        Step s;
        in->cand->Tick(now, s);
        Apply(*in, s, "");
        WarnSlow(*in, now);
      }
      if (in->announce_again && now >= in->announce_again) {
        in->announce_again = 0;
        if (in->cand && in->cand->Holds()) Announce(*in);
      }
    }
    DrainLocal();
  }

  void WarnSlow(Instance& in, Ms now) {
    Ms round = in.cand->LastRoundMs();
    // What a round may take for the holder to renew a second of kernel lifetime (lease.h).
    Ms budget = in.cfg.lease_ms - 1000 - kKernelSlackMs;
    if (cfg_.platform == model::Platform::kLinux && round >= 0 && round > budget / 2 &&
        now > in.warned_slow) {
      in.warned_slow = now + 60000;
      Log(in.cfg.Key() + ": a lease round took " + std::to_string(round) + " ms, too close to the " +
          std::to_string(budget) + " ms this lease leaves for it: raise it with `vpcctl vip set " +
          in.cfg.vpc + " " + std::to_string(in.cfg.vhid) + " --lease MS`");
    }
  }

  void DrainLocal() {
    while (!local_.empty()) {
      auto [key, m] = local_.front();
      local_.pop_front();
      auto it = vips_.find(key);
      if (it != vips_.end()) Handle(*it->second, m);
    }
  }

  fabric::Context& ctx_;
  Config cfg_;
  bool debug_ = false;
  std::vector<pid_t> events_;  // vip-event processes not yet reaped
  std::map<std::string, std::unique_ptr<Instance>> vips_;
  std::map<std::string, int> sockets_;
  std::set<std::string> bind_warned_;
  Ms next_bind_ = 0;
  int control_ = -1;
  int wake_[2] = {-1, -1};
  uint64_t incarnation_ = 0;
  uint64_t seq_ = 0;
  uint64_t dropped_ = 0;
  ReplayGuard guard_;
  std::deque<std::pair<std::string, Msg>> local_;
};

}  // namespace

Status RunDaemon(fabric::Context& ctx) {
  std::string path = ConfigPath(ctx.paths.dir);
  auto text = exec::ReadFile(path);
  if (!text) return Failure("vipd: no configuration at " + path + " (apply --local writes it)");
  VPC_ASSIGN_OR_RETURN(Config cfg, ParseConfig(*text));
  struct sigaction sa{};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
  Daemon d(ctx, std::move(cfg));
  return d.Run();
}

Result<json> Ask(const std::string& state_dir, const json& request, std::chrono::milliseconds timeout) {
  std::string path = SocketPath(state_dir);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Failure("socket: " + std::string(strerror(errno)));
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path) {
    close(fd);
    return Failure("socket path too long: " + path);
  }
  std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    std::string why = strerror(errno);
    close(fd);
    return Failure("vipd is not running here (" + path + ": " + why + ")");
  }
  std::string req = request.dump() + "\n";
  ssize_t w = write(fd, req.data(), req.size());
  (void)w;
  std::string out;
  char buf[8192];
  while (out.size() < (1u << 20)) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  auto j = json::parse(out, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Failure("vipd gave no answer");
  return j;
}

Status VipTake(fabric::Context& ctx, const std::string& vpc, int vhid, bool json_out,
               std::chrono::milliseconds timeout) {
  Ms start = MonoMs();
  VPC_ASSIGN_OR_RETURN(json r, Ask(ctx.paths.dir, {{"op", "move"}, {"vpc", vpc}, {"vhid", vhid}},
                                   std::chrono::seconds(2)));
  if (r.contains("error")) {
    return UsageError("vip-take " + vpc + " " + std::to_string(vhid) + ": " +
                      (r["error"].is_string() ? Printable(r["error"].get<std::string>())
                                              : std::string("vipd refused")));
  }
  std::string node;
  while (MonoMs() - start < timeout.count()) {
    auto s = Ask(ctx.paths.dir, {{"op", "status"}}, std::chrono::seconds(2));
    if (s && s->contains("vips") && (*s)["vips"].is_array()) {
      if (s->contains("node") && (*s)["node"].is_string()) node = Printable((*s)["node"].get<std::string>());
      for (const auto& v : (*s)["vips"]) {
        if (!v.is_object() || !v.contains("holds") || !v["holds"].is_boolean()) continue;
        if (v.value("vpc", json()) == vpc && v.value("vhid", json()) == vhid && v["holds"].get<bool>()) {
          Ms took = MonoMs() - start;
          if (json_out) {
            ctx.io.out << json{{"vpc", vpc}, {"vhid", vhid}, {"holder", node}, {"took_ms", took}}.dump()
                       << "\n";
          } else {
            ctx.io.out << node << " holds " << vpc << " vhid " << vhid << " (" << took << " ms)\n";
          }
          return {};
        }
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  auto c = Ask(ctx.paths.dir, {{"op", "cancel-move"}}, std::chrono::seconds(2));
  (void)c;
  return Error{"vip-take " + vpc + " " + std::to_string(vhid) + ": " +
                   (node.empty() ? std::string("this node") : node) + " did not get the lease within " +
                   std::to_string(timeout.count()) + " ms (the holder did not hand it over, or no "
                   "majority of acceptors answers)",
               Exit::kNotConverged};
}

}  // namespace vpcctl::vipd
