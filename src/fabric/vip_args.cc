#include "vpcctl/fabric/vip_args.h"

#include "vpcctl/base/text.h"
#include "vpcctl/model/map.h"
#include "vpcctl/model/names.h"

namespace vpcctl::fabric {

using json = nlohmann::json;

// A VIP named by its vhid or its address.
Result<const model::Vip*> FindVip(const model::Vpc& vpc, const std::string& which) {
  auto addr = net::IpAddress::Parse(which);
  for (const auto& v : vpc.vips) {
    if ((addr && v.address == *addr) || std::to_string(v.vhid) == which) return &v;
  }
  return UsageError("VPC " + Quoted(vpc.name) + " has no VIP " + Quoted(which) +
                    " (give its address or vhid; see `vpcctl vip list " + vpc.name + "`)");
}

json VipJson(const model::Vpc& vpc, const model::Vip& v, bool show_secrets) {
  return {{"vpc", vpc.name},
          {"address", v.address.ToString()},
          {"vhid", v.vhid},
          {"nodes", v.nodes},
          {"advert_ms", v.advert_ms},
          {"preempt", v.preempt},
          {"lease_ms", v.lease_ms},
          {"check", v.check.empty() ? json() : json(v.check)},
          {"witness", v.witness.empty() ? json() : json(v.witness)},
          {"unsafe_two_node", v.unsafe_two_node},
          {"secret", show_secrets ? json(v.secret) : json(model::kRedacted)}};
}

std::optional<int> ParseMsOption(const std::string& flag, const std::string& text,
                                 Problems& problems) {
  if (text.empty()) return std::nullopt;
  auto v = ParseUint(text, 10000000);
  if (!v) {
    problems.Add(UsageError("invalid " + flag + " " + Quoted(text) + ": must be a whole number of milliseconds"));
    return std::nullopt;
  }
  return static_cast<int>(*v);
}

void CheckNodeOption(const std::string& flag, const std::string& name, Problems& problems) {
  auto st = model::ValidateNodeName(name);
  if (!st.ok()) problems.Add(UsageError(st.error().message + " in " + flag));
}

// --nodes a,b[,c]: each a node name.
std::vector<std::string> ParseNodeList(const std::string& text, Problems& problems) {
  std::vector<std::string> out;
  for (const auto& n : Split(text, ',')) {
    auto st = model::ValidateNodeName(n);
    if (!st.ok()) {
      problems.Add(UsageError(st.error().message + " in --nodes"));
    } else {
      out.push_back(n);
    }
  }
  return out;
}

// A check's program must be an executable file on this node when this node is a candidate (the
// other candidates are nodes this one cannot look into).
Status CheckRunsHere(const exec::Host& host, const model::Vip& vip, const std::string& local_node) {
  if (vip.check.empty() || vip.Rank(local_node) < 0) return {};
  std::string program(model::CheckProgram(vip.check));
  exec::FileInfo info = host.Stat(program);
  if (!info.exists) {
    return UsageError("invalid check " + Quoted(vip.check) + ": " + Quoted(program) +
                      " does not exist on " + local_node + " (a candidate of the VIP)");
  }
  if (!info.regular || !info.executable) {
    return UsageError("invalid check " + Quoted(vip.check) + ": " + Quoted(program) +
                      " is not an executable file on " + local_node + " (a candidate of the VIP)");
  }
  return {};
}

}  // namespace vpcctl::fabric
