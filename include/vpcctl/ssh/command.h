// Remote commands are built only from validated tokens, each single-quoted, so that no value can
// change what the remote shell runs. Multi-step work goes to `sh -s` as a constant script on stdin,
// with its variable parts as validated positional arguments.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "vpcctl/base/result.h"

namespace vpcctl::ssh {

// A token may hold only [A-Za-z0-9_./:=@,+%^-]: no space, quote, `$`, backquote, `;`, `&`, `|`,
// redirection, glob, `~`, `!`, `#` or control character.
Status ValidateToken(std::string_view token);

class RemoteCommand {
 public:
  // argv[0] is the program. Every token is validated.
  static Result<RemoteCommand> Make(std::vector<std::string> argv);
  // `sh -s -- ARGS...`: the caller sends the (constant) script on stdin.
  static Result<RemoteCommand> Script(std::vector<std::string> args);

  // The command line the remote login shell runs; with sudo, prefixed by `sudo -n`.
  std::string Line(bool sudo) const;
  const std::vector<std::string>& argv() const { return argv_; }

 private:
  std::vector<std::string> argv_;
};

}  // namespace vpcctl::ssh
