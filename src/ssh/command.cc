#include "vpcctl/ssh/command.h"

#include "vpcctl/base/text.h"

namespace vpcctl::ssh {

Status ValidateToken(std::string_view token) {
  if (token.empty()) return UsageError("an empty word cannot be part of a remote command");
  for (char c : token) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '/' || c == ':' || c == '=' || c == '@' || c == ',' ||
              c == '+' || c == '%' || c == '^' || c == '-';
    if (!ok) {
      return UsageError("refusing to put " + Quoted(token) +
                        " into a remote command: it contains " +
                        Quoted(std::string_view(&c, 1)));
    }
  }
  return {};
}

Result<RemoteCommand> RemoteCommand::Make(std::vector<std::string> argv) {
  if (argv.empty()) return UsageError("empty remote command");
  for (const auto& t : argv) VPC_TRY(ValidateToken(t));
  RemoteCommand c;
  c.argv_ = std::move(argv);
  return c;
}

Result<RemoteCommand> RemoteCommand::Script(std::vector<std::string> args) {
  std::vector<std::string> argv = {"sh", "-s", "--"};
  argv.insert(argv.end(), args.begin(), args.end());
  return Make(std::move(argv));
}

std::string RemoteCommand::Line(bool sudo) const {
  std::string out = sudo ? "sudo -n " : "";
  for (size_t i = 0; i < argv_.size(); ++i) {
    if (i) out += ' ';
    out += "'" + argv_[i] + "'";  // tokens hold no quote, so this is exact
  }
  return out;
}

}  // namespace vpcctl::ssh
