// Crash points for the crash tests, as a port of the Context. The vpcctl binary has none
// (Context::faults is null: no crash point is ever taken, nothing is read from the environment);
// the test-only binary vpcctl-faults (tests/faults/) installs one.
#pragma once

#include <cstddef>
#include <string_view>

namespace vpcctl::fabric {

class Faults {
 public:
  virtual ~Faults() = default;
  // How many commands an apply runs on its host before it reaches "apply-budget-spent" (the
  // commands batched so far run first). SIZE_MAX: no limit.
  virtual size_t ApplyCommands() const = 0;
  // A command reached `point`: deploy's "before-sync" (state locked, nothing sent), "during-sync"
  // (a node answered) and "after-sync" (all answered, the clean-up records not yet written);
  // apply's "apply-budget-spent".
  virtual void At(std::string_view point) = 0;
};

}  // namespace vpcctl::fabric
