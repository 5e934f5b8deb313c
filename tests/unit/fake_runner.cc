#include "fake_runner.h"

#include <algorithm>

#include "vpcctl/base/text.h"

namespace vpcctl::exec {

Result<int> FakeRunner::Start(const Argv& argv, const std::string&, const std::string&) {
  Argv call = {"start"};
  call.insert(call.end(), argv.begin(), argv.end());
  std::lock_guard<std::mutex> lock(mu_);
  calls_.push_back(call);
  return 4242;
}

void FakeRunner::On(const Argv& prefix, Handler h) {
  std::lock_guard<std::mutex> lock(mu_);
  handlers_.emplace_back(prefix, std::move(h));
}

std::vector<Argv> FakeRunner::calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_;
}

void FakeRunner::On(const Argv& prefix, std::string out, int exit_code) {
  On(prefix, [out, exit_code](const Argv&, const std::string&) {
    CommandResult r;
    r.out = out;
    r.exit_code = exit_code;
    return r;
  });
}

Result<CommandResult> FakeRunner::Run(const Argv& argv, const std::string& input,
                                      std::chrono::milliseconds) {
  Handler best;
  {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.push_back(argv);
    size_t best_len = 0;
    bool found = false;
    for (const auto& [prefix, h] : handlers_) {
      if (prefix.size() > argv.size() || (found && prefix.size() < best_len)) continue;
      if (std::equal(prefix.begin(), prefix.end(), argv.begin())) {
        best = h;
        best_len = prefix.size();
        found = true;
      }
    }
  }
  if (!best) return Failure("fake runner: no handler for " + ShellLine(argv));
  return best(argv, input);
}

}  // namespace vpcctl::exec
