// Pinned host keys, in OpenSSH known_hosts format (so `ssh -o UserKnownHostsFile=` can share it):
// `HOST TYPE BASE64` for port 22, `[HOST]:PORT TYPE BASE64` otherwise. No hashed or wildcard
// entries: vpcctl writes the file and reads back only what it wrote.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vpcctl/base/result.h"

namespace vpcctl::ssh {

struct HostKey {
  std::string type;    // "ssh-ed25519"
  std::string base64;  // key blob
  std::string Line() const { return type + " " + base64; }
  bool operator==(const HostKey&) const = default;
};

// Parses "TYPE BASE64 [comment]".
Result<HostKey> ParseHostKey(std::string_view text);

struct KnownHost {
  std::string host;
  int port = 22;
  HostKey key;
};

class KnownHosts {
 public:
  // Parses the file's text; blank lines and # comments are skipped, anything else must parse.
  static Result<KnownHosts> Parse(std::string_view text);
  std::optional<HostKey> Find(std::string_view host, int port) const;
  // Replaces any pin for (host, port).
  void Pin(std::string_view host, int port, const HostKey& key);
  void Forget(std::string_view host, int port);
  std::string Format() const;
  const std::vector<KnownHost>& entries() const { return entries_; }

 private:
  std::vector<KnownHost> entries_;
};

// Reads the file (a missing file is empty).
Result<KnownHosts> LoadKnownHosts(const std::string& path);
// Writes it atomically, mode 0600.
Status SaveKnownHosts(const std::string& path, const KnownHosts& hosts);

}  // namespace vpcctl::ssh
