// vipd's configuration: every VIP this node takes part in (candidate or acceptor only), with its
// lease group. Rendered from the node's desired state by apply (pure) into <state>/vipd.json (0600:
// it holds the secrets), read by `vpcctl vipd` at start and on SIGHUP.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "vpcctl/base/result.h"
#include "vpcctl/model/fabric.h"
#include "vpcctl/net/ip.h"
#include "vpcctl/plan/state.h"

namespace vpcctl::vipd {

inline constexpr int kConfigFormat = 1;

struct PeerConfig {
  std::string node;
  std::vector<net::IpAddress> addresses;  // first: where it is reached; all: accepted sources
  bool acceptor = true;
  int rank = -1;  // candidate rank; -1: not a candidate
  bool operator==(const PeerConfig&) const = default;
};

struct VipConfig {
  std::string vpc;
  std::string bridge;      // where the address goes; empty on a witness outside the VPC
  net::IpAddress address;  // the VIP
  int prefix = 32;         // of the peer network (the VIP is added with it)
  int vhid = 0;
  std::string secret;
  int lease_ms = model::kDefaultLeaseMs;
  bool preempt = true;
  std::string check;       // empty: none
  bool unsafe_two_node = false;
  int rank = -1;           // this node's candidate rank; -1: acceptor only
  bool acceptor = true;    // this node grants leases for this VIP
  int advert_ms = 0;       // CARP's advertisement interval (FreeBSD)
  net::IpAddress local;    // this node's address for this VIP's messages
  std::vector<PeerConfig> peers;  // the other nodes of the group
  // Acceptors in the group, this node included when it is one; a lease needs a majority of them
  // (or 1 of 2 with unsafe_two_node).
  size_t acceptors = 0;
  size_t Quorum() const { return unsafe_two_node && acceptors == 2 ? 1 : acceptors / 2 + 1; }
  bool Candidate() const { return rank >= 0; }
  std::string Key() const { return vpc + "/" + std::to_string(vhid); }
  bool operator==(const VipConfig&) const = default;
};

struct Config {
  std::string node;
  model::Platform platform = model::Platform::kLinux;
  int port = model::kVipdPort;
  std::vector<VipConfig> vips;
  bool operator==(const Config&) const = default;
};

std::string ConfigPath(const std::string& state_dir);   // <state>/vipd.json
std::string SocketPath(const std::string& state_dir);   // <state>/vipd.sock (control)
std::string PidfilePath(const std::string& state_dir);  // <state>/vipd.pid
std::string LogPath(const std::string& state_dir);      // <state>/vipd.log

// The configuration of the node's desired state; no VIPs: an empty config (vipd not wanted).
Config ConfigFor(const plan::Desired& d);
std::string ConfigToJson(const Config& c);
// Strict, like every reader of node input: types, ranges, unknown keys refused.
Result<Config> ParseConfig(std::string_view text);

}  // namespace vpcctl::vipd
