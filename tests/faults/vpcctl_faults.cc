// vpcctl-faults: vpcctl with crash points, for the crash tests (tests/e2e/faults_test.sh,
// deploy_test.sh). Never installed. Its environment names the crash:
//   VPCCTL_FAULT_DEPLOY_KILL_AT=before-sync|during-sync|after-sync  the controller's deploy
//   VPCCTL_FAULT_KILL_AFTER=N  an apply, once it has run N commands on its host
// and the process dies there by SIGKILL, as in a power cut. Anything else is vpcctl as shipped.
#include <signal.h>

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>

#include "commands.h"
#include "vpcctl/base/text.h"
#include "vpcctl/fabric/faults.h"

namespace {

class EnvFaults : public vpcctl::fabric::Faults {
 public:
  EnvFaults(std::string kill_at, size_t commands)
      : kill_at_(std::move(kill_at)), commands_(commands) {}
  size_t ApplyCommands() const override { return commands_; }
  void At(std::string_view point) override {
    if (point == kill_at_ || (point == "apply-budget-spent" && commands_ != SIZE_MAX)) {
      raise(SIGKILL);
    }
  }

 private:
  std::string kill_at_;
  size_t commands_;
};

const char* Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

int main(int argc, char** argv) {
  std::string kill_at = Env("VPCCTL_FAULT_DEPLOY_KILL_AT");
  std::string after = Env("VPCCTL_FAULT_KILL_AFTER");
  if (!kill_at.empty() && kill_at != "before-sync" && kill_at != "during-sync" &&
      kill_at != "after-sync") {
    std::cerr << "vpcctl-faults: invalid VPCCTL_FAULT_DEPLOY_KILL_AT " << vpcctl::Quoted(kill_at)
              << ": must be before-sync, during-sync or after-sync\n";
    return 2;
  }
  size_t commands = SIZE_MAX;
  if (!after.empty()) {
    auto n = vpcctl::ParseUint(after, 1000000);
    if (!n) {
      std::cerr << "vpcctl-faults: invalid VPCCTL_FAULT_KILL_AFTER " << vpcctl::Quoted(after)
                << ": must be 0-1000000 commands\n";
      return 2;
    }
    commands = static_cast<size_t>(*n);
  }
  EnvFaults faults(kill_at, commands);
  return vpcctl::cli::Main(argc, argv, &faults);
}
