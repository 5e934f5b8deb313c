// A scripted SSH world for unit tests: hosts with keys, credentials and a command handler.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "vpcctl/ssh/client.h"

namespace vpcctl::ssh {

// Thread-safe.
class FakeClient : public Client {
 public:
  struct Host {
    HostKey key;
    bool reachable = true;
    std::set<std::string> accepted_identities;  // private key paths that authenticate
    std::optional<std::string> password;
    // Answers a command line (as sent, quoted) with its stdin.
    std::function<RemoteResult(const std::string& line, const std::string& input)> handler;
    // Answers a stream to a unix socket path with what was written; none: nothing listens.
    std::function<Result<std::string>(const std::string& path, const std::string& input)> stream;
  };
  void AddHost(const std::string& host, int port, Host h);
  Host* Find(const std::string& host, int port);
  Result<std::unique_ptr<Connection>> Connect(const ConnectSpec& spec) override;
  // Every command line run on host:port, in order.
  std::vector<std::string> Commands(const std::string& host, int port);
  int connects() const { return connects_; }

 private:
  friend class FakeConnection;
  std::mutex mu_;
  std::map<std::string, Host> hosts_;
  std::map<std::string, std::vector<std::string>> log_;
  int connects_ = 0;
};

}  // namespace vpcctl::ssh
