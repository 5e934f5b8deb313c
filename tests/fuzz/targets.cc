#include "targets.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "vpcctl/base/text.h"
#include "vpcctl/crypto/wireguard_key.h"
#include "vpcctl/fabric/remote.h"
#include "vpcctl/model/fabric.h"
#include "vpcctl/model/map.h"
#include "vpcctl/model/names.h"
#include "vpcctl/net/ip.h"
#include "vpcctl/plan/diff.h"
#include "vpcctl/platform/driver.h"
#include "vpcctl/platform/freebsd.h"
#include "vpcctl/platform/linux.h"
#include "vpcctl/ssh/command.h"
#include "vpcctl/ssh/known_hosts.h"
#include "vpcctl/vipd/config.h"
#include "vpcctl/probe/prober.h"
#include "vpcctl/vipd/wire.h"

namespace vpcctl::fuzz {

namespace {

[[noreturn]] void Broken(const char* what) {
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
  std::abort();
}

void Check(bool ok, const char* what) {
  if (!ok) Broken(what);
}

// Messages name the input safely: never a raw newline (one line per diagnostic).
void CheckMessage(const Error& e) { Check(e.message.find('\n') == std::string::npos, "newline in message"); }

}  // namespace

void Addresses(std::string_view in) {
  if (auto a = net::IpAddress::Parse(in)) {
    auto again = net::IpAddress::Parse(a->ToString());
    Check(again.ok() && *again == *a, "address round trip");
    Check(a->Masked(a->bits()) == *a, "full mask is identity");
    (void)a->Plus(static_cast<uint64_t>(in.size()));
  } else {
    CheckMessage(a.error());
  }
  if (auto c = net::Cidr::Parse(in)) {
    auto again = net::Cidr::Parse(c->ToString());
    Check(again.ok() && *again == *c, "cidr round trip");
    Check(c->Contains(c->network()), "network contains itself");
    if (c->UsableHosts() > 0) {
      Check(c->Contains(c->Host(0)), "first host inside");
      Check(c->Contains(c->Host(c->UsableHosts() - 1)), "last host inside");
    }
  } else {
    CheckMessage(c.error());
  }
  if (auto ia = net::IfAddress::Parse(in)) {
    Check(ia->Network().Contains(ia->address), "interface address inside its network");
  }
  if (auto m = net::MacAddress::Parse(in)) {
    auto again = net::MacAddress::Parse(m->ToString());
    Check(again.ok() && *again == *m, "mac round trip");
  }
  if (auto r = model::VniRange::Parse(in)) Check(r->lo >= 1 && r->lo <= r->hi, "vni range order");
  static const char kShell[] = ";&|<>$`'\"\\ \t\n*?~!#(){}";
  bool hostile = in.find_first_of(std::string_view(kShell, sizeof kShell - 1)) != std::string_view::npos;
  for (auto st : {model::ValidateNodeName(in), model::ValidateVpcName(in), model::ValidateUserName(in),
                  model::ValidateHost(in), ssh::ValidateToken(in)}) {
    if (st.ok()) {
      Check(!hostile, "a shell metacharacter passed validation");
    } else {
      CheckMessage(st.error());
    }
  }
}

void LinuxProbe(std::string_view in) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (parts.size() < 3) {
    size_t nul = in.find('\0', start);
    if (nul == std::string_view::npos) break;
    parts.emplace_back(in.substr(start, nul - start));
    start = nul + 1;
  }
  parts.emplace_back(in.substr(start));
  for (const auto& p : parts) {
    (void)platform::ParseIpLink(p);
    (void)platform::ParseIpAddr(p);
    (void)platform::ParseBridgeLink(p);
    (void)platform::ParseNetnsList(p);
  }
  while (parts.size() < 4) parts.emplace_back("[]");
  auto obs = platform::LinuxDriver().ParseProbe(parts);
  if (!obs) return;
  for (const auto& i : obs->interfaces) {
    Check(!i.name.empty(), "interface without a name");
    for (const auto& a : i.addresses) Check(a.prefix >= 0 && a.prefix <= a.address.bits(), "prefix");
  }
}

void FreeBsdIfconfig(std::string_view in) {
  auto obs = platform::ParseIfconfig(in);
  if (!obs) {
    CheckMessage(obs.error());
    return;
  }
  for (const auto& i : obs->interfaces) {
    Check(!i.name.empty(), "interface without a name");
    for (const auto& a : i.addresses) Check(a.prefix >= 0 && a.prefix <= a.address.bits(), "prefix");
  }
  // Whatever the kernel shows, the diff either refuses (foreign interfaces) or plans.
  plan::Desired d;
  d.platform = model::Platform::kFreeBSD;
  d.kernel_vips = true;
  plan::DesiredVpc v;
  v.vpc = "vpc1";
  v.mtu = 1450;
  v.address = *net::IfAddress::Parse("10.100.0.2/24");
  v.tunnels.push_back(plan::DesiredTunnel{"vx100", 100, *net::IpAddress::Parse("192.0.2.2"),
                                          *net::IpAddress::Parse("192.0.2.1"), 4789, "h1"});
  plan::DesiredVip vip;
  vip.address = *net::IpAddress::Parse("10.100.0.250");
  vip.vhid = 7;
  vip.advert_ms = 1000;
  v.vips.push_back(vip);
  d.vpcs.push_back(v);
  auto steps = plan::Diff(d, *obs);
  if (steps) {
    platform::FreeBsdDriver driver;
    for (const auto& s : *steps) (void)driver.Render(s);
  }
}

void Map(std::string_view in) {
  auto m = model::ParseMap(in);
  if (!m) {
    CheckMessage(m.error());
    return;
  }
  Check(model::ValidateFabric(m->fabric).ok(), "accepted map breaks the invariants");
  std::string once = model::MapToJson(*m, true);
  auto again = model::ParseMap(once);
  Check(again.ok(), "a written map does not parse back");
  Check(model::MapToJson(*again, true) == once, "map round trip");
}

void KnownHosts(std::string_view in) {
  auto k = ssh::KnownHosts::Parse(in);
  if (!k) {
    CheckMessage(k.error());
    return;
  }
  auto again = ssh::KnownHosts::Parse(k->Format());
  Check(again.ok(), "written known_hosts does not parse back");
  Check(again->entries().size() == k->entries().size(), "known_hosts round trip");
  for (const auto& e : k->entries()) {
    auto found = again->Find(e.host, e.port);
    Check(found.has_value(), "pin lost in round trip");
  }
}

void WgDump(std::string_view in) {
  std::string text(in);
  std::string first_field = text.substr(0, text.find('\t'));
  platform::ScrubWgDump(text);
  auto w = platform::ParseWgDump(text);
  if (!w) {
    CheckMessage(w.error());
    // A private key in the first field is never quoted. (Only a key: a shorter field may be any
    // text, "not the device" included, which the message says in its own words.)
    Check(!crypto::IsWgKey(first_field) || w.error().message.find(first_field) == std::string::npos,
          "error quotes the private key field");
    return;
  }
  for (const auto& p : w->peers) {
    Check(p.keepalive >= 0 && p.keepalive <= 65535, "keepalive range");
    Check(p.latest_handshake >= 0, "handshake time");
  }
  plan::Desired d;
  d.node = "h1";
  plan::DesiredWireguard wg;
  wg.address = *net::IfAddress::Parse("10.255.0.1/16");
  wg.public_key = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";
  wg.key_file = "/s/wg.key";
  plan::DesiredWgPeer peer;
  peer.node = "h2";
  peer.public_key = "wrzhw72tmmBPS6/iT+cAeS9ujZFh+JSjKCEAVy5iuHc=";
  peer.endpoint = *net::IpAddress::Parse("10.77.0.2");
  peer.transport = *net::IpAddress::Parse("10.255.0.2");
  wg.peers.push_back(peer);
  d.wireguard = wg;
  plan::Observed o;
  plan::ObservedInterface i;
  i.name = std::string(model::kWgInterface);
  i.kind = plan::IfKind::kWireguard;
  i.owner = plan::OwnerTag(plan::kWgOwner);
  o.interfaces.push_back(i);
  o.wireguard = *w;
  auto steps = plan::Diff(d, o);
  Check(steps.ok(), "diff against a parsed dump");
  for (const auto& s : *steps) {
    if (s.action == plan::Action::kRemoveWgPeer) {
      Check(w->Find(s.wg_peer.public_key) != nullptr, "removes only peers it saw");
    }
  }
}

namespace {

// Every string in a report the controller accepted is printable as it stands.
void CheckPrintable(const nlohmann::json& j) {
  if (j.is_string()) {
    const auto& v = j.get_ref<const std::string&>();
    Check(Printable(v, SIZE_MAX) == v, "a report field reaches the terminal raw");
  }
  if (j.is_structured()) {
    for (const auto& e : j) CheckPrintable(e);
  }
}

// The node's output, read as FanOut reads it (once as a successful exit, once as exit 1 with the
// same text on stderr): the error is printable, and an accepted report survives its own round
// trip and prints as valid UTF-8.
template <class Report>
void NodeAnswer(std::string_view in, fabric::ReportKind kind) {
  for (int exit_status : {0, 1}) {
    ssh::RemoteResult r{exit_status, std::string(in), exit_status ? std::string(in) : "", false, 1};
    fabric::Answer a;
    fabric::ReadAnswer(r, kind, fabric::FanOutLimits{}, a);
    Check(Printable(a.error, SIZE_MAX) == a.error, "a node's error reaches the terminal raw");
    const Report* report = a.Get<Report>();
    if (!report) continue;
    nlohmann::json j = report->ToJson();
    std::string text = j.dump();  // throws (and so aborts) on invalid UTF-8
    auto again = Report::FromJson(j);
    Check(again.ok() && *again == *report, "report round trip");
    CheckPrintable(j);
  }
}

}  // namespace

void ApplyReport(std::string_view in) {
  NodeAnswer<model::ApplyReport>(in, fabric::ReportKind::kApply);
}
void StatusReport(std::string_view in) {
  NodeAnswer<model::StatusReport>(in, fabric::ReportKind::kStatus);
}
void KeyReport(std::string_view in) { NodeAnswer<model::KeyReport>(in, fabric::ReportKind::kKey); }
void ImportReport(std::string_view in) {
  NodeAnswer<model::ImportReport>(in, fabric::ReportKind::kImport);
}
void VipTakeReport(std::string_view in) {
  NodeAnswer<model::VipTakeReport>(in, fabric::ReportKind::kVipTake);
}

void VipdMessage(std::string_view in) {
  auto e = vipd::Decode(in);
  if (!e) {
    CheckMessage(e.error());
    return;
  }
  // What decodes re-encodes to the same fields, and verifies under the key it was made with only.
  std::string again = vipd::Encode(*e, "fuzzkey");
  auto back = vipd::Decode(again);
  Check(back.ok() && *back == *e, "vipd message does not round-trip");
  Check(vipd::Verify(again, "fuzzkey"), "vipd message does not verify under its key");
  Check(!vipd::Verify(again, "fuzzkeY"), "vipd message verifies under another key");
  vipd::ReplayGuard g;
  Check(g.Accept(e->msg.from, e->incarnation, e->seq), "a first message is refused");
  Check(!g.Accept(e->msg.from, e->incarnation, e->seq), "a replay is accepted");
}

void VipdConfig(std::string_view in) {
  auto c = vipd::ParseConfig(in);
  if (!c) {
    CheckMessage(c.error());
    return;
  }
  auto back = vipd::ParseConfig(vipd::ConfigToJson(*c));
  Check(c->vips.empty() ? !back.ok() : back.ok() && *back == *c, "vipd config does not round-trip");
}

void ProbeReply(std::string_view in) {
  // The first byte picks the family; the rest is the datagram. A reply that parses carries the
  // id and cookie asked for, and its own copy with another cookie does not parse.
  if (in.empty()) return;
  net::Family f = (in[0] & 1) ? net::Family::kV6 : net::Family::kV4;
  auto data = reinterpret_cast<const uint8_t*>(in.data() + 1);
  size_t len = in.size() - 1;
  constexpr uint16_t kId = 0x4242;
  constexpr uint64_t kCookie = 0x0123456789abcdefULL;
  auto seq = probe::EchoReplySeq(f, data, len, kId, kCookie);
  if (seq) Check(!probe::EchoReplySeq(f, data, len, kId, kCookie ^ 1), "a wrong cookie parses");
  // A request we make, turned into its reply, parses back to its seq.
  uint16_t s = len >= 2 ? static_cast<uint16_t>(data[0] << 8 | data[1]) : 0;
  int size = probe::Schedule::MinSize(f) + static_cast<int>(len % 1500);
  std::string m = probe::EchoRequest(f, kId, s, kCookie, size);
  m[0] = static_cast<char>(f == net::Family::kV4 ? 0 : 129);
  std::string packet = f == net::Family::kV4 ? std::string("\x45") + std::string(19, '\0') + m : m;
  auto back = probe::EchoReplySeq(f, reinterpret_cast<const uint8_t*>(packet.data()),
                                  packet.size(), kId, kCookie);
  Check(back && *back == s, "our own echo does not round-trip");
}

}  // namespace vpcctl::fuzz
