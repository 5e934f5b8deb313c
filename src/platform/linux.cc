#include "vpcctl/platform/linux.h"

#include <nlohmann/json.hpp>

#include "vpcctl/base/text.h"

namespace vpcctl::platform {

using plan::Action;
using json = nlohmann::json;

std::vector<Argv> LinuxDriver::Render(const plan::Step& s) const {
  const std::string& i = s.ifname;
  std::string tag = plan::OwnerTag(s.vpc);
  switch (s.action) {
    case Action::kDestroy:
      return {{"ip", "link", "del", "dev", i}};
    case Action::kCreateTunnel: {
      const auto& t = s.tunnel;
      return {{"ip", "link", "add", "name", i, "mtu", std::to_string(s.mtu), "type", "vxlan", "id",
               std::to_string(t.vni), "local", t.local.ToString(), "remote", t.remote.ToString(),
               "dstport", std::to_string(t.port)},
              {"ip", "link", "set", "dev", i, "alias", tag}};
    }
    case Action::kCreateBridge:
      return {{"ip", "link", "add", "name", i, "mtu", std::to_string(s.mtu), "type", "bridge"},
              {"ip", "link", "set", "dev", i, "alias", tag}};
    case Action::kSetOwner:
      return {{"ip", "link", "set", "dev", i, "alias", tag}};
    case Action::kSetMtu:
      return {{"ip", "link", "set", "dev", i, "mtu", std::to_string(s.mtu)}};
    // Port isolation in ip's bridge_slave form (the same flag as `bridge link set dev X isolated
    // on`), so that a whole plan is one `ip -batch`.
    case Action::kAddMember:
      return {{"ip", "link", "set", "dev", i, "master", s.bridge},
              {"ip", "link", "set", "dev", i, "type", "bridge_slave", "isolated", "on"}};
    case Action::kSetIsolated:
      return {{"ip", "link", "set", "dev", i, "type", "bridge_slave", "isolated", "on"}};
    case Action::kAddAddress:
      return {{"ip", "addr", "add", s.address.ToString(), "dev", i}};
    case Action::kRemoveAddress:
      return {{"ip", "addr", "del", s.address.ToString(), "dev", i}};
    case Action::kUp:
      return {{"ip", "link", "set", "dev", i, "up"}};
  }
  return {};
}

std::vector<Argv> LinuxDriver::ProbeCommands() const {
  return {{"ip", "-j", "-d", "link", "show"},
          {"ip", "-j", "addr", "show"},
          {"bridge", "-j", "-d", "link", "show"}};
}

std::vector<Invocation> LinuxDriver::Batch(const std::vector<Argv>& commands) const {
  std::vector<Invocation> out;
  for (size_t i = 0; i < commands.size();) {
    const std::string& prog = commands[i][0];
    size_t j = i;
    while (j < commands.size() && commands[j][0] == prog) ++j;
    if ((prog == "ip" || prog == "bridge") && j - i > 1) {
      Invocation inv{{prog, "-batch", "-"}, ""};
      for (size_t k = i; k < j; ++k) {
        inv.input += ShellLine(Argv(commands[k].begin() + 1, commands[k].end())) + "\n";
      }
      out.push_back(std::move(inv));
    } else {
      for (size_t k = i; k < j; ++k) out.push_back(Invocation{commands[k], ""});
    }
    i = j;
  }
  return out;
}

Argv LinuxDriver::PingCommand(const std::string& bridge, const net::IpAddress&,
                              const net::IpAddress& to, int count) const {
  return {"ping", "-n", "-q", "-c", std::to_string(count), "-i", "0.2", "-W", "1", "-I", bridge,
          to.ToString()};
}

namespace {

Result<json> ParseArray(std::string_view text, const char* what) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_array()) {
    return Failure(std::string("cannot parse the output of `") + what + "`: not a JSON array");
  }
  return j;
}

std::string Str(const json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int Int(const json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_number_integer() ? it->get<int>() : 0;
}

std::optional<net::IpAddress> Addr(const json& o, const char* v4, const char* v6) {
  for (const char* k : {v4, v6}) {
    std::string s = Str(o, k);
    if (s.empty()) continue;
    auto a = net::IpAddress::Parse(s);
    if (a) return *a;
  }
  return std::nullopt;
}

}  // namespace

Result<std::vector<plan::ObservedInterface>> ParseIpLink(std::string_view text) {
  VPC_ASSIGN_OR_RETURN(json j, ParseArray(text, "ip -j -d link show"));
  std::vector<plan::ObservedInterface> out;
  for (const auto& e : j) {
    if (!e.is_object()) continue;
    plan::ObservedInterface o;
    o.name = Str(e, "ifname");
    if (o.name.empty()) continue;
    o.ifindex = Int(e, "ifindex");
    o.mtu = Int(e, "mtu");
    o.owner = Str(e, "ifalias");
    o.master = Str(e, "master");
    if (auto f = e.find("flags"); f != e.end() && f->is_array()) {
      for (const auto& flag : *f)
        if (flag.is_string() && flag.get<std::string>() == "UP") o.up = true;
    }
    if (auto li = e.find("linkinfo"); li != e.end() && li->is_object()) {
      std::string kind = Str(*li, "info_kind");
      auto data = li->find("info_data");
      if (kind == "vxlan") {
        o.kind = plan::IfKind::kVxlan;
        if (data != li->end() && data->is_object()) {
          if (auto id = data->find("id"); id != data->end() && id->is_number_unsigned())
            o.vni = id->get<uint32_t>();
          o.local = Addr(*data, "local", "local6");
          o.remote = Addr(*data, "remote", "remote6");
          o.port = Int(*data, "port");
        }
      } else if (kind == "bridge") {
        o.kind = plan::IfKind::kBridge;
      }
      if (Str(*li, "info_slave_kind") == "bridge") {
        auto sd = li->find("info_slave_data");
        if (sd != li->end() && sd->is_object()) {
          auto iso = sd->find("isolated");
          o.isolated = iso != sd->end() && iso->is_boolean() && iso->get<bool>();
        }
      }
    }
    out.push_back(std::move(o));
  }
  return out;
}

Result<std::map<std::string, std::vector<net::IfAddress>>> ParseIpAddr(std::string_view text) {
  VPC_ASSIGN_OR_RETURN(json j, ParseArray(text, "ip -j addr show"));
  std::map<std::string, std::vector<net::IfAddress>> out;
  for (const auto& e : j) {
    if (!e.is_object()) continue;
    std::string name = Str(e, "ifname");
    if (name.empty()) continue;
    auto& list = out[name];
    auto ai = e.find("addr_info");
    if (ai == e.end() || !ai->is_array()) continue;
    for (const auto& a : *ai) {
      if (!a.is_object()) continue;
      auto ip = net::IpAddress::Parse(Str(a, "local"));
      int len = Int(a, "prefixlen");
      if (!ip || len < 0 || len > ip->bits()) continue;
      list.push_back(net::IfAddress{*ip, len});
    }
  }
  return out;
}

Result<std::map<std::string, BridgePort>> ParseBridgeLink(std::string_view text) {
  VPC_ASSIGN_OR_RETURN(json j, ParseArray(text, "bridge -j -d link show"));
  std::map<std::string, BridgePort> out;
  for (const auto& e : j) {
    if (!e.is_object()) continue;
    std::string name = Str(e, "ifname");
    if (name.empty()) continue;
    BridgePort p;
    p.master = Str(e, "master");
    auto iso = e.find("isolated");
    p.isolated = iso != e.end() && iso->is_boolean() && iso->get<bool>();
    out[name] = p;
  }
  return out;
}

Result<plan::Observed> LinuxDriver::ParseProbe(const std::vector<std::string>& outputs) const {
  if (outputs.size() != 3) return Failure("linux probe: expected 3 outputs");
  VPC_ASSIGN_OR_RETURN(auto links, ParseIpLink(outputs[0]));
  VPC_ASSIGN_OR_RETURN(auto addrs, ParseIpAddr(outputs[1]));
  VPC_ASSIGN_OR_RETURN(auto ports, ParseBridgeLink(outputs[2]));
  plan::Observed obs;
  for (auto& l : links) {
    if (auto it = addrs.find(l.name); it != addrs.end()) l.addresses = it->second;
    if (auto it = ports.find(l.name); it != ports.end()) {
      if (l.master.empty()) l.master = it->second.master;
      l.isolated = l.isolated || it->second.isolated;
    }
    obs.interfaces.push_back(std::move(l));
  }
  return obs;
}

}  // namespace vpcctl::platform
