// `vpcctl vpc init`, `vpc list`, `vpc show`, `vpc member add` and `remove`, `vpc delete`: VPCs in
// the controller's state (deploy.h carries them to the nodes).
#pragma once

#include <string>

#include "vpcctl/base/result.h"
#include "vpcctl/fabric/context.h"

namespace vpcctl::fabric {

struct VpcInitOptions {
  std::string name;
  std::string peer_network;
  std::string members;  // "all" or "a,b,c"
  std::string family = "auto";
  std::string mtu;
  std::string port = "4789";
  std::string max_jails;
  std::string max_vms;
  bool plain = false;      // tunnels over the underlay directly (one trusted site)
  bool encrypted = false;  // the default, said explicitly
  bool json = false;
};
Status VpcInit(Context& ctx, const VpcInitOptions& o);
Status VpcList(Context& ctx, bool json);
Status VpcShow(Context& ctx, const std::string& name, bool json);
// The changing commands print what they did, or with `json` the same as one JSON object (with
// the fabric's new generation).
Status VpcMemberAdd(Context& ctx, const std::string& vpc, const std::string& node,
                    bool json = false);
Status VpcMemberRemove(Context& ctx, const std::string& vpc, const std::string& node,
                       bool json = false);
Status VpcDelete(Context& ctx, const std::string& name, bool json = false);

// Changes a VPC in place (empty: kept): nothing is renumbered, and the next deploy makes the
// tunnels again where the port or MTU changed. `mtu` "auto" goes back to the derived MTU.
struct VpcSetOptions {
  std::string name;
  std::string mtu;
  std::string port;
  std::string max_jails;
  std::string max_vms;
  bool json = false;
};
Status VpcSet(Context& ctx, const VpcSetOptions& o);

}  // namespace vpcctl::fabric
