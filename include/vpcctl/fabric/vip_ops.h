// Virtual IPs: the controller's `vip add/set/list/show/move/remove`, and what runs on nodes:
// `vip-event` (called by vipd on lease transitions and by FreeBSD's devd). vipd itself is
// vipd/daemon.h.
#pragma once

#include <string>
#include <vector>

#include "vpcctl/base/result.h"
#include "vpcctl/fabric/context.h"
#include "vpcctl/fabric/deploy.h"
#include "vpcctl/fabric/hooks.h"

namespace vpcctl::fabric {

struct VipAddOptions {
  std::string vpc;
  std::string address;
  std::string vhid;
  std::string nodes;  // a,b[,c...]: the candidates, preferred first
  std::string advert;  // milliseconds
  std::string password_file;
  bool no_preempt = false;
  std::string lease;    // milliseconds; empty: model::kDefaultLeaseMs
  std::string check;    // service check; empty: none
  std::string witness;  // empty: none
  bool unsafe_two_node = false;
  bool json = false;  // print the VIP as `vip list --json` does (secret redacted)
};
// Adds the VIP (exit 2 naming every bad value, nothing changed). A check must be an absolute
// path; when this node is a candidate, an executable file here.
Status VipAdd(Context& ctx, const VipAddOptions& o);

// `vip set VPC VIP ...`: changes the VIP in place; what is not given stays. Same rules as add.
struct VipSetOptions {
  std::string vpc;
  std::string vip;  // address or vhid
  std::string lease;
  std::string check;
  bool no_check = false;
  bool preempt = false, no_preempt = false;
  std::string nodes;
  std::string advert;
  std::string witness;
  bool no_witness = false;
  bool unsafe_two_node = false, safe = false;
  bool json = false;
};
Status VipSet(Context& ctx, const VipSetOptions& o);

Status VipList(Context& ctx, const std::string& vpc, bool json, bool show_secrets);

// The VIP's settings, and from each member of its VPC (over SSH, `status --local`) its view of
// the lease (holder, epoch, time left) and its recent transitions.
struct VipShowOptions : FanOutOptions {
  std::string vpc;
  std::string vip;
  bool show_secrets = false;
};
Status VipShow(Context& ctx, const VipShowOptions& o);

// `vip move VPC VIP --to NODE`: NODE (a candidate) takes the lease over at once (`vpcctl vip-take
// VPC VHID --json` there). Exit 2 for a NODE that is not a candidate, 4 when the take failed.
struct VipMoveOptions : FanOutOptions {
  std::string vpc;
  std::string vip;
  std::string to;
};
Status VipMove(Context& ctx, const VipMoveOptions& o);

Status VipRemove(Context& ctx, const std::string& vpc, const std::string& vip,
                 bool json = false);

// vip-event lease VPC VHID STATE (vipd): records the transition, then runs hooks.d detached (see
// hooks.h) and returns without waiting for them. vip-event carp VHID@VPC STATE (FreeBSD's devd):
// CARP changed state by itself; vipd puts it back where the lease says (no hooks: vipd's lease
// transitions are the VIP's).
Status VipEvent(Context& ctx, const std::vector<std::string>& args, const HookLimits& limits = {});

}  // namespace vpcctl::fabric
