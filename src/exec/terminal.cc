#include "vpcctl/exec/terminal.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>

namespace vpcctl::exec {

namespace {

// Reads one line from fd (without the newline).
std::string ReadLine(int fd) {
  std::string line;
  char c;
  while (read(fd, &c, 1) == 1 && c != '\n') line += c;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

struct Tty {
  int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
  ~Tty() {
    if (fd >= 0) close(fd);
  }
};

}  // namespace

bool RealTerminal::Interactive() const { return isatty(0) == 1; }

Result<std::string> RealTerminal::ReadSecret(const std::string& prompt) {
  Tty tty;
  if (tty.fd < 0) return Failure("no terminal to read a password from");
  (void)!write(tty.fd, prompt.data(), prompt.size());
  termios old {};
  bool restore = tcgetattr(tty.fd, &old) == 0;
  if (restore) {
    termios quiet = old;
    quiet.c_lflag &= static_cast<tcflag_t>(~ECHO);
    quiet.c_lflag |= ECHONL;
    tcsetattr(tty.fd, TCSAFLUSH, &quiet);
  }
  std::string secret = ReadLine(tty.fd);
  if (restore) tcsetattr(tty.fd, TCSAFLUSH, &old);
  return secret;
}

Result<bool> RealTerminal::Confirm(const std::string& question) {
  Tty tty;
  if (tty.fd < 0) return false;
  std::string q = question + " [y/N] ";
  (void)!write(tty.fd, q.data(), q.size());
  std::string a = ReadLine(tty.fd);
  return a == "y" || a == "Y" || a == "yes" || a == "YES" || a == "Yes";
}

}  // namespace vpcctl::exec
