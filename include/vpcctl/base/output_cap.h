// How much of one command's output is kept, locally or over SSH. A node's reports are far below
// these; a command printing without end must not make the controller hold it all (once per node),
// so past a cap the command is stopped and its result marked, and the caller reports it as that
// command's failure.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace vpcctl {

inline constexpr size_t kMaxStdout = 4u << 20;    // 4 MiB
inline constexpr size_t kMaxStderr = 256u << 10;  // 256 KiB

// Appends `data` to `buf` up to `cap` bytes in all. False when some of it did not fit (then
// `buf` holds exactly `cap` bytes).
bool AppendCapped(std::string& buf, std::string_view data, size_t cap);

// "answered more than 4 MiB on stdout: output cut" (or 256 KiB on stderr), for a result whose
// output was cut: the stream that reached its cap is named.
std::string OverflowMessage(size_t out_size, size_t err_size);

}  // namespace vpcctl
