// Small string helpers shared by every layer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vpcctl {

// Quotes a value for an error message: 'abc', with control characters escaped so that a hostile
// value cannot forge lines of output.
std::string Quoted(std::string_view value);

// Text from elsewhere (a node's report or stderr, a stored remote version) made safe to print and
// store: invalid UTF-8 becomes U+FFFD, control characters (C0, DEL, C1) and bidirectional
// overrides are escaped (\n, \x1b, \u202e), and the result is cut at `max_bytes` (on a
// character boundary, ending in "...").
std::string Printable(std::string_view text, size_t max_bytes = 2048);

// `text` with every occurrence of each non-empty secret replaced by "(redacted)".
std::string Redact(std::string text, const std::vector<std::string>& secrets);

// Parses a decimal integer made only of digits (no sign, no spaces, no leading zeros unless "0").
std::optional<uint64_t> ParseUint(std::string_view text, uint64_t max = UINT64_MAX);

std::vector<std::string> Split(std::string_view text, char sep);
std::string Join(const std::vector<std::string>& parts, std::string_view sep);
std::string_view Trim(std::string_view text);
bool StartsWith(std::string_view text, std::string_view prefix);

// Quotes one argv word for display as a POSIX shell word (only when needed).
std::string ShellWord(std::string_view word);
std::string ShellLine(const std::vector<std::string>& argv);

// A moment (ms since the epoch, not before it), UTC, to the millisecond: "2026-12-01T13:57:37.045Z".
std::string UtcMs(int64_t epoch_ms);
// The time now, as UtcMs.
std::string UtcNowMs();
// The time now, UTC, to the second: "2026-11-22T01:02:03Z".
std::string UtcNow();

}  // namespace vpcctl
