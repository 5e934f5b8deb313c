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

std::string RenderScript(const Driver& d, const std::vector<plan::Step>& steps) {
  std::string out;
  for (const auto& s : steps) {
    out += "# " + plan::Describe(s) + "\n";
    for (const auto& argv : d.Render(s)) out += ShellLine(argv) + "\n";
  }
  return out;
}

}  // namespace vpcctl::platform
