// Virtual IPs: the controller's `vip add/list/show/remove`, and what runs on nodes: `vip-event`
// (called by keepalived's notify and FreeBSD's devd), `vip-health` (keepalived's quorum
// track_script) and `vip-watch` (FreeBSD's CARP demotion loop).
#pragma once

#include <string>
#include <vector>

#include "vpcctl/base/result.h"
#include "vpcctl/fabric/context.h"
#include "vpcctl/fabric/hooks.h"

namespace vpcctl::fabric {

struct VipAddOptions {
  std::string vpc;
  std::string address;
  std::string vhid;
  std::string nodes;  // a,b[,c...]: preference order
  std::string advert;  // milliseconds
  std::string password_file;
  bool no_preempt = false;
};
Status VipAdd(Context& ctx, const VipAddOptions& o);
Status VipList(Context& ctx, const std::string& vpc, bool json, bool show_secrets);
// The VIP's settings, and from each node of its group (over SSH) its state and recent transitions.
Status VipShow(Context& ctx, const std::string& vpc, const std::string& vip, bool json,
               bool show_secrets);
Status VipRemove(Context& ctx, const std::string& vpc, const std::string& vip);

// vip-event vrrp INSTANCE NAME STATE [PRIORITY] | vip-event carp VHID@IF STATE: records the
// transition, then runs hooks.d detached (see hooks.h) and returns without waiting for them.
Status VipEvent(Context& ctx, const std::vector<std::string>& args, const HookLimits& limits = {});
// Exit 0 when this node reaches a majority of the VPC's members through the overlay.
Status VipHealth(Context& ctx, const std::string& vpc);
// Loops: demotes CARP (net.inet.carp.demotion) while a VPC with VIPs on this node lacks quorum.
Status VipWatch(Context& ctx, int rounds);

}  // namespace vpcctl::fabric
