#include "vpcctl/model/reports.h"

#include <algorithm>
#include <iterator>

#include "vpcctl/base/text.h"
#include "vpcctl/crypto/wireguard_key.h"
#include "vpcctl/model/json_reader.h"
#include "vpcctl/model/names.h"
#include "vpcctl/net/ip.h"

namespace vpcctl::model {

using json = nlohmann::json;

namespace {

// Bounds on what one report may list (a node's output is cut at a few MiB before this).
constexpr size_t kMaxSteps = 100000;
constexpr size_t kMaxList = 10000;
constexpr int64_t kMaxKeySwitchOffsetMs = 86'400'000;  // a day: clocks further apart are not clocks
constexpr size_t kMaxEvents = 100;
constexpr int64_t kMaxCount = 1000000;

json Opt(const std::optional<std::string>& v) { return v ? json(*v) : json(); }
json Opt(const std::optional<uint64_t>& v) { return v ? json(*v) : json(); }
json Opt(const std::optional<int64_t>& v) { return v ? json(*v) : json(); }
json Opt(const std::optional<double>& v) { return v ? json(*v) : json(); }
json Opt(const std::optional<bool>& v) { return v ? json(*v) : json(); }

// A free-text field, made printable and bounded.
Result<std::string> Text(const JsonReader& r, const char* key, size_t max = kMaxReportText) {
  VPC_ASSIGN_OR_RETURN(std::string s, r.Str(key));
  return Printable(s, max);
}
Result<std::optional<std::string>> OptText(const JsonReader& r, const char* key,
                                           size_t max = kMaxReportText) {
  VPC_ASSIGN_OR_RETURN(auto s, r.OptStr(key));
  if (!s) return s;
  return std::optional<std::string>(Printable(*s, max));
}

Result<std::string> NodeName(const JsonReader& r, const char* key) {
  VPC_ASSIGN_OR_RETURN(std::string s, r.Str(key));
  if (!ValidateNodeName(s).ok()) return r.Bad(key, "is not a node name");
  return s;
}

// An identifier: action names, interface names ("" allowed).
Result<std::string> Word(const JsonReader& r, const char* key, size_t max) {
  VPC_ASSIGN_OR_RETURN(std::string s, r.Str(key));
  bool ok = s.size() <= max;
  for (char c : s) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_' || c == '.');
  }
  if (!ok) return r.Bad(key, "is not a name (letters, digits, . _ -; at most " +
                                 std::to_string(max) + ")");
  return s;
}

Result<std::string> Address(const JsonReader& r, const char* key, bool with_prefix) {
  VPC_ASSIGN_OR_RETURN(std::string s, r.Str(key));
  bool ok = with_prefix ? net::IfAddress::Parse(s).ok() : net::IpAddress::Parse(s).ok();
  if (!ok) return r.Bad(key, with_prefix ? "is not an address with prefix" : "is not an IP address");
  return s;
}

// Calls read(element, reader) for each element of the array field `key`.
template <class T, class F>
Result<std::vector<T>> List(const JsonReader& r, const char* key, size_t max, F read) {
  VPC_ASSIGN_OR_RETURN(const json* arr, r.Array(key, max));
  std::vector<T> out;
  out.reserve(arr->size());
  for (size_t i = 0; i < arr->size(); ++i) {
    JsonReader item((*arr)[i], r.What(), r.path() + "." + key + "[" + std::to_string(i) + "]");
    VPC_ASSIGN_OR_RETURN(T v, read((*arr)[i], item));
    out.push_back(std::move(v));
  }
  return out;
}

Result<std::string> TextItem(const json& j, const JsonReader& r) {
  if (!j.is_string()) return JsonReader::Bad(r.What(), r.path(), "must be a string");
  return Printable(j.get<std::string>(), kMaxReportText);
}

Result<std::string> NodeItem(const json& j, const JsonReader& r) {
  if (!j.is_string() || !ValidateNodeName(j.get<std::string>()).ok()) {
    return JsonReader::Bad(r.What(), r.path(), "is not a node name");
  }
  return j.get<std::string>();
}

json StepsToJson(const std::vector<StepReport>& steps) {
  json arr = json::array();
  for (const auto& s : steps) {
    arr.push_back({{"action", s.action},
                   {"vpc", s.vpc},
                   {"interface", s.interface},
                   {"description", s.description}});
  }
  return arr;
}

Result<StepReport> ReadStep(const json&, const JsonReader& r) {
  VPC_TRY(r.OnlyKeys({"action", "vpc", "interface", "description"}));
  StepReport s;
  VPC_ASSIGN_OR_RETURN(s.action, Word(r, "action", 32));
  // The VPC (or the owner of a node-wide step: "wg-transport") and what the step is about (an
  // interface, a file, a daemon): display text.
  VPC_ASSIGN_OR_RETURN(s.vpc, Text(r, "vpc", 64));
  VPC_ASSIGN_OR_RETURN(s.interface, Text(r, "interface", 1024));
  VPC_ASSIGN_OR_RETURN(s.description, Text(r, "description"));
  return s;
}

Result<std::vector<StepReport>> Steps(const JsonReader& r, const char* key) {
  return List<StepReport>(r, key, kMaxSteps, ReadStep);
}

Result<std::optional<uint64_t>> OptGeneration(const JsonReader& r, const char* key) {
  VPC_ASSIGN_OR_RETURN(auto g, r.OptInt(key, 0, INT64_MAX));
  if (!g) return std::optional<uint64_t>();
  return std::optional<uint64_t>(static_cast<uint64_t>(*g));
}

Result<std::optional<WireguardReport>> ReadWireguard(const JsonReader& r) {
  if (!r.Has("wireguard")) return r.Bad("wireguard", "is missing");
  const json& j = r.Get("wireguard");
  if (j.is_null()) return std::optional<WireguardReport>();
  JsonReader w(j, r.What(), r.path() + ".wireguard");
  if (!j.is_object()) return r.Bad("wireguard", "must be an object or null");
  VPC_TRY(w.OnlyKeys({"public_key", "engine"}));
  WireguardReport out;
  VPC_ASSIGN_OR_RETURN(out.public_key, w.OptStr("public_key"));
  if (out.public_key && !crypto::IsWgKey(*out.public_key)) {
    return w.Bad("public_key", "is not a WireGuard public key");
  }
  VPC_ASSIGN_OR_RETURN(out.engine, w.OptStr("engine"));
  if (out.engine && *out.engine != "kernel" && *out.engine != "wireguard-go") {
    return w.Bad("engine", "must be kernel or wireguard-go");
  }
  return std::optional<WireguardReport>(out);
}

Result<PeerHealth> ReadPeer(const json&, const JsonReader& r) {
  VPC_TRY(r.OnlyKeys({"node", "address", "transmitted", "received", "loss_pct", "rtt_ms", "error",
                      "mtu", "mtu_ok", "path_mtu", "handshake_age_s", "handshake_stale"}));
  PeerHealth p;
  VPC_ASSIGN_OR_RETURN(p.node, NodeName(r, "node"));
  VPC_ASSIGN_OR_RETURN(p.address, Address(r, "address", false));
  VPC_ASSIGN_OR_RETURN(p.transmitted, r.Int("transmitted", 0, kMaxCount));
  VPC_ASSIGN_OR_RETURN(p.received, r.Int("received", 0, kMaxCount));
  VPC_ASSIGN_OR_RETURN(p.loss_pct, r.Num("loss_pct", 0, 100));
  VPC_ASSIGN_OR_RETURN(p.rtt_ms, r.OptNum("rtt_ms", 0, 1e9));
  VPC_ASSIGN_OR_RETURN(p.error, OptText(r, "error"));
  VPC_ASSIGN_OR_RETURN(p.mtu, r.Int("mtu", 0, 65535));
  VPC_ASSIGN_OR_RETURN(p.mtu_ok, r.OptBool("mtu_ok"));
  VPC_ASSIGN_OR_RETURN(p.path_mtu, r.OptInt("path_mtu", 0, 65535));
  if (p.path_mtu && p.mtu_ok != false) return r.Bad("path_mtu", "comes only with mtu_ok false");
  p.encrypted = r.Has("handshake_stale");
  if (p.encrypted) {
    VPC_ASSIGN_OR_RETURN(p.handshake_age_s, r.OptInt("handshake_age_s", 0, INT64_MAX));
    VPC_ASSIGN_OR_RETURN(p.handshake_stale, r.Bool("handshake_stale"));
  } else if (r.Has("handshake_age_s")) {
    return r.Bad("handshake_age_s", "comes without handshake_stale");
  }
  return p;
}

Result<VipEventReport> ReadEvent(const json&, const JsonReader& r) {
  VPC_TRY(r.OnlyKeys({"state", "at"}));
  VipEventReport e;
  VPC_ASSIGN_OR_RETURN(e.state, Text(r, "state", 32));
  VPC_ASSIGN_OR_RETURN(e.at, Text(r, "at", 64));
  return e;
}

// What vipd reports of a lease: absent or null when it did not say.
constexpr int64_t kMaxLeaseReportMs = 3600000;
const char* const kLeaseStates[] = {"HOLDER", "STANDBY", "CHECK-FAILED", "ACCEPTOR", "WAITING"};

Status ReadLease(const JsonReader& r, VipHealth& v) {
  VPC_ASSIGN_OR_RETURN(v.holder, r.OptStr("holder"));
  if (v.holder && !ValidateNodeName(*v.holder).ok()) return r.Bad("holder", "is not a node name");
  VPC_ASSIGN_OR_RETURN(v.epoch, OptGeneration(r, "epoch"));
  VPC_ASSIGN_OR_RETURN(v.remaining_ms, r.OptInt("remaining_ms", 0, kMaxLeaseReportMs));
  VPC_ASSIGN_OR_RETURN(v.lease_state, r.OptStr("lease_state"));
  if (v.lease_state && std::find(std::begin(kLeaseStates), std::end(kLeaseStates),
                                 *v.lease_state) == std::end(kLeaseStates)) {
    return r.Bad("lease_state", "must be HOLDER, STANDBY, CHECK-FAILED, ACCEPTOR or WAITING");
  }
  VPC_ASSIGN_OR_RETURN(v.round_ms, r.OptInt("round_ms", 0, kMaxLeaseReportMs));
  return {};
}

Result<VipHealth> ReadVip(const json&, const JsonReader& r) {
  VPC_TRY(r.OnlyKeys({"vhid", "address", "rank", "holds", "state", "since", "events", "holder",
                      "epoch", "remaining_ms", "lease_state", "round_ms"}));
  VipHealth v;
  VPC_ASSIGN_OR_RETURN(int64_t vhid, r.Int("vhid", 1, 255));
  v.vhid = static_cast<int>(vhid);
  VPC_ASSIGN_OR_RETURN(v.address, Address(r, "address", false));
  VPC_ASSIGN_OR_RETURN(int64_t rank, r.Int("rank", -1, 255));  // -1: acceptor only
  v.rank = static_cast<int>(rank);
  VPC_ASSIGN_OR_RETURN(v.holds, r.Bool("holds"));
  VPC_ASSIGN_OR_RETURN(v.state, OptText(r, "state", 32));
  VPC_ASSIGN_OR_RETURN(v.since, OptText(r, "since", 64));
  VPC_ASSIGN_OR_RETURN(v.events, List<VipEventReport>(r, "events", kMaxEvents, ReadEvent));
  VPC_TRY(ReadLease(r, v));
  return v;
}

Result<GuestHealth> ReadGuest(const json&, const JsonReader& r) {
  VPC_TRY(r.OnlyKeys({"kind", "guest", "interface", "address", "present", "on_bridge"}));
  GuestHealth g;
  VPC_ASSIGN_OR_RETURN(g.kind, Word(r, "kind", 16));
  VPC_ASSIGN_OR_RETURN(g.guest, Text(r, "guest", 256));
  VPC_ASSIGN_OR_RETURN(g.interface, Word(r, "interface", 15));
  VPC_ASSIGN_OR_RETURN(g.address, OptText(r, "address", 64));
  VPC_ASSIGN_OR_RETURN(g.present, r.Bool("present"));
  VPC_ASSIGN_OR_RETURN(g.on_bridge, r.Bool("on_bridge"));
  return g;
}

Result<VpcHealth> ReadVpc(const json&, const JsonReader& r) {
  VPC_TRY(r.OnlyKeys({"name", "encrypted", "address", "drift", "peers", "vips", "attachments"}));
  VpcHealth v;
  VPC_ASSIGN_OR_RETURN(v.name, r.Str("name"));
  if (!ValidateVpcName(v.name).ok()) return r.Bad("name", "is not a VPC name");
  VPC_ASSIGN_OR_RETURN(v.encrypted, r.Bool("encrypted"));
  VPC_ASSIGN_OR_RETURN(v.address, Address(r, "address", true));
  VPC_ASSIGN_OR_RETURN(v.drift, Steps(r, "drift"));
  VPC_ASSIGN_OR_RETURN(v.peers, List<PeerHealth>(r, "peers", kMaxList, ReadPeer));
  VPC_ASSIGN_OR_RETURN(v.vips, List<VipHealth>(r, "vips", kMaxList, ReadVip));
  VPC_ASSIGN_OR_RETURN(v.attachments, List<GuestHealth>(r, "attachments", kMaxList, ReadGuest));
  return v;
}

Result<NatReport> ReadNat(const json&, const JsonReader& r) {
  VPC_TRY(r.OnlyKeys({"family", "public", "local", "detected"}));
  NatReport n;
  VPC_ASSIGN_OR_RETURN(n.family, r.Str("family"));
  if (n.family != "ipv4" && n.family != "ipv6") return r.Bad("family", "is not ipv4 or ipv6");
  VPC_ASSIGN_OR_RETURN(n.public_address, Address(r, "public", false));
  VPC_ASSIGN_OR_RETURN(n.local, Address(r, "local", false));
  VPC_ASSIGN_OR_RETURN(n.detected, r.Bool("detected"));
  return n;
}

}  // namespace

json ApplyReport::ToJson() const {
  json j = {{"node", Opt(node)},
            {"generation", Opt(generation)},
            {"previous_generation", Opt(previous_generation)},
            {"dry_run", dry_run},
            {"duration_ms", duration_ms},
            {"error", Opt(error)},
            {"changes", changes},
            {"steps", StepsToJson(steps)},
            {"converged", converged},
            {"remaining", StepsToJson(remaining)},
            {"wireguard", wireguard ? json{{"public_key", Opt(wireguard->public_key)},
                                           {"engine", Opt(wireguard->engine)}}
                                    : json()}};
  if (no_map) j["no_map"] = true;
  if (dry_run) j["commands"] = commands;
  if (!handshakes_restarted.empty()) j["handshakes_restarted"] = handshakes_restarted;
  if (key_switch_offset_ms) j["key_switch_offset_ms"] = *key_switch_offset_ms;
  for (const auto& n : behind_nat) {
    j["behind_nat"].push_back({{"family", n.family},
                               {"public", n.public_address},
                               {"local", n.local},
                               {"detected", n.detected}});
  }
  return j;
}

Result<ApplyReport> ApplyReport::FromJson(const json& j) {
  JsonReader r(j, "apply report", "report");
  VPC_TRY(
      r.OnlyKeys({"node", "no_map", "generation", "previous_generation", "dry_run", "duration_ms",
                  "error", "changes", "steps", "converged", "remaining", "commands", "wireguard",
                  "handshakes_restarted", "key_switch_offset_ms", "behind_nat"}));
  ApplyReport a;
  if (r.Has("no_map")) {
    VPC_ASSIGN_OR_RETURN(a.no_map, r.Bool("no_map"));
  }
  VPC_ASSIGN_OR_RETURN(a.node, r.OptStr("node"));
  if (a.node && !ValidateNodeName(*a.node).ok()) return r.Bad("node", "is not a node name");
  if (!a.node && !a.no_map) return r.Bad("node", "is missing");
  VPC_ASSIGN_OR_RETURN(a.generation, OptGeneration(r, "generation"));
  VPC_ASSIGN_OR_RETURN(a.previous_generation, OptGeneration(r, "previous_generation"));
  VPC_ASSIGN_OR_RETURN(a.dry_run, r.Bool("dry_run"));
  VPC_ASSIGN_OR_RETURN(a.duration_ms, r.Num("duration_ms", 0, 1e12));
  VPC_ASSIGN_OR_RETURN(a.error, OptText(r, "error"));
  VPC_ASSIGN_OR_RETURN(int64_t changes, r.Int("changes", 0, INT64_MAX));
  a.changes = static_cast<uint64_t>(changes);
  VPC_ASSIGN_OR_RETURN(a.steps, Steps(r, "steps"));
  VPC_ASSIGN_OR_RETURN(a.converged, r.Bool("converged"));
  VPC_ASSIGN_OR_RETURN(a.remaining, Steps(r, "remaining"));
  if (r.Has("commands")) {
    VPC_ASSIGN_OR_RETURN(a.commands, List<std::string>(r, "commands", kMaxSteps, TextItem));
  }
  VPC_ASSIGN_OR_RETURN(a.wireguard, ReadWireguard(r));
  if (r.Has("handshakes_restarted")) {
    VPC_ASSIGN_OR_RETURN(a.handshakes_restarted,
                         List<std::string>(r, "handshakes_restarted", kMaxList, NodeItem));
  }
  if (r.Has("key_switch_offset_ms")) {
    VPC_ASSIGN_OR_RETURN(a.key_switch_offset_ms,
                         r.Int("key_switch_offset_ms", -kMaxKeySwitchOffsetMs, kMaxKeySwitchOffsetMs));
  }
  if (r.Has("behind_nat")) {
    VPC_ASSIGN_OR_RETURN(a.behind_nat, List<NatReport>(r, "behind_nat", 2, ReadNat));
  }
  return a;
}

const VpcHealth* StatusReport::FindVpc(std::string_view name) const {
  for (const auto& v : vpcs)
    if (v.name == name) return &v;
  return nullptr;
}

json StatusReport::ToJson() const {
  json arr = json::array();
  for (const auto& v : vpcs) {
    json peers = json::array();
    for (const auto& p : v.peers) {
      json pj = {{"node", p.node},
                 {"address", p.address},
                 {"transmitted", p.transmitted},
                 {"received", p.received},
                 {"loss_pct", p.loss_pct},
                 {"rtt_ms", Opt(p.rtt_ms)},
                 {"error", Opt(p.error)},
                 {"mtu", p.mtu},
                 {"mtu_ok", Opt(p.mtu_ok)},
                 {"path_mtu", Opt(p.path_mtu)}};
      if (p.encrypted) {
        pj["handshake_age_s"] = Opt(p.handshake_age_s);
        pj["handshake_stale"] = p.handshake_stale;
      }
      peers.push_back(pj);
    }
    json vips = json::array();
    for (const auto& x : v.vips) {
      json events = json::array();
      for (const auto& e : x.events) events.push_back({{"state", e.state}, {"at", e.at}});
      json vj = {{"vhid", x.vhid},        {"address", x.address}, {"rank", x.rank},
                 {"holds", x.holds},      {"state", Opt(x.state)},  {"since", Opt(x.since)},
                 {"events", events}};
      // The lease fields only when vipd answered.
      if (x.holder) vj["holder"] = *x.holder;
      if (x.epoch) vj["epoch"] = *x.epoch;
      if (x.remaining_ms) vj["remaining_ms"] = *x.remaining_ms;
      if (x.lease_state) vj["lease_state"] = *x.lease_state;
      if (x.round_ms) vj["round_ms"] = *x.round_ms;
      vips.push_back(std::move(vj));
    }
    json guests = json::array();
    for (const auto& g : v.attachments) {
      guests.push_back({{"kind", g.kind},
                        {"guest", g.guest},
                        {"interface", g.interface},
                        {"address", Opt(g.address)},
                        {"present", g.present},
                        {"on_bridge", g.on_bridge}});
    }
    arr.push_back({{"name", v.name},
                   {"encrypted", v.encrypted},
                   {"address", v.address},
                   {"drift", StepsToJson(v.drift)},
                   {"peers", peers},
                   {"vips", vips},
                   {"attachments", guests}});
  }
  return {{"node", node},      {"generation", generation}, {"vpcs", arr},
          {"stray", stray},    {"error", Opt(error)},      {"healthy", healthy}};
}

Result<StatusReport> StatusReport::FromJson(const json& j) {
  JsonReader r(j, "status report", "report");
  VPC_TRY(r.OnlyKeys({"node", "generation", "vpcs", "stray", "error", "healthy"}));
  StatusReport s;
  VPC_ASSIGN_OR_RETURN(s.node, NodeName(r, "node"));
  VPC_ASSIGN_OR_RETURN(int64_t gen, r.Int("generation", 0, INT64_MAX));
  s.generation = static_cast<uint64_t>(gen);
  VPC_ASSIGN_OR_RETURN(s.vpcs, List<VpcHealth>(r, "vpcs", kMaxList, ReadVpc));
  VPC_ASSIGN_OR_RETURN(s.stray, List<std::string>(r, "stray", kMaxSteps, TextItem));
  VPC_ASSIGN_OR_RETURN(s.error, OptText(r, "error"));
  VPC_ASSIGN_OR_RETURN(s.healthy, r.Bool("healthy"));
  return s;
}

json KeyReport::ToJson() const {
  return {{"public_key", public_key}, {"created", created}, {"rotated", rotated}};
}

Result<KeyReport> KeyReport::FromJson(const json& j) {
  JsonReader r(j, "key report", "report");
  VPC_TRY(r.OnlyKeys({"public_key", "created", "rotated"}));
  KeyReport k;
  VPC_ASSIGN_OR_RETURN(k.public_key, r.Str("public_key"));
  if (!crypto::IsWgKey(k.public_key)) return r.Bad("public_key", "is not a WireGuard public key");
  VPC_ASSIGN_OR_RETURN(k.created, r.Bool("created"));
  VPC_ASSIGN_OR_RETURN(k.rotated, r.Bool("rotated"));
  return k;
}

json ImportReport::ToJson() const {
  return {{"node", node}, {"before", Opt(before)}, {"after", after}};
}

Result<ImportReport> ImportReport::FromJson(const json& j) {
  JsonReader r(j, "import report", "report");
  VPC_TRY(r.OnlyKeys({"node", "before", "after"}));
  ImportReport i;
  VPC_ASSIGN_OR_RETURN(i.node, NodeName(r, "node"));
  VPC_ASSIGN_OR_RETURN(i.before, OptGeneration(r, "before"));
  VPC_ASSIGN_OR_RETURN(int64_t after, r.Int("after", 0, INT64_MAX));
  i.after = static_cast<uint64_t>(after);
  return i;
}

json VipTakeReport::ToJson() const {
  return {{"vpc", vpc}, {"vhid", vhid}, {"holder", holder}, {"took_ms", took_ms}};
}

Result<VipTakeReport> VipTakeReport::FromJson(const json& j) {
  JsonReader r(j, "vip-take report", "report");
  VPC_TRY(r.OnlyKeys({"vpc", "vhid", "holder", "took_ms"}));
  VipTakeReport t;
  VPC_ASSIGN_OR_RETURN(t.vpc, r.Str("vpc"));
  if (!ValidateVpcName(t.vpc).ok()) return r.Bad("vpc", "is not a VPC name");
  VPC_ASSIGN_OR_RETURN(int64_t vhid, r.Int("vhid", 1, 255));
  t.vhid = static_cast<int>(vhid);
  VPC_ASSIGN_OR_RETURN(t.holder, NodeName(r, "holder"));
  VPC_ASSIGN_OR_RETURN(t.took_ms, r.Int("took_ms", 0, kMaxLeaseReportMs));
  return t;
}

template <class Report>
Result<Report> ParseReport(std::string_view text) {
  VPC_ASSIGN_OR_RETURN(json j, ParseJsonObject(text, "report"));
  return Report::FromJson(j);
}

template Result<ApplyReport> ParseReport<ApplyReport>(std::string_view);
template Result<StatusReport> ParseReport<StatusReport>(std::string_view);
template Result<KeyReport> ParseReport<KeyReport>(std::string_view);
template Result<ImportReport> ParseReport<ImportReport>(std::string_view);
template Result<VipTakeReport> ParseReport<VipTakeReport>(std::string_view);

}  // namespace vpcctl::model
