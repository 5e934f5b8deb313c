// A clock for the unit tests: it stands still until a sleep moves it on, and records the sleeps.
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

#include "vpcctl/base/clock.h"

namespace vpcctl::testing {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t now_ms) : now_(now_ms) {}
  int64_t NowMs() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return now_;
  }
  void SleepMs(int64_t ms) const override {
    std::lock_guard<std::mutex> lock(mu_);
    sleeps_.push_back(ms);
    if (ms > 0) now_ += ms;
  }
  void Advance(int64_t ms) {
    std::lock_guard<std::mutex> lock(mu_);
    now_ += ms;
  }
  std::vector<int64_t> sleeps() const {
    std::lock_guard<std::mutex> lock(mu_);
    return sleeps_;
  }

 private:
  mutable std::mutex mu_;
  mutable int64_t now_;
  mutable std::vector<int64_t> sleeps_;
};

}  // namespace vpcctl::testing
