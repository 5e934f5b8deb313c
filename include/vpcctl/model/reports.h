// What a node answers the controller: typed reports, written by the node and read by the
// controller with the same code (schema/*-report.schema.json). Reading validates as ParseMap
// does (types, ranges, unknown keys, nesting depth) and makes every free-text field printable, so
// that nothing a node prints can crash the controller or reach its terminal raw.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vpcctl/base/result.h"

namespace vpcctl::model {

// The most the controller keeps of one free-text field of a report (descriptions, errors).
inline constexpr size_t kMaxReportText = 2048;

// One step of a plan: what `apply` did or would do, or drift that `status` found.
struct StepReport {
  std::string action;       // "create-tunnel", ...
  std::string vpc;          // the VPC; empty or an owner ("wg-transport") for node-wide steps
  std::string interface;    // what the step is about: an interface, a file, a daemon
  std::string description;  // for people

  bool operator==(const StepReport&) const = default;
};

struct WireguardReport {
  std::optional<std::string> public_key;  // a WireGuard public key; never the private one
  std::optional<std::string> engine;      // "kernel", "wireguard-go"; null: not running yet
  bool operator==(const WireguardReport&) const = default;
};

// A node behind 1:1 NAT, per underlay family: its public (underlay) address, on none of its
// interfaces, and the local one its tunnels start from, given in the map or found by the route
// to its peers.
struct NatReport {
  std::string family;  // "ipv4" / "ipv6"
  std::string public_address;
  std::string local;
  bool detected = false;  // found by the route (else the map's local address)
  bool operator==(const NatReport&) const = default;
};

// `apply --local --json`.
struct ApplyReport {
  std::optional<std::string> node;  // null only with no_map
  bool no_map = false;              // the node holds no map yet: nothing to apply
  std::optional<uint64_t> generation;
  std::optional<uint64_t> previous_generation;
  bool dry_run = false;
  double duration_ms = 0;
  std::optional<std::string> error;
  uint64_t changes = 0;
  std::vector<StepReport> steps;
  bool converged = false;
  std::vector<StepReport> remaining;
  std::vector<std::string> commands;  // dry run: the commands, secrets redacted
  std::optional<WireguardReport> wireguard;
  std::vector<std::string> handshakes_restarted;  // peers re-added after crossed handshakes
  // With a rekey's moment: how long after it the keys switched, in ms (negative: before it, the
  // moment being too far ahead of this node's clock). Empty when no key switched.
  std::optional<int64_t> key_switch_offset_ms;
  std::vector<NatReport> behind_nat;  // empty: the node has its underlay addresses

  nlohmann::json ToJson() const;
  static Result<ApplyReport> FromJson(const nlohmann::json& j);
  bool operator==(const ApplyReport&) const = default;
};

struct PeerHealth {
  std::string node;
  std::string address;  // the peer's overlay address
  int64_t transmitted = 0;
  int64_t received = 0;
  double loss_pct = 100;
  std::optional<double> rtt_ms;
  std::optional<std::string> error;
  int64_t mtu = 0;                  // the size of the full-size don't-fragment probe (0: none)
  std::optional<bool> mtu_ok;       // null: not checked (the peer never answered)
  std::optional<int64_t> path_mtu;  // when !mtu_ok: the largest frame the path carried
  bool encrypted = false;  // handshake fields are reported only in encrypted VPCs
  std::optional<int64_t> handshake_age_s;  // null: never
  bool handshake_stale = false;
  bool operator==(const PeerHealth&) const = default;
};

struct VipEventReport {
  std::string state;
  std::string at;
  bool operator==(const VipEventReport&) const = default;
};

struct VipHealth {
  int vhid = 0;
  std::string address;
  int rank = 0;
  bool holds = false;
  std::optional<std::string> state;  // the last recorded transition, if any
  std::optional<std::string> since;
  std::vector<VipEventReport> events;
  // What this node's vipd knows of the lease (absent when vipd did not answer):
  std::optional<std::string> holder;       // the node holding the lease, as last seen from here
  std::optional<uint64_t> epoch;           // the ballot number of that lease
  std::optional<int64_t> remaining_ms;     // how long that lease still runs, from here
  std::optional<std::string> lease_state;  // HOLDER, STANDBY, CHECK-FAILED, ACCEPTOR, WAITING
  std::optional<int64_t> round_ms;         // the last lease round's duration (RTT to a majority)
  bool operator==(const VipHealth&) const = default;
};

struct GuestHealth {
  std::string kind;
  std::string guest;
  std::string interface;
  std::optional<std::string> address;
  bool present = false;
  bool on_bridge = false;
  bool operator==(const GuestHealth&) const = default;
};

struct VpcHealth {
  std::string name;
  bool encrypted = false;
  std::string address;  // this node's overlay address, with prefix
  std::vector<StepReport> drift;
  std::vector<PeerHealth> peers;
  std::vector<VipHealth> vips;
  std::vector<GuestHealth> attachments;
  bool operator==(const VpcHealth&) const = default;
};

// `status --local --json` (also what `vip show` reads).
struct StatusReport {
  std::string node;
  uint64_t generation = 0;
  std::vector<VpcHealth> vpcs;
  std::vector<std::string> stray;  // drift outside the listed VPCs
  std::optional<std::string> error;
  bool healthy = false;

  const VpcHealth* FindVpc(std::string_view name) const;
  nlohmann::json ToJson() const;
  static Result<StatusReport> FromJson(const nlohmann::json& j);
  bool operator==(const StatusReport&) const = default;
};

// `wg-key --json`.
struct KeyReport {
  std::string public_key;
  bool created = false;
  bool rotated = false;

  nlohmann::json ToJson() const;
  static Result<KeyReport> FromJson(const nlohmann::json& j);
  bool operator==(const KeyReport&) const = default;
};

// `map import --json`.
struct ImportReport {
  std::string node;
  std::optional<uint64_t> before;
  uint64_t after = 0;

  nlohmann::json ToJson() const;
  static Result<ImportReport> FromJson(const nlohmann::json& j);
  bool operator==(const ImportReport&) const = default;
};

// `vip-take VPC VHID --json`: the node took the VIP's lease over (the node side of `vip move`).
struct VipTakeReport {
  std::string vpc;
  int vhid = 0;
  std::string holder;  // the node now holding the lease: the one that ran vip-take
  int64_t took_ms = 0;  // from asking the old holder to holding the lease

  nlohmann::json ToJson() const;
  static Result<VipTakeReport> FromJson(const nlohmann::json& j);
  bool operator==(const VipTakeReport&) const = default;
};

// Reads a report from a node's output text: bounded parse (model::kMaxJsonDepth), then FromJson.
template <class Report>
Result<Report> ParseReport(std::string_view text);

}  // namespace vpcctl::model
