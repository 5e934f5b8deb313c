// The user at the terminal: questions and secrets. Abstract so tests script the answers.
#pragma once

#include <string>

#include "vpcctl/base/result.h"

namespace vpcctl::exec {

class Terminal {
 public:
  virtual ~Terminal() = default;
  // True when stdin is a terminal someone can answer on.
  virtual bool Interactive() const = 0;
  // Prompts on the terminal and reads a line without echo.
  virtual Result<std::string> ReadSecret(const std::string& prompt) = 0;
  // Asks a yes/no question; anything but y/yes is no.
  virtual Result<bool> Confirm(const std::string& question) = 0;
};

class RealTerminal : public Terminal {
 public:
  bool Interactive() const override;
  Result<std::string> ReadSecret(const std::string& prompt) override;
  Result<bool> Confirm(const std::string& question) override;
};

// Never interactive: every question fails the way a script's would.
class NoTerminal : public Terminal {
 public:
  bool Interactive() const override { return false; }
  Result<std::string> ReadSecret(const std::string&) override {
    return Failure("no terminal to read a secret from");
  }
  Result<bool> Confirm(const std::string&) override { return false; }
};

}  // namespace vpcctl::exec
