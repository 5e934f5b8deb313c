// Messages to the system log (syslogd, journald) from vpcctl's daemons and event handlers: RFC 3164
// datagrams on the local log socket, as syslog(3) sends them, from a client whose socket path is a
// parameter (so a test can listen on its own). Best effort: no log socket, no message, no error.
#pragma once

#include <string>

namespace vpcctl::exec {

class SysLog {
 public:
  // `ident` names the sender ("vpcctl-vipd"); `socket_path` empty: the system's (_PATH_LOG).
  explicit SysLog(std::string ident, std::string socket_path = "");
  ~SysLog();
  SysLog(const SysLog&) = delete;
  SysLog& operator=(const SysLog&) = delete;

  // Facility daemon; priority from <syslog.h> (LOG_INFO, LOG_NOTICE, LOG_WARNING, LOG_ERR). The
  // message goes out as one line, its control characters escaped. Safe from several threads.
  void Send(int priority, const std::string& message);

 private:
  std::string ident_;
  std::string path_;
  int fd_;  // a datagram socket, opened once; -1 if it could not be
};

}  // namespace vpcctl::exec
