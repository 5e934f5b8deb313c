#include "vpcctl/exec/syslog.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <cstring>
#include <ctime>

#include "vpcctl/base/text.h"

namespace vpcctl::exec {

SysLog::SysLog(std::string ident, std::string socket_path)
    : ident_(std::move(ident)),
      path_(socket_path.empty() ? _PATH_LOG : std::move(socket_path)),
      fd_(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {}

SysLog::~SysLog() {
  if (fd_ >= 0) close(fd_);
}

void SysLog::Send(int priority, const std::string& message) {
  sockaddr_un addr{};
  if (fd_ < 0 || path_.size() >= sizeof addr.sun_path) return;
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
  // <PRI>Mmm dd hh:mm:ss ident[pid]: message (RFC 3164, local time, as syslog(3) writes it).
  char stamp[32] = "";
  time_t now = time(nullptr);
  tm local{};
  if (localtime_r(&now, &local)) strftime(stamp, sizeof stamp, "%b %e %H:%M:%S", &local);
  std::string line = "<" + std::to_string(LOG_DAEMON | (priority & LOG_PRIMASK)) + ">" + stamp +
                     " " + ident_ + "[" + std::to_string(getpid()) + "]: " + Printable(message);
  // A datagram socket that is not connected names its peer on every send: a restarted syslogd
  // (a new socket at the same path) gets the next message.
  sendto(fd_, line.data(), line.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr),
         sizeof addr);
}

}  // namespace vpcctl::exec
