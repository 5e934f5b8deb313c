// Whole-file reads and atomic writes: the files vpcctl keeps (keys, configurations, firewall rules,
// pid files) are replaced in one rename, never seen half-written.
#pragma once

#include <string>

#include "vpcctl/base/result.h"

namespace vpcctl::exec {

// Writes `data` to `path` atomically (temporary file, fsync, rename) with the given mode.
Status WriteFileAtomic(const std::string& path, const std::string& data, unsigned mode);
Result<std::string> ReadFile(const std::string& path);
bool FileExists(const std::string& path);
// The first line of a secret file (a password, a VIP secret), without its line ending; `what`
// names the file in errors ("password file"). An empty first line is an error.
Result<std::string> ReadSecretFile(const std::string& path, const std::string& what);

}  // namespace vpcctl::exec
