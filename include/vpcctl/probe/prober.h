// The overlay prober: one process, one ICMP socket per VPC source address, probes to every peer.
//
// A ping per pair (what status did before) starts every neighbour resolution at once and runs
// thousands of processes on a big fabric; their first packets wait for ARP whose broadcast is
// copied into every tunnel, and the losses it reported were the prober's own. This one:
//   1. resolves first: one small probe per peer, paced, resent until the peer answers or the
//      resolution window closes (a peer that never answers is down, not lossy);
//   2. then measures: `count` small probes per answered peer, each retried up to `retries` times,
//      and one full-size don't-fragment probe at the VPC MTU; when that one is never answered, a
//      ladder of sizes finds the largest frame the path carries.
// The schedule is pure (Schedule, driven by a clock the caller passes); the socket loop is the
// edge (SocketProber), behind the Prober interface that the Context carries.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vpcctl/base/result.h"
#include "vpcctl/net/ip.h"

namespace vpcctl::probe {

struct Target {
  net::IpAddress source;  // this node's overlay address in the VPC (the socket binds to it)
  net::IpAddress address;  // the peer's overlay address
  std::string device;     // the VPC bridge the probes leave through (Linux binds to it)
  int mtu = 1500;         // the VPC MTU: the full-size probe is an IP packet of this length
};

struct Plan {
  int count = 3;                // measured probes per peer
  int retries = 2;              // resends of a measured probe before it counts as lost
  int64_t pace_us = 500;        // at least this long between two sends of this node
  int64_t gap_ms = 10;          // between one peer's measured probes
  int64_t timeout_ms = 300;     // before an unanswered probe is resent
  int64_t resolve_ms = 1600;    // a peer silent this long after the first probe is down
  bool mtu = true;              // also the full-size don't-fragment check
};

struct Outcome {
  bool resolved = false;        // the peer answered at all
  int64_t sent = 0;             // every probe sent to it, resends included
  int64_t received = 0;         // every answer
  int measured = 0;             // measured probes (the loss is over these)
  int lost = 0;                 // measured probes unanswered after every resend
  std::optional<double> rtt_ms;  // mean round trip of the answered measured probes
  int mtu = 0;                  // the size of the full-size probe (0: not checked)
  std::optional<bool> mtu_ok;   // unset: not checked (the peer never answered)
  std::optional<int> path_mtu;  // when !mtu_ok: the largest size answered (0: none)
  std::string error;            // a local failure (socket, send)
  double LossPct() const;       // lost over measured; 100 when the peer never answered
  bool operator==(const Outcome&) const = default;
};

// One send the schedule asks for: probe `target` with an IP packet of `size` bytes, tagged `seq`.
struct Send {
  size_t target = 0;
  uint16_t seq = 0;
  int size = 0;
};

// The pure schedule: which probe goes out when, what an answer or its absence means.
class Schedule {
 public:
  Schedule(const std::vector<Target>& targets, const Plan& plan, int64_t now_us);
  // The send due at `now_us`, if any (pacing included).
  std::optional<Send> Next(int64_t now_us);
  // An answer tagged `seq` arrived at `now_us` (unknown or repeated tags are ignored).
  void Answer(uint16_t seq, int64_t now_us);
  // A send failed locally (EMSGSIZE for a full-size probe larger than the local MTU, ...).
  void SendFailed(uint16_t seq, const std::string& error, int64_t now_us);
  // When the next thing happens (a send due or a timeout), for poll(); Done() when nothing will.
  int64_t WakeAt(int64_t now_us) const;
  bool Done() const;  // nothing open (Next expires what timed out)
  std::vector<Outcome> Outcomes() const;

  // The smallest probe: IP header, ICMP header and the 8-byte cookie.
  static int MinSize(net::Family f) { return f == net::Family::kV4 ? 36 : 56; }

 private:
  enum class Kind : uint8_t { kResolve, kMeasure, kMtu, kLadder };
  struct Probe {  // one logical probe; each resend is a new seq
    size_t target;
    Kind kind;
    int size;
    int attempts = 0;
    int64_t due_us = 0;     // next (re)send
    int64_t first_us = -1;  // first send
    bool answered = false, lost = false;
  };
  struct Tag {
    size_t probe;
    int64_t sent_us;
  };
  struct PerTarget {
    Outcome out;
    int64_t started_us = -1;
    double rtt_sum = 0;
    int rtt_n = 0;
    int ladder_round = 0;
    int ladder_lo = 0, ladder_hi = 0;  // the sizes known answered / unanswered so far
    std::vector<size_t> ladder;        // probes of the current ladder round
  };
  void Resolved(size_t target, int64_t now_us);
  void Finish(size_t probe, bool answered, int64_t now_us);
  void StartLadder(size_t target, int lo, int hi, int64_t now_us);
  void LadderDone(size_t target, int64_t now_us);
  bool Open(const Probe& p) const { return !p.answered && !p.lost; }
  void Expire(int64_t now_us);

  std::vector<Target> targets_;
  Plan plan_;
  std::vector<PerTarget> per_;
  std::vector<Probe> probes_;
  std::vector<Tag> tags_;  // by seq
  int64_t last_send_us_ = -1;
};

class Prober {
 public:
  virtual ~Prober() = default;
  // Probes every target; one Outcome per target, in order. Fails only when nothing could be
  // probed at all (no socket); a peer's own failure is in its Outcome.
  virtual Result<std::vector<Outcome>> Probe(const std::vector<Target>& targets,
                                             const Plan& plan) = 0;
};

// Raw ICMP/ICMPv6 echo sockets, one per source address, in one poll loop (needs root).
class SocketProber : public Prober {
 public:
  Result<std::vector<Outcome>> Probe(const std::vector<Target>& targets, const Plan& plan) override;
};

// Echo packets, for the socket loop and its tests: the ICMP message (header and payload) of an
// echo request whose IP packet is `size` bytes, and the (seq) of an echo reply that carries
// `id` and `cookie` (IPv4 replies start with the IP header, as raw sockets deliver them).
std::string EchoRequest(net::Family f, uint16_t id, uint16_t seq, uint64_t cookie, int size);
std::optional<uint16_t> EchoReplySeq(net::Family f, const uint8_t* data, size_t len, uint16_t id,
                                     uint64_t cookie);

}  // namespace vpcctl::probe
