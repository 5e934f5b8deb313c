// vpcctl attach / detach / attachments.
#include "vpcctl/fabric/guests.h"

#include <nlohmann/json.hpp>
#include <ostream>

#include "vpcctl/base/text.h"
#include "vpcctl/fabric/apply.h"
#include "vpcctl/fabric/format.h"
#include "vpcctl/fabric/init.h"
#include "vpcctl/fabric/node_state.h"
#include "vpcctl/fabric/remote.h"
#include "vpcctl/model/map.h"
#include "vpcctl/model/names.h"
#include "vpcctl/plan/diff.h"
#include "vpcctl/platform/driver.h"

namespace vpcctl::fabric {

using json = nlohmann::json;

namespace {

constexpr std::chrono::seconds kLockWait{60};
constexpr int64_t kFreeBsdUnitBase = 20000;  // epair/tap clone units, away from hand-made ones

json AttachmentJson(const model::Attachment& a) {
  return {{"id", a.id},
          {"vpc", a.vpc},
          {"kind", model::GuestKindName(a.kind)},
          {"guest", a.guest},
          {"interface", a.ifname},
          {"inside", a.inside},
          {"mac", a.mac ? json(a.mac->ToString()) : json()},
          {"address", a.address ? json(a.address->ToString()) : json()},
          {"created", a.created}};
}

}  // namespace

void NameGuestInterfaces(model::Attachment& a, model::Platform p) {
  std::string n = std::to_string(a.id);
  std::string unit = std::to_string(kFreeBsdUnitBase + a.id);
  switch (a.kind) {
    case model::GuestKind::kNetns:
      a.ifname = "vg" + n;
      a.inside = "eth0";
      break;
    case model::GuestKind::kJail:
      a.ifname = "epair" + unit + "a";
      a.inside = "epair" + unit + "b";
      break;
    case model::GuestKind::kVm:
      a.ifname = p == model::Platform::kFreeBSD ? "tap" + unit : "vt" + n;
      a.inside = a.ifname;
      break;
    case model::GuestKind::kTap:
      a.ifname = a.guest;
      a.inside = a.guest;
      break;
  }
}

namespace {

// --mac: a unicast address, when given.
Status ParseGuestMac(const std::string& text, model::Attachment& a) {
  if (text.empty()) return {};
  VPC_ASSIGN_OR_RETURN(net::MacAddress mac, net::MacAddress::Parse(text));
  if (mac.IsMulticast() || mac.IsZero()) {
    return UsageError("invalid MAC address " + Quoted(text) +
                      ": a guest needs a unicast address (first octet even, not all zero)");
  }
  a.mac = mac;
  return {};
}

// --ip: a usable host address with its prefix, for jails and namespaces only.
Status ParseGuestAddress(const std::string& text, model::Attachment& a) {
  if (text.empty()) return {};
  Problems problems;
  if (a.kind == model::GuestKind::kVm || a.kind == model::GuestKind::kTap) {
    problems.Add(
        UsageError("--ip sets an address inside a jail or namespace; a VM configures "
                   "its own (drop --ip " +
                   text + ")"));
  }
  auto ia = net::IfAddress::Parse(text);
  if (!ia) {
    problems.Add(UsageError("invalid --ip " + Quoted(text) +
                            ": expected ADDRESS/PREFIXLEN, "
                            "e.g. 10.100.0.10/24"));
    return problems.ToStatus();
  }
  const auto& ad = ia->address;
  net::Cidr net = ia->Network();
  bool edge =
      ia->prefix < ad.bits() - 1 && (ad == net.network() || (ad.is_v4() && ad == net.Broadcast()));
  if (ad.IsMulticast() || ad.IsUnspecified() || ia->prefix == 0 || edge ||
      (ad.is_v4() && ad.bytes()[0] == 127) || (ad.is_v6() && ad == *net::IpAddress::Parse("::1"))) {
    problems.Add(UsageError("invalid --ip " + Quoted(text) +
                            ": not a usable host address (network, broadcast, multicast, "
                            "loopback, unspecified or a /0)"));
  } else {
    a.address = *ia;
  }
  return problems.ToStatus();
}

// The attachment the options describe, every problem with them reported at once. Pure.
Result<model::Attachment> AttachmentOf(const AttachOptions& o, model::Platform platform) {
  Problems problems;
  problems.Add(model::ValidateVpcName(o.vpc));
  model::Attachment a;
  a.vpc = o.vpc;
  a.guest = o.guest;
  VPC_ASSIGN_OR_RETURN(a.kind, model::ParseGuestKind(o.kind));
  if (!model::Supported(a.kind, platform)) {
    problems.Add(UsageError(std::string(model::GuestKindName(a.kind)) + " guests need " +
                            (a.kind == model::GuestKind::kJail ? "FreeBSD" : "Linux") +
                            "; this node runs " + std::string(model::PlatformName(platform))));
  } else {
    problems.Add(model::ValidateGuestName(a.kind, o.guest, platform));
  }
  problems.Add(ParseGuestMac(o.mac, a));
  problems.Add(ParseGuestAddress(o.ip, a));
  VPC_TRY(problems.ToStatus());
  return a;
}

// The VPC `a` joins, from the map the node holds: it must be there with this node a member.
Result<model::Vpc> HeldVpc(store::Store& db, const std::string& name) {
  VPC_ASSIGN_OR_RETURN(auto held, db.LoadMap());
  if (!held) {
    return UsageError("unknown VPC " + Quoted(name) +
                      ": this node holds no map yet (deploy the "
                      "VPC from the controller first)");
  }
  VPC_ASSIGN_OR_RETURN(model::Map map, model::ParseMap(held->document));
  const model::Vpc* vpc = map.fabric.FindVpc(name);
  if (!vpc) return UsageError("unknown VPC " + Quoted(name) + " (not in this node's map)");
  if (!vpc->HasMember(held->node)) {
    return UsageError("VPC " + Quoted(name) + " is not deployed on this node: " + held->node +
                      " is not one of its members");
  }
  return *vpc;
}

// The guest may join: not attached already, its address nobody else's in the VPC, the VPC's
// per-node quota of its class not reached. Pure.
Status CheckAttachable(const model::Attachment& a, const model::Vpc& vpc,
                       const std::vector<model::Attachment>& records) {
  int same_class = 0;
  std::vector<std::string> names;
  for (const auto& r : records) {
    if (r.kind == a.kind && r.guest == a.guest) {
      return UsageError(std::string(model::GuestKindName(a.kind)) + " " + Quoted(a.guest) +
                        " is already attached (to " + r.vpc + ", through " + r.ifname + ")");
    }
    if (r.vpc == a.vpc && a.address && r.address && r.address->address == a.address->address) {
      return UsageError("address " + a.address->address.ToString() + " is already used by " +
                        std::string(model::GuestKindName(r.kind)) + " " + r.guest + " in " + r.vpc);
    }
    if (r.vpc == a.vpc && model::CountsAsJail(r.kind) == model::CountsAsJail(a.kind)) {
      ++same_class;
      names.push_back(r.guest);
    }
  }
  if (a.address) {
    for (const auto& m : vpc.members) {
      if (m.overlay == a.address->address) {
        return UsageError("address " + m.overlay.ToString() + " is node " + m.node +
                          "'s overlay address in " + vpc.name);
      }
    }
    for (const auto& v : vpc.vips) {
      if (v.address == a.address->address) {
        return UsageError("address " + v.address.ToString() + " is a VIP of " + vpc.name);
      }
    }
  }
  bool jail_class = model::CountsAsJail(a.kind);
  const std::optional<int>& quota = jail_class ? vpc.max_jails : vpc.max_vms;
  if (quota && same_class >= *quota) {
    return UsageError("VPC " + vpc.name + " allows " + std::to_string(*quota) + " " +
                      (jail_class ? "jails/namespaces" : "VMs/taps") + " per node (--max-" +
                      (jail_class ? "jails" : "vms") + "), and " + std::to_string(same_class) +
                      " are attached here" + (names.empty() ? "" : ": " + Join(names, ", ")));
  }
  return {};
}

void PrintAttached(std::ostream& out, const model::Attachment& a, int mtu,
                   model::Platform platform) {
  out << "attached " << model::GuestKindName(a.kind) << " " << a.guest << " to " << a.vpc
      << " through " << a.ifname << " (inside: " << a.inside
      << (a.address ? ", " + a.address->ToString() : std::string())
      << (a.mac ? ", " + a.mac->ToString() : std::string()) << ", mtu " << mtu << ")\n";
  if (a.kind == model::GuestKind::kVm || a.kind == model::GuestKind::kTap) {
    out << "give the VM's NIC " << a.ifname << (a.mac ? " and mac=" + a.mac->ToString() : "")
        << (platform == model::Platform::kFreeBSD
                ? " (bhyve: -s N,virtio-net," + a.ifname + ")"
                : " (QEMU: -netdev tap,id=n0,ifname=" + a.ifname + ",script=no,downscript=no)")
        << "; its MTU is " << mtu << "\n";
  }
}

}  // namespace

// Pipeline: the attachment from the options (pure), lock, the VPC from the held map, probe the
// bridge (and the namespace), check it may join (pure), render its step, then print it
// (--dry-run) or record it and run it, undoing the interface when a command fails.
Status Attach(Context& ctx, const AttachOptions& o) {
  VPC_ASSIGN_OR_RETURN(model::Platform platform, LocalPlatform(ctx));
  VPC_ASSIGN_OR_RETURN(model::Attachment a, AttachmentOf(o, platform));
  VPC_TRY(store::EnsureStateDir(ctx.paths.dir, nullptr));
  VPC_ASSIGN_OR_RETURN(
      store::StateLock lock,
      store::StateLock::Acquire(ctx.paths.apply_lock(), ctx.command_line, kLockWait));
  VPC_ASSIGN_OR_RETURN(auto db, OpenNodeStore(ctx));
  VPC_ASSIGN_OR_RETURN(model::Vpc vpc, HeldVpc(*db, o.vpc));
  const auto& driver = platform::DriverFor(platform);
  VPC_ASSIGN_OR_RETURN(plan::Observed observed,
                       ProbeInterfaces(ctx, driver, a.kind == model::GuestKind::kNetns));
  const plan::ObservedInterface* bridge = observed.Find(o.vpc);
  if (!bridge || plan::OwnerVpc(bridge->owner) != o.vpc) {
    return UsageError("VPC " + Quoted(o.vpc) + " is not deployed on this node yet (no bridge " +
                      o.vpc + "): run `vpcctl vpc deploy " + o.vpc + "` on the controller");
  }
  if (a.kind == model::GuestKind::kNetns && !observed.netns.count(a.guest)) {
    return UsageError("network namespace " + Quoted(a.guest) +
                      " does not exist (create it with "
                      "`ip netns add " +
                      a.guest + "`)");
  }
  VPC_ASSIGN_OR_RETURN(auto records, db->Attachments());
  VPC_TRY(CheckAttachable(a, vpc, records));
  VPC_ASSIGN_OR_RETURN(a.id, db->NextAttachmentId());
  NameGuestInterfaces(a, platform);
  a.created = UtcNow();
  if (observed.Find(a.ifname)) {
    return UsageError("interface " + a.ifname +
                      " already exists on this node; refusing to take "
                      "it over");
  }
  plan::Step step;
  step.action = plan::Action::kAttachGuest;
  step.vpc = a.vpc;
  step.ifname = a.ifname;
  step.guest = a;
  step.mtu = vpc.mtu;
  auto commands = driver.Render(step);
  if (o.dry_run) {
    if (o.json) {
      json cmds = json::array();
      for (const auto& c : commands) cmds.push_back(ShellLine(c));
      json j = AttachmentJson(a);
      j["dry_run"] = true;
      j["commands"] = cmds;
      PrintJson(ctx.io.out, j);
    } else {
      ctx.io.out << platform::RenderScript(driver, {step});
    }
    return {};
  }
  store::Transaction tx(*db);
  VPC_TRY(tx.Begin());
  VPC_TRY(db->AddAttachment(a));
  if (auto st = RunBatched(ctx, driver, commands); !st.ok()) {
    // Leave nothing half-made: the host side takes the rest with it.
    plan::Step undo = step;
    undo.action = plan::Action::kDetachGuest;
    for (const auto& c : driver.Render(undo)) (void)ctx.runner.Run(c, "", std::chrono::seconds(10));
    return st;
  }
  VPC_TRY(tx.Commit());
  if (o.json) {
    json j = AttachmentJson(a);
    j["mtu"] = vpc.mtu;
    PrintJson(ctx.io.out, j);
  } else {
    PrintAttached(ctx.io.out, a, vpc.mtu, platform);
  }
  return {};
}

Status Detach(Context& ctx, const std::string& vpc, const std::string& guest, bool json) {
  VPC_TRY(model::ValidateVpcName(vpc));
  if (guest.empty() || guest.size() > 64) return UsageError("invalid guest name " + Quoted(guest));
  VPC_ASSIGN_OR_RETURN(model::Platform platform, LocalPlatform(ctx));
  VPC_TRY(store::EnsureStateDir(ctx.paths.dir, nullptr));
  VPC_ASSIGN_OR_RETURN(
      store::StateLock lock,
      store::StateLock::Acquire(ctx.paths.apply_lock(), ctx.command_line, kLockWait));
  VPC_ASSIGN_OR_RETURN(auto db, OpenNodeStore(ctx));
  VPC_ASSIGN_OR_RETURN(auto records, db->Attachments());
  const model::Attachment* found = nullptr;
  for (const auto& r : records)
    if (r.vpc == vpc && r.guest == guest) found = &r;
  if (!found) {
    return UsageError("no guest " + Quoted(guest) + " is attached to " + Quoted(vpc) +
                      " on this node (see `vpcctl attachments`)");
  }
  const auto& driver = platform::DriverFor(platform);
  VPC_ASSIGN_OR_RETURN(plan::Observed observed, ProbeInterfaces(ctx, driver));
  bool present = observed.Find(found->ifname) != nullptr;
  if (present) {
    plan::Step step;
    step.action = plan::Action::kDetachGuest;
    step.ifname = found->ifname;
    step.guest = *found;
    VPC_TRY(RunBatched(ctx, driver, driver.Render(step)));
  }
  store::Transaction tx(*db);
  VPC_TRY(tx.Begin());
  VPC_TRY(db->DeleteAttachment(found->id));
  VPC_TRY(tx.Commit());
  if (json) {
    PrintJson(ctx.io.out, {{"vpc", vpc},
                           {"guest", guest},
                           {"kind", model::GuestKindName(found->kind)},
                           {"interface", found->ifname},
                           {"interface_removed", present}});
    return {};
  }
  ctx.io.out << "detached " << model::GuestKindName(found->kind) << " " << guest << " from " << vpc
             << " (" << found->ifname << (present ? " removed" : " was already gone") << ")\n";
  return {};
}

Status Attachments(Context& ctx, const std::string& vpc, bool json_out) {
  if (!vpc.empty()) VPC_TRY(model::ValidateVpcName(vpc));
  VPC_ASSIGN_OR_RETURN(auto db, OpenNodeStore(ctx));
  VPC_ASSIGN_OR_RETURN(auto records, db->Attachments());
  VPC_ASSIGN_OR_RETURN(model::Platform platform, LocalPlatform(ctx));
  auto observed = ProbeInterfaces(ctx, platform::DriverFor(platform));
  json arr = json::array();
  Table t({"VPC", "KIND", "GUEST", "INTERFACE", "INSIDE", "ADDRESS", "STATE"});
  for (const auto& r : records) {
    if (!vpc.empty() && r.vpc != vpc) continue;
    std::string state = "?";
    if (observed) {
      const auto* i = observed->Find(r.ifname);
      state = !i ? "missing" : i->master != r.vpc ? "off the bridge" : i->up ? "up" : "down";
    }
    json j = AttachmentJson(r);
    j["state"] = state;
    arr.push_back(j);
    t.Row({r.vpc, std::string(model::GuestKindName(r.kind)), r.guest, r.ifname, r.inside,
           r.address ? r.address->ToString() : "-", state});
  }
  if (json_out) {
    PrintJson(ctx.io.out, {{"attachments", arr}});
  } else {
    t.Print(ctx.io.out);
  }
  return {};
}

}  // namespace vpcctl::fabric
