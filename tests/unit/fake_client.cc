#include "fake_client.h"

namespace vpcctl::ssh {

namespace {

std::string Key(const std::string& host, int port) { return host + "#" + std::to_string(port); }

}  // namespace

class FakeConnection : public Connection {
 public:
  FakeConnection(FakeClient* c, std::string key, std::string auth)
      : c_(c), key_(std::move(key)), auth_(std::move(auth)) {}
  std::string auth_method() const override { return auth_; }
  double connect_ms() const override { return 0.1; }
  bool Alive(std::chrono::milliseconds) override {
    std::lock_guard<std::mutex> lock(c_->mu_);
    return c_->hosts_[key_].reachable;
  }
  Result<RemoteResult> Run(const RemoteCommand& cmd, bool sudo, const std::string& input,
                           std::chrono::milliseconds) override {
    std::function<RemoteResult(const std::string&, const std::string&)> handler;
    std::string line = cmd.Line(sudo);
    {
      std::lock_guard<std::mutex> lock(c_->mu_);
      c_->log_[key_].push_back(line);
      handler = c_->hosts_[key_].handler;
    }
    if (!handler) return RemoteResult{0, "", "", false, 0.1, false};
    return handler(line, input);
  }
  Result<RemoteResult> Stream(const std::string& path, const std::string& input,
                              std::chrono::milliseconds) override {
    std::function<Result<std::string>(const std::string&, const std::string&)> stream;
    {
      std::lock_guard<std::mutex> lock(c_->mu_);
      c_->log_[key_].push_back("stream " + path);
      stream = c_->hosts_[key_].stream;
    }
    if (!stream) return Failure("cannot open a stream to " + path + ": connect failed");
    VPC_ASSIGN_OR_RETURN(std::string out, stream(path, input));
    return RemoteResult{-1, out, "", false, 0.1, false};
  }

 private:
  FakeClient* c_;
  std::string key_;
  std::string auth_;
};

void FakeClient::AddHost(const std::string& host, int port, Host h) {
  std::lock_guard<std::mutex> lock(mu_);
  hosts_[Key(host, port)] = std::move(h);
}

FakeClient::Host* FakeClient::Find(const std::string& host, int port) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = hosts_.find(Key(host, port));
  return it == hosts_.end() ? nullptr : &it->second;
}

std::vector<std::string> FakeClient::Commands(const std::string& host, int port) {
  std::lock_guard<std::mutex> lock(mu_);
  return log_[Key(host, port)];
}

Result<std::unique_ptr<Connection>> FakeClient::Connect(const ConnectSpec& spec) {
  std::string key = Key(spec.endpoint.host, spec.endpoint.port);
  Host h;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++connects_;
    auto it = hosts_.find(key);
    if (it == hosts_.end() || !it->second.reachable) {
      return Error{"ssh connect to " + spec.endpoint.host + " port " +
                       std::to_string(spec.endpoint.port) + ": Timeout connecting",
                   Exit::kFailure, kErrConnect};
    }
    h = it->second;
  }
  if (spec.check_host_key) {
    Status st = spec.check_host_key(h.key);
    if (!st.ok()) {
      Error e = st.take_error();
      e.kind = kErrHostKey;
      return e;
    }
  }
  for (const auto& id : spec.identities) {
    if (h.accepted_identities.count(id)) {
      return std::unique_ptr<Connection>(new FakeConnection(this, key, "key " + id));
    }
  }
  if (spec.password) {
    VPC_ASSIGN_OR_RETURN(auto pw, spec.password());
    if (pw) {
      if (h.password && *pw == *h.password) {
        return std::unique_ptr<Connection>(new FakeConnection(this, key, "password"));
      }
      return Error{spec.endpoint.Describe() + ": the password was refused", Exit::kFailure,
                   kErrAuth};
    }
  }
  return Error{spec.endpoint.Describe() + ": authentication failed (our key was refused)",
               Exit::kFailure, kErrAuth};
}

}  // namespace vpcctl::ssh
