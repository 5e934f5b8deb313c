#include "vpcctl/fabric/remote.h"

#include <atomic>
#include <ctime>
#include <thread>

#include "vpcctl/base/text.h"
#include "vpcctl/ssh/keys.h"

namespace vpcctl::fabric {

ssh::Endpoint EndpointOf(const model::Node& n) {
  return ssh::Endpoint{n.ssh_host, n.ssh_port, n.ssh_user};
}

ssh::HostKeyCheck PinnedCheck(const ssh::KnownHosts& pins, const model::Node& n) {
  auto pinned = pins.Find(n.ssh_host, n.ssh_port);
  std::string name = n.name;
  std::string where = n.ssh_host + " port " + std::to_string(n.ssh_port);
  return [pinned, name, where](const ssh::HostKey& presented) -> Status {
    if (!pinned) {
      return Failure("node " + Quoted(name) + " (" + where +
                     ") has no pinned host key; enrol it with `vpcctl node add` before using it");
    }
    if (*pinned == presented) return {};
    auto old_fp = ssh::Fingerprint(pinned->Line());
    auto new_fp = ssh::Fingerprint(presented.Line());
    return Failure("the host key of node " + Quoted(name) + " (" + where + ") has CHANGED: pinned " +
                   (old_fp ? *old_fp : std::string("?")) + ", presented " +
                   (new_fp ? *new_fp : std::string("?")) +
                   "; nothing was sent. If the host was reinstalled, remove and re-add the node.");
  };
}

Result<std::unique_ptr<ssh::Connection>> ConnectNode(Context& ctx, const ssh::KnownHosts& pins,
                                                     const model::Node& n,
                                                     std::chrono::milliseconds timeout) {
  ssh::ConnectSpec spec;
  spec.endpoint = EndpointOf(n);
  spec.timeout = timeout;
  spec.check_host_key = PinnedCheck(pins, n);
  spec.identities = {ctx.paths.private_key()};
  auto c = ctx.ssh.Connect(spec);
  if (!c) {
    Error e = c.take_error();
    e.message = "node " + Quoted(n.name) + ": " + e.message;
    return e;
  }
  return c;
}

std::vector<std::string> RemoteVpcctl(const model::Node& n, std::vector<std::string> args) {
  std::vector<std::string> argv = {n.remote_vpcctl.empty() ? "vpcctl" : n.remote_vpcctl};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

Result<ssh::RemoteResult> RunOn(ssh::Connection& c, const model::Node& n,
                                std::vector<std::string> argv, const std::string& input,
                                std::chrono::milliseconds timeout) {
  VPC_ASSIGN_OR_RETURN(ssh::RemoteCommand cmd, ssh::RemoteCommand::Make(std::move(argv)));
  return c.Run(cmd, n.use_sudo, input, timeout);
}

// $1 $2 = key type and base64, $3 = comment. Appends the key once; creates ~/.ssh 0700 and
// authorized_keys 0600. Prints "added" or "present".
const char* const kInstallKeyScript = R"sh(set -e
umask 077
dir="$HOME/.ssh"
file="$dir/authorized_keys"
mkdir -p "$dir"
chmod 700 "$dir"
[ -f "$file" ] || : > "$file"
chmod 600 "$file"
if grep -qF "$1 $2" "$file"; then
  echo present
else
  if [ -s "$file" ] && [ -n "$(tail -c 1 "$file")" ]; then echo >> "$file"; fi
  printf '%s %s %s\n' "$1" "$2" "$3" >> "$file"
  echo added
fi
)sh";

// $1 $2 = key type and base64. Removes every line holding the key. Prints "removed" or "absent".
const char* const kRemoveKeyScript = R"sh(set -e
umask 077
file="$HOME/.ssh/authorized_keys"
if [ -f "$file" ] && grep -qF "$1 $2" "$file"; then
  tmp="$file.vpcctl.$$"
  grep -vF "$1 $2" "$file" > "$tmp" || true
  chmod 600 "$tmp"
  mv "$tmp" "$file"
  echo removed
else
  echo absent
fi
)sh";

void ParallelFor(size_t n, size_t width, const std::function<void(size_t)>& fn) {
  if (n == 0) return;
  width = std::max<size_t>(1, std::min(width, n));
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  for (size_t t = 0; t < width; ++t) {
    threads.emplace_back([&] {
      for (size_t i = next++; i < n; i = next++) fn(i);
    });
  }
  for (auto& t : threads) t.join();
}

std::string UtcNow() {
  std::time_t t = std::time(nullptr);
  std::tm tm {};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace vpcctl::fabric
