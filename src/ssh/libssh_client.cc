#include <libssh/libssh.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "libssh_handles.h"
#include "vpcctl/base/output_cap.h"
#include "vpcctl/base/text.h"
#include "vpcctl/ssh/client.h"

namespace vpcctl::ssh {

namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

Error Err(const std::string& kind, std::string message) {
  return Error{std::move(message), Exit::kFailure, kind};
}

struct SessionDeleter {
  void operator()(ssh_session s) const {
    if (ssh_is_connected(s)) ssh_disconnect(s);
    ssh_free(s);
  }
};
using SessionPtr = std::unique_ptr<std::remove_pointer_t<ssh_session>, SessionDeleter>;

struct ChannelDeleter {
  void operator()(ssh_channel c) const {
    if (ssh_channel_is_open(c)) ssh_channel_close(c);
    ssh_channel_free(c);
  }
};
using ChannelPtr = std::unique_ptr<std::remove_pointer_t<ssh_channel>, ChannelDeleter>;

// One command's conversation on an open channel, bounded by its deadline: input is sent only as
// far as the remote's window allows (a blocking write would wait for the window, and a remote
// that keeps it closed would hang us), output is read meanwhile (a remote that prints before it
// reads cannot deadlock) and cut at the caps of base/output_cap.h.
class Exchange {
 public:
  Exchange(ssh_session s, ssh_channel ch, const std::string& where, const std::string& input,
           Clock::time_point deadline)
      : s_(s), ch_(ch), where_(where), input_(input), deadline_(deadline) {}

  Result<RemoteResult> Run(std::chrono::milliseconds timeout) {
    RemoteResult r;
    while (true) {
      if (Clock::now() >= deadline_) {
        Signal("TERM");
        if (sent_ < input_.size()) return NoProgress(timeout);
        r.timed_out = true;
        return r;
      }
      VPC_ASSIGN_OR_RETURN(size_t wrote, SendSome());
      VPC_ASSIGN_OR_RETURN(size_t got, ReadSome(r));
      if (r.overflow) {
        Signal("KILL");
        return r;  // the channel is closed without reading the rest
      }
      if (wrote > 0 || got > 0) continue;
      if (eof_sent_ && (ssh_channel_is_eof(ch_) || ssh_channel_is_closed(ch_))) break;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now());
      int wait = static_cast<int>(std::clamp<int64_t>(left.count(), 1, eof_sent_ ? 200 : 10));
      if (ssh_channel_poll_timeout(ch_, wait, 0) == SSH_ERROR) {
        return Failure(where_ + ": connection lost: " + ssh_get_error(s_));
      }
    }
    r.exit_status = ssh_channel_get_exit_status(ch_);
    return r;
  }

 private:
  // Writes what the remote's window takes now; sends EOF after the last byte. A remote that
  // closed the channel gets no more input (its answer says why).
  Result<size_t> SendSome() {
    if (eof_sent_) return size_t{0};
    if (sent_ < input_.size() && ssh_channel_is_closed(ch_)) sent_ = input_.size();
    size_t n = 0;
    if (sent_ < input_.size()) {
      uint32_t window = ssh_channel_window_size(ch_);
      if (window == 0) return size_t{0};
      uint32_t len = static_cast<uint32_t>(
          std::min<size_t>({input_.size() - sent_, window, 32768}));
      ssh_set_blocking(s_, 0);  // nor wait for the socket to drain
      int w = ssh_channel_write(ch_, input_.data() + sent_, len);
      ssh_set_blocking(s_, 1);
      if (w == SSH_ERROR) {
        if (ssh_channel_is_closed(ch_)) return size_t{0};
        return Failure(where_ + ": cannot send input: " + ssh_get_error(s_));
      }
      n = static_cast<size_t>(w);
      sent_ += n;
    }
    if (sent_ == input_.size()) {
      ssh_set_blocking(s_, 0);
      if (!ssh_channel_is_closed(ch_)) ssh_channel_send_eof(ch_);
      ssh_set_blocking(s_, 1);
      eof_sent_ = true;
    }
    return n;
  }

  // Reads what has arrived on stdout and stderr, up to the caps.
  Result<size_t> ReadSome(RemoteResult& r) {
    size_t got = 0;
    char buf[16384];
    for (int is_err = 0; is_err <= 1; ++is_err) {
      int avail = ssh_channel_poll(ch_, is_err);
      if (avail == SSH_ERROR) return Failure(where_ + ": connection lost: " + ssh_get_error(s_));
      if (avail <= 0) continue;
      int n = ssh_channel_read_nonblocking(ch_, buf, sizeof buf, is_err);
      if (n == SSH_ERROR) return Failure(where_ + ": read failed: " + ssh_get_error(s_));
      if (n <= 0) continue;
      got += static_cast<size_t>(n);
      std::string_view data(buf, static_cast<size_t>(n));
      if (!AppendCapped(is_err ? r.err : r.out, data, is_err ? kMaxStderr : kMaxStdout)) {
        r.overflow = true;
        break;
      }
    }
    return got;
  }

  // Best effort, without waiting for the socket: not every sshd passes signals on.
  void Signal(const char* sig) {
    ssh_set_blocking(s_, 0);
    ssh_channel_request_send_signal(ch_, sig);
    ssh_set_blocking(s_, 1);
  }

  Error NoProgress(std::chrono::milliseconds timeout) const {
    return Failure(where_ + ": no progress sending input within " +
                   std::to_string(timeout.count() / 1000) + " s (" + std::to_string(sent_) +
                   " of " + std::to_string(input_.size()) +
                   " bytes taken; the remote stopped reading): timed out");
  }

  ssh_session s_;
  ssh_channel ch_;
  const std::string& where_;
  const std::string& input_;
  Clock::time_point deadline_;
  size_t sent_ = 0;
  bool eof_sent_ = false;
};

class LibsshConnection : public Connection {
 public:
  LibsshConnection(SessionPtr s, std::string where, std::string auth, double connect_ms)
      : s_(std::move(s)), where_(std::move(where)), auth_(std::move(auth)), connect_ms_(connect_ms) {}

  std::string auth_method() const override { return auth_; }
  double connect_ms() const override { return connect_ms_; }

  bool Alive(std::chrono::milliseconds timeout) override {
    long secs = static_cast<long>(timeout.count() / 1000);
    long usecs = static_cast<long>((timeout.count() % 1000) * 1000);
    ssh_options_set(s_.get(), SSH_OPTIONS_TIMEOUT, &secs);
    ssh_options_set(s_.get(), SSH_OPTIONS_TIMEOUT_USEC, &usecs);
    if (!ssh_is_connected(s_.get())) return false;
    ChannelPtr ch(ssh_channel_new(s_.get()));
    return ch && ssh_channel_open_session(ch.get()) == SSH_OK;
  }

  Result<RemoteResult> Run(const RemoteCommand& cmd, bool sudo, const std::string& input,
                           std::chrono::milliseconds timeout) override {
    auto start = Clock::now();
    ChannelPtr ch(ssh_channel_new(s_.get()));
    if (!ch) return Failure(where_ + ": cannot open a channel: " + ssh_get_error(s_.get()));
    if (ssh_channel_open_session(ch.get()) != SSH_OK) {
      return Failure(where_ + ": cannot open a session channel: " + ssh_get_error(s_.get()));
    }
    std::string line = cmd.Line(sudo);
    if (ssh_channel_request_exec(ch.get(), line.c_str()) != SSH_OK) {
      return Failure(where_ + ": cannot run a command: " + ssh_get_error(s_.get()));
    }
    Exchange x{s_.get(), ch.get(), where_, input, start + timeout};
    VPC_ASSIGN_OR_RETURN(RemoteResult r, x.Run(timeout));
    r.ms = MsSince(start);
    return r;
  }

  Result<RemoteResult> Stream(const std::string& path, const std::string& input,
                              std::chrono::milliseconds timeout) override {
    auto start = Clock::now();
    ChannelPtr ch(ssh_channel_new(s_.get()));
    if (!ch) return Failure(where_ + ": cannot open a channel: " + ssh_get_error(s_.get()));
    // The originator fields are informational for a unix socket; OpenSSH ignores them.
    if (ssh_channel_open_forward_unix(ch.get(), path.c_str(), "127.0.0.1", 0) != SSH_OK) {
      return Failure(where_ + ": cannot open a stream to " + path + ": " + ssh_get_error(s_.get()));
    }
    Exchange x{s_.get(), ch.get(), where_, input, start + timeout};
    VPC_ASSIGN_OR_RETURN(RemoteResult r, x.Run(timeout));
    r.exit_status = -1;
    r.ms = MsSince(start);
    return r;
  }

 private:
  SessionPtr s_;
  std::string where_;
  std::string auth_;
  double connect_ms_;
};

Result<HostKey> ServerKey(ssh_session s) {
  ssh_key raw = nullptr;
  if (ssh_get_server_publickey(s, &raw) != SSH_OK) return Failure("no host key");
  KeyPtr key(raw);
  char* b64 = nullptr;
  if (ssh_pki_export_pubkey_base64(key.get(), &b64) != SSH_OK || !b64) {
    return Failure("cannot read the host key");
  }
  HostKey hk{ssh_key_type_to_char(ssh_key_type(key.get())), b64};
  ssh_string_free_char(b64);
  return hk;
}

// Answers keyboard-interactive prompts with the password (servers that disable "password").
int KbdInt(ssh_session s, const std::string& password) {
  int rc = ssh_userauth_kbdint(s, nullptr, nullptr);
  for (int round = 0; rc == SSH_AUTH_INFO && round < 4; ++round) {
    int n = ssh_userauth_kbdint_getnprompts(s);
    for (int i = 0; i < n; ++i) {
      if (ssh_userauth_kbdint_setanswer(s, static_cast<unsigned>(i), password.c_str()) < 0) {
        return SSH_AUTH_ERROR;
      }
    }
    rc = ssh_userauth_kbdint(s, nullptr, nullptr);
  }
  return rc;
}

}  // namespace

std::string Endpoint::Describe() const {
  return user + "@" + host + " port " + std::to_string(port);
}

LibsshClient::LibsshClient() { ssh_init(); }

Result<std::unique_ptr<Connection>> LibsshClient::Connect(const ConnectSpec& spec) {
  auto start = Clock::now();
  const Endpoint& ep = spec.endpoint;
  std::string where = ep.Describe();
  SessionPtr s(ssh_new());
  if (!s) return Err(kErrConnect, "cannot create an SSH session");
  long secs = static_cast<long>(spec.timeout.count() / 1000);
  long usecs = static_cast<long>((spec.timeout.count() % 1000) * 1000);
  int port = ep.port;
  int no = 0, yes = 1;
  ssh_options_set(s.get(), SSH_OPTIONS_HOST, ep.host.c_str());
  ssh_options_set(s.get(), SSH_OPTIONS_PORT, &port);
  ssh_options_set(s.get(), SSH_OPTIONS_USER, ep.user.c_str());
  ssh_options_set(s.get(), SSH_OPTIONS_TIMEOUT, &secs);
  ssh_options_set(s.get(), SSH_OPTIONS_TIMEOUT_USEC, &usecs);
  ssh_options_set(s.get(), SSH_OPTIONS_PROCESS_CONFIG, &no);
  ssh_options_set(s.get(), SSH_OPTIONS_KNOWNHOSTS, "/dev/null");
  ssh_options_set(s.get(), SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null");
  ssh_options_set(s.get(), SSH_OPTIONS_STRICTHOSTKEYCHECK, &no);
  ssh_options_set(s.get(), SSH_OPTIONS_GSSAPI_AUTH, &no);
  ssh_options_set(s.get(), SSH_OPTIONS_NODELAY, &yes);
  if (ssh_connect(s.get()) != SSH_OK) {
    return Err(kErrConnect, "ssh connect to " + ep.host + " port " + std::to_string(ep.port) +
                                ": " + ssh_get_error(s.get()));
  }
  VPC_ASSIGN_OR_RETURN(HostKey presented, ServerKey(s.get()));
  if (spec.check_host_key) {
    Status st = spec.check_host_key(presented);
    if (!st.ok()) {
      Error e = st.take_error();
      e.kind = kErrHostKey;
      return e;
    }
  }
  std::string method;
  int rc = ssh_userauth_none(s.get(), nullptr);
  if (rc == SSH_AUTH_SUCCESS) method = "none";
  for (const auto& path : spec.identities) {
    if (!method.empty()) break;
    ssh_key raw = nullptr;
    if (ssh_pki_import_privkey_file(path.c_str(), nullptr, nullptr, nullptr, &raw) != SSH_OK) {
      return Err(kErrAuth, "cannot read the private key " + path);
    }
    KeyPtr key(raw);
    rc = ssh_userauth_publickey(s.get(), nullptr, key.get());
    if (rc == SSH_AUTH_SUCCESS) method = "key " + path;
    if (rc == SSH_AUTH_ERROR) {
      return Err(kErrConnect, where + ": " + ssh_get_error(s.get()));
    }
  }
  if (method.empty() && spec.password) {
    VPC_ASSIGN_OR_RETURN(auto pw, spec.password());
    if (pw) {
      rc = ssh_userauth_password(s.get(), nullptr, pw->c_str());
      if (rc != SSH_AUTH_SUCCESS && rc != SSH_AUTH_ERROR) rc = KbdInt(s.get(), *pw);
      if (rc == SSH_AUTH_SUCCESS) {
        method = "password";
      } else if (rc != SSH_AUTH_ERROR) {
        return Err(kErrAuth, where + ": the password was refused");
      }
    }
  }
  if (method.empty()) {
    if (rc == SSH_AUTH_ERROR) return Err(kErrConnect, where + ": " + ssh_get_error(s.get()));
    return Err(kErrAuth, where + ": authentication failed (our key was refused" +
                             std::string(spec.password ? " and no password was given" : "") + ")");
  }
  double ms = MsSince(start);
  return std::unique_ptr<Connection>(new LibsshConnection(std::move(s), where, method, ms));
}

}  // namespace vpcctl::ssh
