// `vpcctl connections`: the SSH sessions the keeper holds for this controller (ssh/keeper.h).
#include "vpcctl/fabric/connections.h"

#include <cstdio>

#include "vpcctl/fabric/format.h"
#include "vpcctl/ssh/keeper.h"

namespace vpcctl::fabric {

Status ConnectionsServe(Context& ctx, std::chrono::milliseconds idle) {
  return ssh::ServeKeeper(ctx.ssh, {ssh::KeeperSocket(ctx.paths.dir), idle});
}

Status ConnectionsList(Context& ctx, bool json) {
  auto held = ssh::KeeperSessions(ssh::KeeperSocket(ctx.paths.dir));
  std::vector<ssh::HeldSession> sessions = held ? *held : std::vector<ssh::HeldSession>{};
  if (json) {
    nlohmann::json out = {{"keeper", held.ok()}, {"sessions", nlohmann::json::array()}};
    for (const auto& s : sessions) {
      out["sessions"].push_back({{"endpoint", s.endpoint},
                                 {"busy", s.busy},
                                 {"idle_s", s.idle_s},
                                 {"age_s", s.age_s},
                                 {"commands", s.commands}});
    }
    PrintJson(ctx.io.out, out);
    return {};
  }
  if (!held) {
    ctx.io.out << "no session keeper is running (commands connect to each node themselves; "
                  "--persist SECS keeps sessions)\n";
    return {};
  }
  Table t({"ENDPOINT", "STATE", "IDLE S", "AGE S", "COMMANDS"});
  for (const auto& s : sessions) {
    char idle[16], age[16];
    std::snprintf(idle, sizeof idle, "%.0f", s.idle_s);
    std::snprintf(age, sizeof age, "%.0f", s.age_s);
    t.Row({s.endpoint, s.busy ? "busy" : "idle", idle, age, std::to_string(s.commands)});
  }
  t.Print(ctx.io.out);
  return {};
}

Status ConnectionsClose(Context& ctx) {
  VPC_ASSIGN_OR_RETURN(bool was, ssh::StopKeeper(ssh::KeeperSocket(ctx.paths.dir)));
  ctx.io.Info(was ? "closed the kept sessions; the keeper stopped"
                  : "no session keeper was running");
  return {};
}

}  // namespace vpcctl::fabric
