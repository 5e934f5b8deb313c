// A scripted Runner for unit tests: a handler per command line prefix, and a log of every call.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "vpcctl/exec/runner.h"

namespace vpcctl::exec {

// Thread-safe (fan-outs run commands from several threads); handlers must be too.
class FakeRunner : public Runner {
 public:
  using Handler = std::function<CommandResult(const Argv&, const std::string& input)>;
  // Answers commands whose argv starts with `prefix` (longest prefix wins).
  void On(const Argv& prefix, Handler h);
  void On(const Argv& prefix, std::string out, int exit_code = 0);
  Result<CommandResult> Run(const Argv& argv, const std::string& input,
                            std::chrono::milliseconds timeout) override;
  // Records the start as a call ("start" followed by argv) and answers pid 4242.
  Result<int> Start(const Argv& argv, const std::string& log, const std::string& pidfile) override;
  std::vector<Argv> calls() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::pair<Argv, Handler>> handlers_;
  std::vector<Argv> calls_;
};

}  // namespace vpcctl::exec
