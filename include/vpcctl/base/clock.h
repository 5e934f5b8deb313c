// The wall clock as a port: operations that wait for a moment (a rekey's switch) read and sleep
// through it, so tests run them on a fake clock instead of waiting.
#pragma once

#include <cstdint>

namespace vpcctl {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch.
  virtual int64_t NowMs() const = 0;
  virtual void SleepMs(int64_t ms) const = 0;
};

// The system's clock (std::chrono::system_clock) and std::this_thread::sleep_for.
const Clock& SystemClock();

}  // namespace vpcctl
