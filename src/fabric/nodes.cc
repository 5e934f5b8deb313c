// vpcctl node add/list/show/remove.
#include "vpcctl/fabric/nodes.h"

#include <algorithm>
#include <functional>
#include <ostream>

#include "vpcctl/alloc/alloc.h"
#include "vpcctl/base/text.h"
#include "vpcctl/exec/files.h"
#include "vpcctl/fabric/format.h"
#include "vpcctl/fabric/init.h"
#include "vpcctl/fabric/remote.h"
#include "vpcctl/model/map.h"
#include "vpcctl/model/names.h"
#include "vpcctl/platform/driver.h"
#include "vpcctl/ssh/keys.h"

namespace vpcctl::fabric {

namespace {

// Parses --underlay values (at most one per family); with none, ADDRESS itself when it is an IP.
void ParseUnderlay(const NodeAddOptions& o, model::Node& node, Problems& problems) {
  std::vector<std::string> given = o.underlay;
  if (given.empty()) {
    if (!net::IpAddress::Parse(o.address).ok()) {
      if (model::ValidateHost(o.address).ok()) {
        problems.Add(UsageError("address " + Quoted(o.address) +
                                " is a name, not an IP address; give the node's underlay "
                                "addresses with --underlay"));
      }
      return;
    }
    given.push_back(o.address);
  }
  ParseUnderlayAddresses(given, node, problems);
}

// Refuses a node whose name (at another address), SSH endpoint or underlay address another node
// already has. The same node at the same endpoint is a re-enrolment; with `moving` (node update)
// the same node may be at another endpoint.
void CheckUnique(const model::Fabric& f, const model::Node& node, Problems& problems,
                 bool moving) {
  for (const auto& other : f.nodes) {
    if (other.name == node.name) {
      if (!moving && (other.ssh_host != node.ssh_host || other.ssh_port != node.ssh_port)) {
        problems.Add(UsageError("node " + Quoted(node.name) + " already exists (at " +
                                other.ssh_host + " port " + std::to_string(other.ssh_port) +
                                "); remove it first to move it"));
      }
      continue;
    }
    if (other.ssh_host == node.ssh_host && other.ssh_port == node.ssh_port) {
      problems.Add(UsageError("address " + node.ssh_host + " port " +
                              std::to_string(node.ssh_port) + " is already node " +
                              Quoted(other.name)));
    }
    for (const auto* a : {&node.underlay4, &node.underlay6}) {
      if (*a && (*a == other.underlay4 || *a == other.underlay6)) {
        problems.Add(UsageError("underlay address " + (*a)->ToString() +
                                " already belongs to node " + Quoted(other.name)));
      }
    }
  }
}

// A node in a VPC keeps its underlay addresses: its tunnels are built on them.
Status CheckUnderlayKept(const model::Fabric& f, const model::Node& node) {
  const model::Node* old = f.FindNode(node.name);
  if (!old || (old->underlay4 == node.underlay4 && old->underlay6 == node.underlay6)) return {};
  for (const auto& v : f.vpcs) {
    if (v.HasMember(node.name)) {
      return UsageError("node " + Quoted(node.name) + " is a member of VPC " + Quoted(v.name) +
                        "; its underlay addresses (" + UnderlayText(*old) +
                        ") cannot change while it is");
    }
  }
  return {};
}

// Records the node (and re-derives the MTU of its VPCs), in the session's transaction.
Status SaveNode(Session& s, const model::Node& node) {
  model::Fabric next = s.fabric;
  if (model::Node* existing = next.FindNode(node.name)) {
    *existing = node;
  } else {
    next.nodes.push_back(node);
  }
  VPC_TRY(s.store().SaveNode(node));
  for (const auto& v : next.vpcs) {
    if (!v.HasMember(node.name)) continue;
    VPC_TRY(alloc::RefreshMtu(next, v.name));
    VPC_TRY(s.store().SaveVpc(*next.FindVpc(v.name)));
  }
  return {};
}

enum class PinRule { kForAddress, kNodesOwn, kAskAgain };

struct Enrolment {
  ssh::HostKey host_key;
  std::string fingerprint;
  std::string auth;
  bool key_added = false;
};

// The host key check of a first contact: the key is shown, then confirmed by --fingerprint,
// --yes or the terminal; the confirmed key goes to `confirmed`. Nothing is sent before it.
ssh::HostKeyCheck FirstContactCheck(Context& ctx, const NodeAddOptions& o, const std::string& where,
                                    std::optional<ssh::HostKey>& confirmed) {
  return [&ctx, &o, where, &confirmed](const ssh::HostKey& presented) -> Status {
    VPC_ASSIGN_OR_RETURN(std::string fp, ssh::Fingerprint(presented.Line()));
    ctx.io.Info("first contact with " + where + ": host key " + presented.type + " " + fp);
    if (!o.fingerprint.empty()) {
      if (o.fingerprint != fp) {
        return Failure("the host key of " + where + " is " + fp + ", not the " + o.fingerprint +
                       " given with --fingerprint; nothing was sent");
      }
    } else if (!o.yes) {
      if (!ctx.term.Interactive()) {
        return UsageError("first contact with " + where + ": confirm its host key with " +
                          "--fingerprint " + fp +
                          " (after checking it on the host) or accept it with --yes; nothing "
                          "was sent");
      }
      VPC_ASSIGN_OR_RETURN(bool yes, ctx.term.Confirm("Trust this host key?"));
      if (!yes) return UsageError("host key of " + where + " not accepted; nothing was sent");
    }
    confirmed = presented;
    return {};
  };
}

// The password of a first contact: from --password-file, else asked on the terminal, else none.
ssh::PasswordSource PasswordOf(Context& ctx, const NodeAddOptions& o, const model::Node& node) {
  std::string prompt = "Password for " + node.ssh_user + "@" + node.ssh_host + ": ";
  return [&ctx, &o, prompt]() -> Result<std::optional<std::string>> {
    if (!o.password_file.empty()) {
      VPC_ASSIGN_OR_RETURN(std::string pw, exec::ReadSecretFile(o.password_file, "password file"));
      return std::optional<std::string>(pw);
    }
    if (!ctx.term.Interactive()) return std::optional<std::string>();
    VPC_ASSIGN_OR_RETURN(std::string pw, ctx.term.ReadSecret(prompt));
    return std::optional<std::string>(pw);
  };
}

// A command on the enrolment's connection.
using RunRemote = std::function<Result<ssh::RemoteResult>(std::vector<std::string>)>;

// Installs our public key in the node's authorized_keys; true when it was not there yet.
Result<bool> InstallOurKey(Context& ctx, ssh::Connection& conn, const std::string& local_node,
                           const model::Node& node, std::chrono::milliseconds timeout) {
  VPC_ASSIGN_OR_RETURN(std::string ours, ctx.Machine().ReadFile(ctx.paths.public_key()));
  auto words = Split(std::string(Trim(ours)), ' ');
  if (words.size() < 2) return Failure("cannot read our public key " + ctx.paths.public_key());
  VPC_ASSIGN_OR_RETURN(auto install,
                       ssh::RemoteCommand::Script({words[0], words[1], "vpcctl@" + local_node}));
  VPC_ASSIGN_OR_RETURN(auto installed, conn.Run(install, false, kInstallKeyScript, timeout * 4));
  if (!installed.ok()) {
    return Failure("node " + Quoted(node.name) + ": cannot install our key in ~/.ssh/" +
                   "authorized_keys: " + Printable(Trim(installed.err), 512));
  }
  return Trim(installed.out) == "added";
}

// The node's platform, from `uname -s`.
Status DetectPlatform(const RunRemote& run, model::Node& node) {
  VPC_ASSIGN_OR_RETURN(auto uname, run({"uname", "-s"}));
  std::string sys(Trim(uname.out));
  if (auto p = model::PlatformOfSystem(sys)) {
    node.platform = *p;
  } else {
    return Failure("node " + Quoted(node.name) + " runs " + Quoted(sys) +
                   "; vpcctl supports Linux and FreeBSD");
  }
  return {};
}

// The node's interfaces, as its platform's probe lists them; nullopt when the probe fails.
std::optional<plan::Observed> ProbeRemote(const RunRemote& run, const model::Node& node) {
  const auto& driver = platform::DriverFor(node.platform);
  std::vector<std::string> outputs;
  for (const auto& argv : driver.ProbeCommands()) {
    auto r = run(argv);
    if (!r || !r->ok()) return std::nullopt;
    outputs.push_back(r->out);
  }
  auto observed = driver.ParseProbe(outputs);
  if (!observed) return std::nullopt;
  return std::move(*observed);
}

// Behind 1:1 NAT an underlay address is on none of the node's interfaces: it is the public one.
// The local address is then the source of the node's route toward it (out through the NAT, as
// toward any peer). A local address given (--local-address) is kept, with a warning when the node
// does not have it.
void DetectNat(Context& ctx, const RunRemote& run, const plan::Observed& observed,
               model::Node& node) {
  const auto& driver = platform::DriverFor(node.platform);
  for (net::Family fam : {net::Family::kV4, net::Family::kV6}) {
    auto& local = fam == net::Family::kV4 ? node.local4 : node.local6;
    const auto& underlay = node.Underlay(fam);
    if (local) {
      if (!platform::HasAddress(observed, *local)) {
        ctx.io.Warn("the local address " + local->ToString() + " is on none of " + node.name +
                    "'s interfaces; apply will look for the one its route takes");
      }
      continue;
    }
    if (!underlay || platform::HasAddress(observed, *underlay)) continue;
    auto r = run(driver.RouteProbe(*underlay));
    if (r && r->ok()) local = driver.ParseRouteSource(r->out, observed, fam);
    if (!local) {
      ctx.io.Warn("the underlay address " + underlay->ToString() + " is on none of " + node.name +
                  "'s interfaces and its route gives no source address; if the node is behind " +
                  "NAT, give the address it has with --local-address");
    }
  }
}

// The underlay MTU: that of the interface holding the SSH address, else an underlay or local
// address, as the platform's probe lists them; 1500 with a warning when none is found.
Status DetectMtu(Context& ctx, const std::optional<plan::Observed>& observed, model::Node& node) {
  std::optional<int> mtu;
  if (observed) {
    auto at = net::IpAddress::Parse(node.ssh_host);
    if (at) mtu = MtuOfAddress(*observed, *at);
    for (const auto* u : {&node.underlay4, &node.underlay6, &node.local4, &node.local6})
      if (!mtu && *u) mtu = MtuOfAddress(*observed, **u);
  }
  if (!mtu) {
    ctx.io.Warn("could not find the interface holding " + node.ssh_host + " on " + node.name +
                "; assuming an underlay MTU of 1500 (set it with --mtu)");
    return {};
  }
  std::string holder = node.ssh_host + " on " + node.name;
  VPC_ASSIGN_OR_RETURN(node.mtu, UsableDetectedMtu(ctx, *mtu, holder));
  return {};
}

// The version of vpcctl on the node, or a warning saying why there is none.
void DetectVersion(Context& ctx, const RunRemote& run, model::Node& node) {
  auto version = run(RemoteVpcctl(node, {"--version"}));
  auto parsed = version && version->ok() ? ParseVersion(version->out) : std::nullopt;
  node.remote_version = parsed.value_or("");
  if (parsed) return;
  if (version && version->ok()) {
    ctx.io.Warn("vpcctl on " + node.name + " answered --version with '" +
                Printable(Trim(version->out), 64) + "', not a version");
    return;
  }
  ctx.io.Warn(
      "vpcctl was not found on " + node.name +
      (node.remote_vpcctl.empty() ? std::string(" (not on PATH)") : " at " + node.remote_vpcctl) +
      "; deploying to this node will need it: install it there, or give --remote-vpcctl PATH");
}

// Reconnects with our key alone, which both proves key authentication now works and reads the
// presented key under the same check: only `confirmed` passes. Returns the key to pin.
Result<ssh::HostKey> VerifyWithOurKey(Context& ctx, const model::Node& node,
                                      const std::optional<ssh::HostKey>& confirmed,
                                      const std::string& where, std::chrono::milliseconds timeout) {
  ssh::HostKey presented;
  ssh::ConnectSpec again;
  again.endpoint = EndpointOf(node);
  again.timeout = timeout;
  again.identities = {ctx.paths.private_key()};
  again.check_host_key = [&](const ssh::HostKey& k) -> Status {
    presented = k;
    if (confirmed && *confirmed == k) return {};
    auto fp = ssh::Fingerprint(k.Line());
    auto want = confirmed ? ssh::Fingerprint(confirmed->Line()) : Result<std::string>(Failure(""));
    return Failure("the second connection to " + where + " presented host key " +
                   (fp ? *fp : std::string("?")) + ", not the " +
                   (want ? *want : std::string("?")) +
                   " confirmed on the first: something between us and the node is answering "
                   "for it. Nothing was pinned; check the path to the node before retrying");
  };
  auto verify = ctx.ssh.Connect(again);
  if (!verify) {
    return Failure("node " + Quoted(node.name) + ": our key was installed, but logging in with " +
                   "it failed: " + verify.error().message +
                   " (check PubkeyAuthentication and AuthorizedKeysFile in its sshd_config)");
  }
  return presented;
}

// The host key a node that moved must still present: its pinned one, wherever it is now.
ssh::HostKeyCheck SameKeyCheck(const model::Node& node, const ssh::HostKey& pinned,
                               const std::string& where) {
  return [name = node.name, pinned, where](const ssh::HostKey& presented) -> Status {
    if (presented == pinned) return {};
    auto old_fp = ssh::Fingerprint(pinned.Line());
    auto new_fp = ssh::Fingerprint(presented.Line());
    return Failure("the host at " + where + " presented host key " +
                   (new_fp ? *new_fp : std::string("?")) + ", not node " + Quoted(name) +
                   "'s pinned " + (old_fp ? *old_fp : std::string("?")) +
                   "; nothing was sent and nothing changed. If the node was reinstalled, add "
                   "--repin");
  };
}

// Connects on first contact or re-enrolment (the pinned key, or one confirmed now), installs our
// key, detects platform, MTU (with `detect_mtu`) and vpcctl, then reconnects with our key and
// pins the host key. `pin` says which key is accepted without asking: the one pinned for the
// address (node add), the node's own wherever it now is (node update), or none (--repin).
Result<Enrolment> Enrol(Context& ctx, const NodeAddOptions& o, const std::string& local_node,
                        std::chrono::milliseconds timeout, model::Node& node, bool detect_mtu,
                        PinRule pin = PinRule::kForAddress, const model::Node* before = nullptr) {
  VPC_ASSIGN_OR_RETURN(auto pins, ssh::LoadKnownHosts(ctx.paths.known_hosts()));
  std::string where = node.ssh_host + " port " + std::to_string(node.ssh_port);
  // The key the first connection presented and the user confirmed (or the pinned one): the only
  // key any later connection of this enrolment accepts.
  std::optional<ssh::HostKey> confirmed;
  ssh::ConnectSpec spec;
  spec.endpoint = EndpointOf(node);
  spec.timeout = timeout;
  if (pin == PinRule::kForAddress) {
    confirmed = pins.Find(node.ssh_host, node.ssh_port);
    if (confirmed) spec.check_host_key = PinnedCheck(pins, node);
  } else if (pin == PinRule::kNodesOwn && before) {
    if (auto k = ssh::ParseHostKey(before->host_key)) {
      confirmed = *k;
      spec.check_host_key = SameKeyCheck(node, *k, where);
    }
  }
  if (!confirmed) spec.check_host_key = FirstContactCheck(ctx, o, where, confirmed);
  spec.identities = {ctx.paths.private_key()};
  if (!o.identity.empty()) spec.identities.push_back(o.identity);
  spec.password = PasswordOf(ctx, o, node);
  auto conn = ctx.ssh.Connect(spec);
  if (!conn) {
    Error err = conn.take_error();
    if (err.kind == ssh::kErrAuth && o.password_file.empty() && o.identity.empty() &&
        !ctx.term.Interactive()) {
      err.message += "; on first contact give --password-file FILE or --identity FILE";
    }
    return err;
  }
  Enrolment e;
  e.auth = (*conn)->auth_method();
  VPC_ASSIGN_OR_RETURN(e.key_added, InstallOurKey(ctx, **conn, local_node, node, timeout));
  RunRemote run = [&](std::vector<std::string> argv) -> Result<ssh::RemoteResult> {
    VPC_ASSIGN_OR_RETURN(auto cmd, ssh::RemoteCommand::Make(std::move(argv)));
    return (*conn)->Run(cmd, false, "", timeout * 4);
  };
  VPC_TRY(DetectPlatform(run, node));
  auto observed = ProbeRemote(run, node);
  if (observed) DetectNat(ctx, run, *observed, node);
  if (detect_mtu) VPC_TRY(DetectMtu(ctx, observed, node));
  DetectVersion(ctx, run, node);
  conn->reset();
  VPC_ASSIGN_OR_RETURN(e.host_key, VerifyWithOurKey(ctx, node, confirmed, where, timeout));
  VPC_ASSIGN_OR_RETURN(e.fingerprint, ssh::Fingerprint(e.host_key.Line()));
  if (before && (before->ssh_host != node.ssh_host || before->ssh_port != node.ssh_port)) {
    pins.Forget(before->ssh_host, before->ssh_port);  // the node no longer answers there
  }
  pins.Pin(node.ssh_host, node.ssh_port, e.host_key);
  VPC_TRY(ssh::SaveKnownHosts(ctx.paths.known_hosts(), pins));
  node.host_key = e.host_key.Line();
  node.last_check = UtcNow() + " ok";
  return e;
}

}  // namespace

void ParseUnderlayAddresses(const std::vector<std::string>& given, model::Node& node,
                            Problems& problems) {
  for (const auto& text : given) {
    auto a = net::IpAddress::Parse(text);
    if (!a) {
      problems.Add(UsageError("invalid underlay address " + Quoted(text)));
      continue;
    }
    if (a->IsMulticast() || a->IsUnspecified()) {
      problems.Add(
          UsageError("invalid underlay address " + Quoted(text) + ": must be a unicast address"));
      continue;
    }
    auto& slot = a->is_v4() ? node.underlay4 : node.underlay6;
    if (slot) {
      problems.Add(UsageError("two " + std::string(net::FamilyName(a->family())) +
                              " underlay addresses given (" + slot->ToString() + ", " +
                              a->ToString() + "): a node has at most one of each family"));
      continue;
    }
    slot = *a;
  }
}

void ParseLocalAddresses(const std::vector<std::string>& given, model::Node& node,
                         Problems& problems) {
  for (const auto& text : given) {
    auto a = net::IpAddress::Parse(text);
    if (!a || a->IsMulticast() || a->IsUnspecified()) {
      problems.Add(
          UsageError("invalid --local-address " + Quoted(text) + ": must be a unicast IP address"));
      continue;
    }
    std::string fam(net::FamilyName(a->family()));
    const auto& underlay = node.Underlay(a->family());
    auto& slot = a->is_v4() ? node.local4 : node.local6;
    if (!underlay) {
      problems.Add(UsageError("--local-address " + a->ToString() + ": node " + Quoted(node.name) +
                              " has no " + fam + " underlay address for it to stand for"));
    } else if (*underlay == *a) {
      problems.Add(UsageError("--local-address " + a->ToString() + " is the underlay address " +
                              "itself; give the address the node has behind its NAT"));
    } else if (slot) {
      problems.Add(UsageError("two " + fam + " local addresses given (" + slot->ToString() + ", " +
                              a->ToString() + "): a node has at most one of each family"));
    } else {
      slot = *a;
    }
  }
}

namespace {

// The node the options describe (nothing connected yet); each bad value is reported.
model::Node NodeOf(const NodeAddOptions& o, Problems& problems) {
  problems.Add(model::ValidateNodeName(o.name));
  problems.Add(model::ValidateHost(o.address));
  problems.Add(model::ValidatePortText(o.port));
  problems.Add(model::ValidateUserName(o.user));
  model::Node node;
  node.name = o.name;
  node.ssh_host = o.address;
  if (auto a = net::IpAddress::Parse(o.address)) node.ssh_host = a->ToString();
  node.ssh_port = static_cast<int>(ParseUint(o.port, 65535).value_or(22));
  node.ssh_user = o.user;
  node.use_sudo = o.user != "root";
  node.remote_vpcctl = o.remote_vpcctl;
  ParseUnderlay(o, node, problems);
  ParseLocalAddresses(o.local_address, node, problems);
  if (!o.mtu.empty()) {
    auto v = model::ParseNodeMtu(o.mtu);
    problems.Add(v);
    if (v) node.mtu = *v;
  }
  if (!o.platform.empty()) {
    auto p = model::ParsePlatform(o.platform);
    problems.Add(p);
    if (p) node.platform = *p;
  }
  if (!o.remote_vpcctl.empty()) {
    if (o.remote_vpcctl[0] != '/') {
      problems.Add(UsageError("invalid --remote-vpcctl " + Quoted(o.remote_vpcctl) +
                              ": must be an absolute path"));
    } else {
      problems.Add(ssh::ValidateToken(o.remote_vpcctl));
    }
  }
  return node;
}

// The options of connecting (or of not connecting) that contradict each other or name no file.
void CheckConnectOptions(const NodeAddOptions& o, Problems& problems) {
  if (o.no_connect) {
    if (o.platform.empty()) {
      problems.Add(
          UsageError("--no-connect needs --platform linux|freebsd (it cannot be "
                     "detected without connecting)"));
    }
    for (const auto* opt : {&o.identity, &o.password_file, &o.fingerprint}) {
      if (!opt->empty()) problems.Add(UsageError("--no-connect does not connect: drop " + *opt));
    }
  } else {
    if (!o.identity.empty() && !o.password_file.empty()) {
      problems.Add(UsageError("give --identity or --password-file, not both"));
    }
    if (!o.fingerprint.empty() && o.yes) {
      problems.Add(UsageError("give --fingerprint or --yes, not both"));
    }
    if (!o.fingerprint.empty() && !StartsWith(o.fingerprint, "SHA256:")) {
      problems.Add(UsageError("invalid fingerprint " + Quoted(o.fingerprint) +
                              ": expected SHA256:... as `ssh-keygen -lf` prints it"));
    }
    for (const auto* f : {&o.identity, &o.password_file}) {
      if (!f->empty() && !exec::FileExists(*f)) {
        problems.Add(UsageError("cannot read " + Quoted(*f) + ": no such file"));
      }
    }
  }
}

// What the fabric refuses of the node: a name or address another node has, an underlay inside the
// transport network, a member's underlay changed (unless `updating`: node update changes it).
void CheckAgainstFabric(const model::Fabric& fabric, const model::Node& node, Problems& problems,
                        bool updating = false) {
  CheckUnique(fabric, node, problems, updating);
  for (const auto* a : {&node.underlay4, &node.underlay6}) {
    if (*a && fabric.transport.network.Contains(**a)) {
      problems.Add(UsageError("underlay address " + (*a)->ToString() +
                              " is inside the fabric's "
                              "transport network " +
                              fabric.transport.network.ToString() + "; the two must not overlap"));
    }
  }
  if (!updating) problems.Add(CheckUnderlayKept(fabric, node));
}

void PrintNodeAdded(Context& ctx, const NodeAddOptions& o, const model::Node& node,
                    const Enrolment& enrolled, bool updated, uint64_t generation,
                    const std::string& local_node) {
  if (o.json) {
    auto j = NodeJson(node);
    j["updated"] = updated;
    j["generation"] = generation;
    if (!o.no_connect) {
      j["enrolment"] = {{"host_key", enrolled.fingerprint},
                        {"auth", enrolled.auth},
                        {"key_installed", enrolled.key_added}};
    }
    PrintJson(ctx.io.out, j);
    return;
  }
  auto& out = ctx.io.out;
  out << (updated ? "updated" : "added") << " node " << node.name << " ("
      << model::PlatformName(node.platform) << ", ssh " << SshText(node) << ", underlay "
      << UnderlayText(node) << ", mtu " << node.mtu << ")\n";
  if (!o.no_connect) {
    out << "  host key " << enrolled.fingerprint << " pinned; authenticated with " << enrolled.auth
        << "; our key " << (enrolled.key_added ? "installed" : "was already") << " in ~"
        << (node.ssh_user == "root" ? "root" : node.ssh_user) << "/.ssh/authorized_keys (vpcctl@"
        << local_node << ")\n";
    if (node.use_sudo) out << "  remote commands will run through sudo -n\n";
    if (!node.remote_version.empty()) out << "  vpcctl " << node.remote_version << " on the node\n";
  }
}

}  // namespace

// Pipeline: the node from the options, checked alone, then against the fabric under the state
// lock; enrolment over SSH (unless --no-connect); one transaction; render.
Status NodeAdd(Context& ctx, const NodeAddOptions& o) {
  Problems problems;
  model::Node node = NodeOf(o, problems);
  auto timeout = ParseConnectTimeout(o.timeout);
  problems.Add(timeout);
  CheckConnectOptions(o, problems);
  VPC_TRY(problems.ToStatus());

  VPC_ASSIGN_OR_RETURN(auto s, Session::Locked(ctx));
  CheckAgainstFabric(s->fabric, node, problems);
  VPC_TRY(problems.ToStatus());
  const model::Node* existing = s->fabric.FindNode(node.name);
  if (existing && existing->is_local) {
    return UsageError("node " + Quoted(node.name) + " is this node (registered by `vpcctl init`)");
  }
  Enrolment enrolled;
  if (!o.no_connect) {
    VPC_ASSIGN_OR_RETURN(enrolled, Enrol(ctx, o, s->local_node, *timeout, node, o.mtu.empty()));
    if (!o.platform.empty() && model::PlatformName(node.platform) != o.platform) {
      ctx.io.Warn("--platform " + o.platform + " ignored: " + node.name + " runs " +
                  std::string(model::PlatformName(node.platform)));
    }
  } else if (existing) {
    node.host_key = existing->host_key;
  }
  if (existing) {
    node.transport = existing->transport;
    node.wg_public_key = existing->wg_public_key;
  }
  VPC_TRY(s->Begin());
  VPC_TRY(SaveNode(*s, node));
  VPC_TRY(s->Commit());
  PrintNodeAdded(ctx, o, node, enrolled, existing != nullptr, s->fabric.generation, s->local_node);
  return {};
}

namespace {

// The options of `node add` that describe `n` as it is, with what `o` changes.
NodeAddOptions MergedOptions(const model::Node& n, const NodeUpdateOptions& o) {
  NodeAddOptions m;
  m.name = n.name;
  m.address = o.address.empty() ? n.ssh_host : o.address;
  m.port = o.port.empty() ? std::to_string(n.ssh_port) : o.port;
  m.user = o.user.empty() ? n.ssh_user : o.user;
  m.mtu = o.mtu.empty() ? std::to_string(n.mtu) : o.mtu;
  m.remote_vpcctl = n.remote_vpcctl;
  m.underlay = o.underlay;
  if (m.underlay.empty()) {
    for (const auto* a : {&n.underlay4, &n.underlay6})
      if (*a) m.underlay.push_back((*a)->ToString());
  }
  // "auto": none, so that enrolment detects it again; kept for a family whose underlay stays.
  if (o.local_address.empty()) {
    for (net::Family fam : {net::Family::kV4, net::Family::kV6}) {
      const auto& l = fam == net::Family::kV4 ? n.local4 : n.local6;
      bool kept = o.underlay.empty() ||
                  std::count(o.underlay.begin(), o.underlay.end(),
                             n.Underlay(fam) ? n.Underlay(fam)->ToString() : std::string());
      if (l && kept) m.local_address.push_back(l->ToString());
    }
  } else if (o.local_address != std::vector<std::string>{"auto"}) {
    m.local_address = o.local_address;
  }
  m.identity = o.identity;
  m.password_file = o.password_file;
  m.fingerprint = o.fingerprint;
  m.yes = o.yes;
  m.timeout = o.timeout;
  return m;
}

// What changed, as "what old -> new" for each field.
std::vector<std::string> NodeChanges(const model::Node& a, const model::Node& b) {
  std::vector<std::string> out;
  AddChange(out, "underlay", UnderlayText(a), UnderlayText(b));
  AddChange(out, "local address", LocalText(a), LocalText(b));
  AddChange(out, "ssh", SshText(a), SshText(b));
  AddChange(out, "mtu", std::to_string(a.mtu), std::to_string(b.mtu));
  AddChange(out, "platform", std::string(model::PlatformName(a.platform)),
            std::string(model::PlatformName(b.platform)));
  if (a.host_key != b.host_key) out.push_back("host key re-pinned");
  return out;
}

// The node-update options alone: something to change, --repin's confirmations only with it.
void CheckUpdateOptions(const NodeUpdateOptions& o, Problems& problems) {
  problems.Add(model::ValidateNodeName(o.name));
  bool changes = !o.underlay.empty() || !o.address.empty() || !o.port.empty() || !o.user.empty() ||
                 !o.mtu.empty() || !o.local_address.empty();
  if (!changes && !o.repin) {
    problems.Add(
        UsageError("nothing to update: give --underlay, --local-address, --address, "
                   "--port, --user, --mtu or --repin"));
  }
  if (o.local_address.size() > 1 &&
      std::count(o.local_address.begin(), o.local_address.end(), "auto")) {
    problems.Add(UsageError("--local-address auto detects both families again: give it alone"));
  }
  if (!o.repin && (!o.fingerprint.empty() || o.yes)) {
    problems.Add(UsageError("--fingerprint and --yes confirm a new host key: they go with "
                            "--repin (a node that moved must present its pinned key)"));
  }
}

}  // namespace

// Pipeline: the options alone; under the state lock, the node as it would be, checked against the
// fabric (addresses unique, every tunnel's ends still in its family); a login at the node's new
// endpoint (its pinned key) or a new pin (--repin, confirmed as at enrolment); one transaction.
Status NodeUpdate(Context& ctx, const NodeUpdateOptions& o) {
  Problems problems;
  CheckUpdateOptions(o, problems);
  auto timeout = ParseConnectTimeout(o.timeout);
  problems.Add(timeout);
  VPC_TRY(problems.ToStatus());
  VPC_ASSIGN_OR_RETURN(auto s, Session::Locked(ctx));
  const model::Node* found = s->fabric.FindNode(o.name);
  if (!found) return UsageError("unknown node " + Quoted(o.name) + " (see `vpcctl node list`)");
  const model::Node before = *found;
  bool redetect = o.local_address == std::vector<std::string>{"auto"};
  bool moves = !o.address.empty() || !o.port.empty() || !o.user.empty();
  if (before.is_local && (moves || o.repin || redetect)) {
    return UsageError("node " + Quoted(o.name) + " is this node (registered by `vpcctl init`): " +
                      "vpcctl does not log in to it, so only --underlay, --local-address ADDRESS " +
                      "and --mtu apply (its apply finds a local address itself)");
  }
  NodeAddOptions m = MergedOptions(before, o);
  CheckConnectOptions(m, problems);
  model::Node node = NodeOf(m, problems);
  VPC_TRY(problems.ToStatus());
  // What node add does not describe stays as it was.
  node.host_key = before.host_key;
  node.remote_version = before.remote_version;
  node.last_check = before.last_check;
  node.wg_public_key = before.wg_public_key;
  node.platform = before.platform;
  node.is_local = before.is_local;
  node.transport = before.transport;
  CheckAgainstFabric(s->fabric, node, problems, true);
  VPC_TRY(problems.ToStatus());
  model::Fabric next = s->fabric;
  *next.FindNode(node.name) = node;
  if (Status st = model::ValidateFabric(next); !st.ok()) {
    return UsageError("cannot update node " + Quoted(o.name) + ": " + st.error().message);
  }
  if (moves || o.repin || redetect) {
    auto enrolled = Enrol(ctx, m, s->local_node, *timeout, node, false,
                          o.repin ? PinRule::kAskAgain : PinRule::kNodesOwn, &before);
    if (!enrolled) return enrolled.take_error();
  }
  std::vector<std::string> changes = NodeChanges(before, node);
  VPC_TRY(s->Begin());
  VPC_TRY(SaveNode(*s, node));
  VPC_TRY(s->Commit(!changes.empty()));
  PrintUpdated(ctx.io.out, o.json, NodeJson(node), "node " + node.name, changes,
               s->fabric.generation);
  if (!o.json && !changes.empty()) {
    ctx.io.Info("nothing was renumbered (VNIs, overlay addresses and VIPs kept); `vpcctl vpc "
                "deploy` applies the change on the nodes");
  }
  return {};
}

Status NodeList(Context& ctx, bool json) {
  VPC_ASSIGN_OR_RETURN(auto s, Session::Read(ctx));
  if (json) {
    nlohmann::json nodes = nlohmann::json::array();
    for (const auto& n : s->fabric.nodes) nodes.push_back(NodeJson(n));
    PrintJson(ctx.io.out, {{"nodes", nodes}, {"generation", s->fabric.generation}});
    return {};
  }
  Table t({"NAME", "PLATFORM", "SSH", "UNDERLAY", "MTU", "HOST KEY", "LAST CHECK"});
  for (const auto& n : s->fabric.nodes) {
    t.Row({n.name + (n.is_local ? " (local)" : ""), std::string(model::PlatformName(n.platform)),
           SshText(n),
           UnderlayText(n) + (n.BehindNat() ? " (behind NAT: local " + LocalText(n) + ")" : ""),
           std::to_string(n.mtu), FingerprintText(n), n.last_check.empty() ? "-" : n.last_check});
  }
  t.Print(ctx.io.out);
  return {};
}

Status NodeShow(Context& ctx, const std::string& name, bool json) {
  VPC_TRY(model::ValidateNodeName(name));
  VPC_ASSIGN_OR_RETURN(auto s, Session::Read(ctx));
  const model::Node* n = s->fabric.FindNode(name);
  if (!n) return UsageError("unknown node " + Quoted(name) + " (see `vpcctl node list`)");
  std::vector<std::string> vpcs;
  for (const auto& v : s->fabric.vpcs)
    if (v.HasMember(name)) vpcs.push_back(v.name);
  if (json) {
    auto j = NodeJson(*n);
    j["vpcs"] = vpcs;
    PrintJson(ctx.io.out, j);
    return {};
  }
  auto& out = ctx.io.out;
  out << "name:         " << n->name << (n->is_local ? " (local)" : "") << "\n"
      << "platform:     " << model::PlatformName(n->platform) << "\n"
      << "ssh:          " << SshText(*n) << (n->use_sudo ? " (commands through sudo -n)" : "")
      << "\n"
      << "underlay:     " << UnderlayText(*n) << "\n";
  for (net::Family fam : {net::Family::kV4, net::Family::kV6}) {
    const auto& l = fam == net::Family::kV4 ? n->local4 : n->local6;
    if (l) {
      out << "behind NAT:   local " << l->ToString() << ", public " << n->Underlay(fam)->ToString()
          << "\n";
    }
  }
  out << "mtu:          " << n->mtu << "\n"
      << "host key:     " << FingerprintText(*n) << "\n"
      << "vpcctl:       " << (n->remote_version.empty() ? "-" : n->remote_version)
      << (n->remote_vpcctl.empty() ? "" : " at " + n->remote_vpcctl) << "\n"
      << "last check:   " << (n->last_check.empty() ? "-" : n->last_check) << "\n"
      << "vpcs:         " << (vpcs.empty() ? "-" : Join(vpcs, ", ")) << "\n"
      << "transport:    " << (n->transport ? n->transport->ToString() : "-") << "\n"
      << "wireguard:    "
      << (!n->wg_public_key.empty()        ? n->wg_public_key + " (public key)"
          : s->fabric.NeedsWireguard(name) ? std::string("no key yet (reported at the next deploy)")
                                           : std::string("-"))
      << "\n";
  return {};
}

Status NodeRemove(Context& ctx, const std::string& name, bool force, bool json) {
  VPC_TRY(model::ValidateNodeName(name));
  VPC_ASSIGN_OR_RETURN(auto s, Session::Locked(ctx));
  const model::Node* n = s->fabric.FindNode(name);
  if (!n) return UsageError("unknown node " + Quoted(name) + " (see `vpcctl node list`)");
  if (n->is_local) {
    return UsageError("node " + Quoted(name) + " is this node; it cannot be removed");
  }
  Problems problems;
  for (const auto& v : s->fabric.vpcs) {
    if (v.HasMember(name)) {
      problems.Add(UsageError("node " + Quoted(name) + " is a member of VPC " + Quoted(v.name) +
                              "; run `vpcctl vpc member remove " + v.name + " " + name +
                              "` first"));
    }
    for (const auto& vip : v.vips) {
      if (vip.witness != name) continue;
      problems.Add(UsageError("node " + Quoted(name) + " is the witness of VIP " +
                              vip.address.ToString() + " (vhid " + std::to_string(vip.vhid) +
                              ") of " + v.name + "; run `vpcctl vip set " + v.name + " " +
                              std::to_string(vip.vhid) +
                              " --witness OTHER` (or --no-witness) "
                              "first"));
    }
  }
  VPC_TRY(problems.ToStatus());
  VPC_ASSIGN_OR_RETURN(auto pins, ssh::LoadKnownHosts(ctx.paths.known_hosts()));
  std::string removed_note = "it was never enrolled over SSH";
  std::string key = "never-enrolled";  // what became of our key line there, for --json
  if (pins.Find(n->ssh_host, n->ssh_port)) {
    auto remove_key = [&]() -> Result<std::string> {
      VPC_ASSIGN_OR_RETURN(auto conn, ConnectNode(ctx, pins, *n, kDefaultConnectTimeout));
      VPC_ASSIGN_OR_RETURN(std::string ours, ctx.Machine().ReadFile(ctx.paths.public_key()));
      auto words = Split(std::string(Trim(ours)), ' ');
      if (words.size() < 2) return Failure("cannot read our public key");
      VPC_ASSIGN_OR_RETURN(auto cmd, ssh::RemoteCommand::Script({words[0], words[1]}));
      VPC_ASSIGN_OR_RETURN(auto r, conn->Run(cmd, false, kRemoveKeyScript, kDefaultCommandTimeout));
      if (!r.ok()) return Failure("removing our key failed: " + std::string(Trim(r.err)));
      return std::string(Trim(r.out));
    };
    auto r = remove_key();
    if (!r) {
      if (!force) {
        return Failure(r.error().message + "\ncannot remove our key from " + name +
                       "'s authorized_keys; nothing was changed (use --force to remove the node "
                       "anyway and clean its authorized_keys by hand)");
      }
      ctx.io.Warn(r.error().message + "; removing " + name +
                  " anyway (--force): remove the vpcctl@" + s->local_node +
                  " line from its authorized_keys by hand");
      removed_note = "our key is still in its authorized_keys";
      key = "left";
    } else {
      key = *r == "removed" ? "removed" : "absent";
      removed_note = *r == "removed" ? "our key was removed from its authorized_keys"
                                     : "our key was not in its authorized_keys";
    }
    pins.Forget(n->ssh_host, n->ssh_port);
    VPC_TRY(ssh::SaveKnownHosts(ctx.paths.known_hosts(), pins));
  }
  VPC_TRY(s->Begin());
  VPC_TRY(s->store().DeleteNode(name));
  VPC_TRY(s->Commit());
  if (json) {
    PrintJson(ctx.io.out,
              {{"node", name}, {"authorized_key", key}, {"generation", s->fabric.generation}});
    return {};
  }
  ctx.io.out << "removed node " << name << " (" << removed_note << ")\n";
  return {};
}

}  // namespace vpcctl::fabric
