// A prober for tests: every peer answers (no loss, 0.2 ms, the full size carried) unless `answer`
// says otherwise; what was asked is recorded.
#pragma once

#include <functional>
#include <mutex>
#include <vector>

#include "vpcctl/probe/prober.h"

namespace vpcctl::testing {

class FakeProber : public probe::Prober {
 public:
  static probe::Outcome Healthy(const probe::Target& t, const probe::Plan& plan) {
    probe::Outcome o;
    o.resolved = true;
    o.sent = 1 + plan.count + (plan.mtu ? 1 : 0);
    o.received = o.sent;
    o.measured = plan.count;
    o.rtt_ms = 0.2;
    if (plan.mtu) {
      o.mtu = t.mtu;
      o.mtu_ok = true;
    }
    return o;
  }

  Result<std::vector<probe::Outcome>> Probe(const std::vector<probe::Target>& targets,
                                            const probe::Plan& plan) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (fail) return Failure(*fail);
    std::vector<probe::Outcome> out;
    for (const auto& t : targets) {
      asked.push_back(t);
      out.push_back(answer ? answer(t, plan) : Healthy(t, plan));
    }
    return out;
  }

  std::function<probe::Outcome(const probe::Target&, const probe::Plan&)> answer;
  std::optional<std::string> fail;
  std::vector<probe::Target> asked;

 private:
  std::mutex mu_;
};

}  // namespace vpcctl::testing
