// The controller's operations on the local fabric: one function per command, each taking the
// command's options as given on the command line (numbers as text, so that every bad value gets
// a message naming it) and returning a Status that main() turns into an exit code.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "vpcctl/base/result.h"
#include "vpcctl/fabric/context.h"
#include "vpcctl/plan/state.h"

namespace vpcctl::fabric {

struct InitOptions {
  std::string name;
  std::vector<std::string> addresses;
  std::string vni_range;  // "LO-HI"; empty: default
  std::string mtu;        // empty: detected from the interface holding the first address
  std::string transport_network;  // empty: model::kDefaultTransportNetwork
  std::string wireguard_port;     // empty: model::kDefaultWgPort
  bool json = false;
};
Status Init(Context& ctx, const InitOptions& o);

struct NodeAddOptions {
  std::string name;
  std::string address;  // where SSH reaches the node
  std::vector<std::string> underlay;
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

struct NodeCheckOptions {
  std::vector<std::string> names;  // empty: every node
  std::string timeout = "5";
  bool json = false;
};
// Reachability, host key, authentication, remote vpcctl and round trip of each node, in parallel.
Status NodeCheck(Context& ctx, const NodeCheckOptions& o);
Status NodeList(Context& ctx, bool json);
Status NodeShow(Context& ctx, const std::string& name, bool json);
Status NodeRemove(Context& ctx, const std::string& name, bool force, bool json = false);

// The session keeper of this controller (ssh/keeper.h): serve (what --persist starts), list what
// it holds, close its sessions and stop it.
Status ConnectionsServe(Context& ctx, std::chrono::milliseconds idle);
Status ConnectionsList(Context& ctx, bool json);
Status ConnectionsClose(Context& ctx);

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

struct PlanOptions {
  std::string vpc;
  std::string node;  // empty: the local node
  bool json = false;
  bool show_secrets = false;
};
// The commands that build the node's part of the VPC from nothing.
Status Plan(Context& ctx, const PlanOptions& o);
// FreeBSD rc.conf lines for every VPC of the node.
Status RenderRcConf(Context& ctx, const std::string& node, bool show_secrets);

// The state database's invariants: integrity, foreign keys (no orphan rows), the fabric's rules
// (unique VNIs and addresses, full meshes, ...). Empty when all hold.
Result<std::vector<std::string>> FindStateProblems(store::Store& db);
Status StateCheck(Context& ctx, bool json);

// linux or freebsd, from uname.
Result<model::Platform> LocalPlatform();

// Sets `node`'s underlay addresses from the texts given (init --address, node add --underlay):
// unicast, at most one of each family; each refused text is reported into `problems`.
void ParseUnderlayAddresses(const std::vector<std::string>& given, model::Node& node,
                            Problems& problems);

// The MTU of the interface holding `address` in probe output, if any.
std::optional<int> MtuOfAddress(const plan::Observed& observed, const net::IpAddress& address);

// The underlay MTU to record for one detected on the interface holding `where` ("ADDRESS on
// NODE"): above 65535 (Linux `lo` reports 65536) it is clamped to 65535 with a warning naming
// the value; below 576 it is refused.
Result<int> UsableDetectedMtu(Context& ctx, int detected, const std::string& where);

}  // namespace vpcctl::fabric
