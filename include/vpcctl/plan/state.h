// Desired and observed interface state of one node. Both are plain values: the desired state is
// computed from the fabric (pure), the observed state is parsed from probe output by a platform
// driver (pure); plan/diff.h turns the pair into steps.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "vpcctl/base/result.h"
#include "vpcctl/model/attachment.h"
#include "vpcctl/model/fabric.h"
#include "vpcctl/net/ip.h"

namespace vpcctl::plan {

// Interfaces vpcctl creates carry this marker (FreeBSD description, Linux ifalias) followed by
// the VPC name: "vpcctl:vpc1".
inline constexpr std::string_view kOwnerPrefix = "vpcctl:";
std::string OwnerTag(std::string_view vpc);
// The VPC named by an owner tag, or empty when the tag is not ours.
std::string_view OwnerVpc(std::string_view tag);

struct DesiredTunnel {
  std::string ifname;  // vx<VNI>
  uint32_t vni = 0;
  net::IpAddress local;
  net::IpAddress remote;
  int port = model::kDefaultVxlanPort;
  std::string peer;  // the node at the other end
};

// A VIP this node takes part in.
struct DesiredVip {
  net::IpAddress address;
  int vhid = 0;
  int rank = 0;  // 0 = preferred master
  int advert_ms = 0;
  bool preempt = true;
  std::string secret;
  std::vector<net::IpAddress> peers;  // overlay addresses of the other nodes of the group
};

struct DesiredVpc {
  std::string vpc;     // VPC name = bridge name
  uint32_t vpc_id = 0;
  int mtu = 0;
  net::IfAddress address;  // this node's overlay address, on the bridge
  std::vector<DesiredTunnel> tunnels;
  std::vector<net::IpAddress> keep_addresses;  // addresses others manage on the bridge (VIPs)
  std::vector<DesiredVip> vips;                // VIP groups this node belongs to
  size_t members = 0;                          // for the majority rule of VIP health
};

// A file vpcctl maintains (daemon configurations), and what to run when it changes.
struct DesiredFile {
  std::string path;
  std::string content;
  unsigned mode = 0600;
  std::vector<std::string> on_change;  // argv run after rewriting it; empty: nothing
};

// A daemon vpcctl keeps running while the node has VIPs (keepalived; FreeBSD's VIP watcher).
struct DesiredDaemon {
  std::string name;
  std::string pidfile;
  std::string config;                  // its configuration file (reload when it changes)
  std::vector<std::string> start;      // argv that starts it in the background
  std::vector<std::string> stale;      // files to clear before starting it (dead pid files)
  bool reload_on_hup = true;           // else a changed config restarts it
};

// A guest recorded on this node, on a VPC the node still has.
struct DesiredAttachment {
  model::Attachment record;
  int mtu = 0;
};

struct Desired {
  std::string node;
  model::Platform platform = model::Platform::kLinux;
  std::vector<DesiredVpc> vpcs;
  std::vector<DesiredFile> files;
  std::vector<DesiredDaemon> daemons;
  bool kernel_vips = false;  // VIPs are interface addresses the diff manages (FreeBSD CARP)
  std::vector<DesiredAttachment> attachments;
  // Records of guests on VPCs this node no longer has (their interfaces go, then the records).
  std::vector<model::Attachment> orphans;
};

// The node's part of the fabric: every VPC it is a member of (or just `only_vpc`).
Result<Desired> DesiredFor(const model::Fabric& fabric, std::string_view node,
                           std::string_view only_vpc = {});

enum class IfKind { kOther, kVxlan, kBridge };

struct ObservedVip {
  net::IpAddress address;
  int vhid = 0;
  int advbase = 0;   // seconds (CARP)
  int advskew = -1;
  std::string state;  // MASTER / BACKUP / INIT, when the platform reports it
};

struct ObservedInterface {
  std::string name;
  int ifindex = 0;
  IfKind kind = IfKind::kOther;
  int mtu = 0;
  bool up = false;
  std::string owner;  // ifalias / description
  // vxlan
  std::optional<uint32_t> vni;
  std::optional<net::IpAddress> local;
  std::optional<net::IpAddress> remote;
  int port = 0;
  // bridge membership of this interface
  std::string master;
  bool isolated = false;  // Linux isolated / FreeBSD private
  std::vector<net::IfAddress> addresses;
  std::vector<ObservedVip> vips;  // CARP addresses (FreeBSD)
};

struct Observed {
  std::vector<ObservedInterface> interfaces;
  std::map<std::string, std::string> files;  // path -> content, for the desired files that exist
  std::map<std::string, bool> daemons;       // name -> running
  std::set<std::string> netns;               // Linux network namespaces that exist
  const ObservedInterface* Find(std::string_view name) const;
  ObservedInterface* Find(std::string_view name);
};

}  // namespace vpcctl::plan
