#include "vpcctl/platform/driver.h"

#include "vpcctl/agent/paths.h"
#include "vpcctl/base/text.h"
#include "vpcctl/platform/freebsd.h"
#include "vpcctl/platform/linux.h"
#include "vpcctl/vipd/config.h"

namespace vpcctl::platform {

const Driver& DriverFor(model::Platform p) {
  static const LinuxDriver linux_driver;
  static const FreeBsdDriver freebsd_driver;
  if (p == model::Platform::kFreeBSD) return freebsd_driver;
  return linux_driver;
}

std::vector<Argv> RenderAll(const Driver& d, const std::vector<plan::Step>& steps) {
  std::vector<Argv> out;
  for (const auto& s : steps) {
    auto cmds = d.Render(s);
    out.insert(out.end(), cmds.begin(), cmds.end());
  }
  return out;
}

bool HasAddress(const plan::Observed& observed, const net::IpAddress& address) {
  for (const auto& i : observed.interfaces)
    for (const auto& a : i.addresses)
      if (a.address == address) return true;
  return false;
}

std::string Endpoint(const net::IpAddress& a, int port) {
  return (a.is_v6() ? "[" + a.ToString() + "]" : a.ToString()) + ":" + std::to_string(port);
}

std::string WgKeyPath(const NodeEnv& env) { return env.state_dir + "/wg.key"; }

plan::DesiredFile VipdConfigFile(const plan::Desired& d, const NodeEnv& env) {
  vipd::Config c = vipd::ConfigFor(d);
  plan::DesiredFile f{vipd::ConfigPath(env.state_dir), vipd::ConfigToJson(c), 0600, {}, {}};
  for (const auto& v : c.vips) f.secrets.push_back(v.secret);
  return f;
}

namespace {

// A daemon that is vpcctl itself (`vpcctl --state-dir DIR COMMAND`), detached by apply, with its
// pid file, log and socket in the state directory; started only when `wanted`.
plan::DesiredDaemon VpcctlDaemon(const std::string& command, bool wanted, const NodeEnv& env,
                                 std::string pidfile, std::string log, std::string socket) {
  plan::DesiredDaemon d;
  d.name = command;
  d.pidfile = std::move(pidfile);
  if (wanted) d.start = {env.vpcctl, "--state-dir", env.state_dir, command};
  d.detach = true;
  d.log = std::move(log);
  d.ready = std::move(socket);
  // A socket left by one that died would pass for the new one's before it is ready.
  d.stale = {d.pidfile, d.ready};
  d.program = "vpcctl";
  d.marks = {command, env.state_dir};
  return d;
}

}  // namespace

plan::DesiredDaemon VipdDaemon(const plan::Desired& d, const NodeEnv& env) {
  plan::DesiredDaemon v =
      VpcctlDaemon("vipd", !vipd::ConfigFor(d).vips.empty(), env, vipd::PidfilePath(env.state_dir),
                   vipd::LogPath(env.state_dir), vipd::SocketPath(env.state_dir));
  v.config = vipd::ConfigPath(env.state_dir);
  v.reload_on_hup = true;
  return v;
}

plan::DesiredDaemon AgentDaemon(const plan::Desired& d, const NodeEnv& env) {
  plan::DesiredDaemon a =
      VpcctlDaemon("agent", !d.vpcs.empty(), env, agent::PidfilePath(env.state_dir),
                   agent::LogPath(env.state_dir), agent::SocketPath(env.state_dir));
  a.unwanted = "no VPC left";
  return a;
}

plan::DesiredFirewall FirewallPaths(const NodeEnv& env) {
  plan::DesiredFirewall fw;
  fw.rules_path = env.state_dir + "/firewall.rules";
  fw.listing_path = env.state_dir + "/firewall.listing";
  return fw;
}

namespace {

std::vector<Argv> RenderWireguard(const plan::Step& s) {
  const std::string& i = s.ifname;
  switch (s.action) {
    case plan::Action::kSetWireguard: {
      std::vector<Argv> out = {{"wg", "set", i, "listen-port", std::to_string(s.wireguard.port),
                                "private-key", s.wireguard.key_file}};
      // Turning keepalive off and on again sends one at once: the peer handshakes with the new key
      // now rather than after WireGuard's 5 s retry.
      if (!s.poke.empty()) {
        for (const std::string& interval : {std::string("0"), std::to_string(model::kWgKeepalive)}) {
          Argv poke = {"wg", "set", i};
          for (const auto& key : s.poke) {
            poke.insert(poke.end(), {"peer", key, "persistent-keepalive", interval});
          }
          out.push_back(std::move(poke));
        }
      }
      return out;
    }
    case plan::Action::kSetWgPeer: {
      const auto& p = s.wg_peer;
      return {{"wg", "set", i, "peer", p.public_key, "endpoint", Endpoint(p.endpoint, p.port),
               "allowed-ips", p.transport.ToString() + "/" + std::to_string(p.transport.bits()),
               "persistent-keepalive", std::to_string(model::kWgKeepalive)}};
    }
    case plan::Action::kRemoveWgPeer:
      return {{"wg", "set", i, "peer", s.wg_peer.public_key, "remove"}};
    default:
      return {};
  }
}

}  // namespace

std::optional<std::vector<Argv>> RenderCommon(const plan::Step& s) {
  switch (s.action) {
    case plan::Action::kWriteFile:
    case plan::Action::kRemoveFile:
      if (s.file.on_change.empty()) return std::vector<Argv>{};
      return std::vector<Argv>{s.file.on_change};
    case plan::Action::kStartDaemon:
      // A detached daemon is started by apply itself (it writes the pid file).
      if (s.daemon.detach) return std::vector<Argv>{};
      return std::vector<Argv>{s.daemon.start};
    case plan::Action::kSetWireguard:
    case plan::Action::kSetWgPeer:
    case plan::Action::kRemoveWgPeer:
      return RenderWireguard(s);
    case plan::Action::kReloadDaemon:
    case plan::Action::kStopDaemon:
      return std::vector<Argv>{};
    default:
      return std::nullopt;
  }
}

std::vector<Argv> MergeWgPeerCommands(const std::vector<Argv>& commands) {
  auto peers_only = [](const Argv& c) {
    return c.size() > 4 && c[0] == "wg" && c[1] == "set" && c[3] == "peer";
  };
  std::vector<Argv> out;
  for (const auto& c : commands) {
    if (!out.empty() && peers_only(c) && peers_only(out.back()) && out.back()[2] == c[2]) {
      out.back().insert(out.back().end(), c.begin() + 3, c.end());
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Result<std::vector<Invocation>> Driver::Batch(const std::vector<Argv>& commands) const {
  std::vector<Invocation> out;
  for (const auto& c : MergeWgPeerCommands(commands)) out.push_back(Invocation{c, ""});
  return out;
}

std::string RenderScript(const Driver& d, const std::vector<plan::Step>& steps) {
  std::string out;
  for (const auto& s : steps) {
    out += "# " + plan::Describe(s) + "\n";
    if (s.action == plan::Action::kWriteFile) {
      for (const auto& line : Split(s.file.content, '\n'))
        if (!line.empty()) out += "#   " + line + "\n";
    }
    if (s.action == plan::Action::kReloadDaemon) {
      out += "# kill -HUP $(head -n 1 " + s.daemon.pidfile + ")\n";
    }
    if (s.action == plan::Action::kStopDaemon) {
      out += "# kill -TERM $(head -n 1 " + s.daemon.pidfile + ")\n";
    }
    if (s.action == plan::Action::kStartDaemon && s.daemon.detach) {
      out += "# detached, pid in " + s.daemon.pidfile + ", output to " + s.daemon.log + ": " +
             ShellLine(s.daemon.start) + "\n";
      if (!s.daemon.spread_interface.empty()) {
        out += "# then receive packet steering over all CPUs: /sys/class/net/" +
               s.daemon.spread_interface + "/queues/rx-0/rps_cpus\n";
      }
    }
    if (s.action == plan::Action::kLoadFirewall) {
      out += "# " + s.firewall.rules_path + ":\n";
      for (const auto& line : Split(s.firewall.rules, '\n'))
        if (!line.empty()) out += "#   " + line + "\n";
    }
    for (const auto& argv : d.Render(s)) out += ShellLine(argv) + "\n";
  }
  return out;
}

}  // namespace vpcctl::platform

namespace vpcctl::platform {

Argv WireguardProbe(const std::string& ifname) { return {"wg", "show", ifname, "dump"}; }

Argv WireguardHandshakesProbe(const std::string& ifname) {
  return {"wg", "show", ifname, "latest-handshakes"};
}

Result<std::map<std::string, int64_t>> ParseWgHandshakes(std::string_view output) {
  std::map<std::string, int64_t> out;
  for (const auto& raw : Split(output, '\n')) {
    if (raw.empty()) continue;
    auto f = Split(raw, '\t');
    auto ts = f.size() == 2 ? ParseUint(f[1], INT64_MAX) : std::nullopt;
    if (!ts) return Failure("cannot read `wg show latest-handshakes`: " + Quoted(raw));
    out[f[0]] = static_cast<int64_t>(*ts);
  }
  return out;
}

void ScrubWgDump(std::string& output) {
  size_t tab = output.find('\t');
  size_t nl = output.find('\n');
  if (tab == std::string::npos || (nl != std::string::npos && nl < tab)) return;
  for (size_t i = 0; i < tab; ++i) output[i] = 'x';
}

Result<plan::ObservedWireguard> ParseWgDump(std::string_view output) {
  plan::ObservedWireguard w;
  bool first = true;
  size_t line_no = 0;
  for (const auto& raw : Split(output, '\n')) {
    ++line_no;
    if (raw.empty()) continue;
    auto f = Split(raw, '\t');
    if (first) {
      // private-key public-key listen-port fwmark
      if (f.size() != 4) return Failure("cannot read `wg show dump`: its first line is not the device");
      w.public_key = f[1] == "(none)" ? "" : f[1];
      auto port = ParseUint(f[2], 65535);
      w.port = port ? static_cast<int>(*port) : 0;
      first = false;
      continue;
    }
    // public-key preshared-key endpoint allowed-ips latest-handshake rx tx keepalive
    if (f.size() != 8) {
      // Never quote the line: a peer may carry a preshared key.
      return Failure("cannot read `wg show dump`: line " + std::to_string(line_no) + " has " +
                     std::to_string(f.size()) + " fields, not a peer's 8");
    }
    plan::ObservedWgPeer p;
    p.public_key = f[0];
    net::IpAddress a;
    int port = 0;
    if (net::ParseEndpoint(f[2], &a, &port)) {  // "(none)" gives nothing
      p.endpoint = a;
      p.endpoint_port = port;
    }
    if (f[3] != "(none)") {
      for (const auto& ip : Split(f[3], ',')) p.allowed_ips.push_back(std::string(Trim(ip)));
    }
    // A time past INT64_MAX is no time we can compare with: read as "never".
    p.latest_handshake = static_cast<int64_t>(ParseUint(f[4], INT64_MAX).value_or(0));
    p.keepalive = f[7] == "off" ? 0 : static_cast<int>(ParseUint(f[7], 65535).value_or(0));
    w.peers.push_back(std::move(p));
  }
  if (first) return Failure("cannot read `wg show dump`: no output");
  return w;
}

}  // namespace vpcctl::platform
