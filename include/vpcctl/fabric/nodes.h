// `vpcctl node add` (enrolment over SSH), `node list`, `node show` and `node remove`.
#pragma once

#include <string>
#include <vector>

#include "vpcctl/base/result.h"
#include "vpcctl/fabric/context.h"

namespace vpcctl::fabric {

struct NodeAddOptions {
  std::string name;
  std::string address;  // where SSH reaches the node
  std::vector<std::string> underlay;
  // Behind 1:1 NAT: the addresses the node has (one per family), where its tunnels start; the
  // underlay addresses are then its public ones. Default: detected at enrolment.
  std::vector<std::string> local_address;
  std::string port = "22";
  std::string user = "root";
  std::string mtu;       // default: detected (1500 with --no-connect)
  std::string platform;  // --no-connect: required; otherwise detected
  bool no_connect = false;
  std::string identity;       // private key to authenticate with before ours is installed
  std::string password_file;  // first line is the password
  std::string fingerprint;    // expected SHA256:... of the host key on first contact
  bool yes = false;           // accept the host key on first contact
  std::string remote_vpcctl;  // path of vpcctl on the node
  std::string timeout = "5";  // connect timeout, seconds
  bool json = false;
};
// Registers a node; unless --no-connect, enrols it over SSH (pins its host key, installs our public
// key, detects platform, MTU and vpcctl). Running it again for the same node re-enrols it.
Status NodeAdd(Context& ctx, const NodeAddOptions& o);

// Changes a node's addresses, SSH port or user, or underlay MTU in place: nothing is renumbered
// (VNIs, overlay addresses, VIPs stay) and the next deploy applies it everywhere. Empty fields
// stay as they are. A node reached at a new endpoint must present its pinned host key; --repin
// pins a new one (a reinstalled host) under enrolment's rules (--fingerprint, --yes, terminal).
struct NodeUpdateOptions {
  std::string name;
  std::vector<std::string> underlay;
  std::vector<std::string> local_address;  // "auto": detect again (a login)
  std::string address;
  std::string port;
  std::string user;
  std::string mtu;
  bool repin = false;
  std::string identity;       // as node add: to log in before our key is back on a reinstalled host
  std::string password_file;
  std::string fingerprint;
  bool yes = false;
  std::string timeout = "5";
  bool json = false;
};
Status NodeUpdate(Context& ctx, const NodeUpdateOptions& o);

Status NodeList(Context& ctx, bool json);
Status NodeShow(Context& ctx, const std::string& name, bool json);
Status NodeRemove(Context& ctx, const std::string& name, bool force, bool json = false);

// Sets `node`'s underlay addresses from the texts given (init --address, node add --underlay):
// unicast, at most one of each family; each refused text is reported into `problems`.
void ParseUnderlayAddresses(const std::vector<std::string>& given, model::Node& node,
                            Problems& problems);

}  // namespace vpcctl::fabric
