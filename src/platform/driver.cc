#include "vpcctl/platform/driver.h"

#include "vpcctl/base/text.h"
#include "vpcctl/platform/freebsd.h"
#include "vpcctl/platform/linux.h"

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

std::optional<std::vector<Argv>> RenderCommon(const plan::Step& s) {
  switch (s.action) {
    case plan::Action::kWriteFile:
    case plan::Action::kRemoveFile:
      if (s.file.on_change.empty()) return std::vector<Argv>{};
      return std::vector<Argv>{s.file.on_change};
    case plan::Action::kStartDaemon:
      return std::vector<Argv>{s.daemon.start};
    case plan::Action::kReloadDaemon:
    case plan::Action::kStopDaemon:
      return std::vector<Argv>{};
    default:
      return std::nullopt;
  }
}

std::vector<Invocation> Driver::Batch(const std::vector<Argv>& commands) const {
  std::vector<Invocation> out;
  for (const auto& c : commands) out.push_back(Invocation{c, ""});
  return out;
}

Result<PingResult> ParsePing(std::string_view output) {
  PingResult r;
  bool found = false;
  for (const auto& raw : Split(output, '\n')) {
    std::string_view line = Trim(raw);
    size_t tx = line.find(" packets transmitted, ");
    if (tx != std::string_view::npos) {
      auto t = ParseUint(line.substr(0, tx), 1000000);
      std::string_view rest = line.substr(tx + 22);
      size_t sp = rest.find(' ');
      auto rx = ParseUint(rest.substr(0, sp), 1000000);
      if (!t || !rx) return Failure("cannot read ping output: " + Quoted(line));
      r.transmitted = static_cast<int>(*t);
      r.received = static_cast<int>(*rx);
      found = true;
      continue;
    }
    // "rtt min/avg/max/mdev = 0.041/0.052/0.066/0.010 ms" (iputils),
    // "round-trip min/avg/max/stddev = 0.041/0.052/0.066/0.010 ms" (FreeBSD)
    size_t eq = line.find(" = ");
    if ((StartsWith(line, "rtt ") || StartsWith(line, "round-trip ")) && eq != std::string_view::npos) {
      auto parts = Split(line.substr(eq + 3), '/');
      if (parts.size() >= 2) {
        try {
          r.avg_ms = std::stod(parts[1]);
        } catch (...) {
          return Failure("cannot read ping output: " + Quoted(line));
        }
      }
    }
  }
  if (!found) return Failure("cannot read ping output: no summary line");
  return r;
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
      out += "# kill -HUP $(cat " + s.daemon.pidfile + ")\n";
    }
    if (s.action == plan::Action::kStopDaemon) {
      out += "# kill -TERM $(cat " + s.daemon.pidfile + ")\n";
    }
    for (const auto& argv : d.Render(s)) out += ShellLine(argv) + "\n";
  }
  return out;
}

}  // namespace vpcctl::platform
