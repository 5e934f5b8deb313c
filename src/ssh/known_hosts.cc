#include "vpcctl/ssh/known_hosts.h"

#include "vpcctl/base/text.h"
#include "vpcctl/exec/files.h"
#include "vpcctl/model/names.h"
#include "vpcctl/store/state_dir.h"

namespace vpcctl::ssh {

namespace {

bool Base64Char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/' || c == '=';
}

std::vector<std::string> Fields(std::string_view line) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : line) {
    if (c == ' ' || c == '\t') {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

Result<HostKey> KeyFrom(const std::string& type, const std::string& b64) {
  if (type.empty() || type.size() > 64 || b64.size() < 16 || b64.size() > 8192) {
    return Failure("invalid host key");
  }
  for (char c : type) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '@')) {
      return Failure("invalid host key type " + Quoted(type));
    }
  }
  for (char c : b64)
    if (!Base64Char(c)) return Failure("invalid host key data");
  return HostKey{type, b64};
}

}  // namespace

Result<HostKey> ParseHostKey(std::string_view text) {
  auto f = Fields(text);
  if (f.size() < 2) return Failure("invalid host key " + Quoted(text));
  return KeyFrom(f[0], f[1]);
}

Result<KnownHosts> KnownHosts::Parse(std::string_view text) {
  KnownHosts out;
  int n = 0;
  for (const auto& raw : Split(text, '\n')) {
    ++n;
    std::string_view line = Trim(raw);
    if (line.empty() || line[0] == '#') continue;
    auto f = Fields(line);
    auto bad = [&](const std::string& why) {
      return Failure("known_hosts line " + std::to_string(n) + ": " + why);
    };
    if (f.size() < 3) return bad("expected HOST TYPE KEY");
    KnownHost e;
    const std::string& h = f[0];
    if (h[0] == '[') {
      size_t close = h.find("]:");
      if (close == std::string::npos) return bad("malformed [host]:port " + Quoted(h));
      e.host = h.substr(1, close - 1);
      auto port = ParseUint(std::string_view(h).substr(close + 2), 65535);
      if (!port || *port == 0) return bad("bad port in " + Quoted(h));
      e.port = static_cast<int>(*port);
    } else {
      e.host = h;
    }
    if (!model::ValidateHost(e.host).ok()) return bad("unsupported host pattern " + Quoted(h));
    auto key = KeyFrom(f[1], f[2]);
    if (!key) return bad(key.error().message);
    e.key = *key;
    out.entries_.push_back(std::move(e));
  }
  return out;
}

std::optional<HostKey> KnownHosts::Find(std::string_view host, int port) const {
  for (const auto& e : entries_)
    if (e.host == host && e.port == port) return e.key;
  return std::nullopt;
}

void KnownHosts::Pin(std::string_view host, int port, const HostKey& key) {
  Forget(host, port);
  entries_.push_back(KnownHost{std::string(host), port, key});
}

void KnownHosts::Forget(std::string_view host, int port) {
  std::erase_if(entries_, [&](const KnownHost& e) { return e.host == host && e.port == port; });
}

std::string KnownHosts::Format() const {
  std::string out = "# Host keys pinned by vpcctl. Edit with `vpcctl node` commands.\n";
  for (const auto& e : entries_) {
    out += e.port == 22 ? e.host : "[" + e.host + "]:" + std::to_string(e.port);
    out += " " + e.key.Line() + "\n";
  }
  return out;
}

Result<KnownHosts> LoadKnownHosts(const std::string& path) {
  if (!exec::FileExists(path)) return KnownHosts{};
  VPC_ASSIGN_OR_RETURN(std::string text, exec::ReadFile(path));
  auto k = KnownHosts::Parse(text);
  if (!k) return Failure(path + ": " + k.error().message);
  return k;
}

Status SaveKnownHosts(const std::string& path, const KnownHosts& hosts) {
  return exec::WriteFileAtomic(path, hosts.Format(), 0600);
}

}  // namespace vpcctl::ssh
