// Fuzz targets: one per input vpcctl parses. Each feeds the bytes to the parser and checks what
// must hold for any input it accepts (round trips, invariants), aborting when it does not. The
// libFuzzer harnesses (fuzz_*.cc) call these; so does a unit test that replays the seed corpora
// and every input ever found to crash (tests/fuzz/regressions), under the normal test command.
#pragma once

#include <string_view>

namespace vpcctl::fuzz {

// Addresses, CIDRs, MACs, VNI ranges, names, remote-command tokens.
void Addresses(std::string_view input);
// `ip -j -d link show`, `ip -j addr show`, `bridge -j -d link show`, `ip -j netns list`: the input
// is split at NUL bytes into the four outputs.
void LinuxProbe(std::string_view input);
// FreeBSD `ifconfig -a`, then a diff of the result against a small desired state.
void FreeBsdIfconfig(std::string_view input);
// The fabric map of `map import`.
void Map(std::string_view input);
// The known_hosts file.
void KnownHosts(std::string_view input);
// `wg show IFACE dump`, scrubbed as the probe does, then a diff of a WireGuard desired state
// against it.
void WgDump(std::string_view input);

// What a node answers the controller, read as the fan-out reads it (bounded parse, typed report):
// `apply --local --json`, `status --local --json`, `wg-key --json`, `map import --json`,
// `vip-take --json`.
void ApplyReport(std::string_view input);
void StatusReport(std::string_view input);
void KeyReport(std::string_view input);
void ImportReport(std::string_view input);
void VipTakeReport(std::string_view input);
// vipd's datagrams (wire.h) and configuration (config.h): decoded strictly, re-encoded exactly.
void VipdMessage(std::string_view input);
void VipdConfig(std::string_view input);
// What the prober's raw sockets receive (prober.h): anything else than our echo reply is dropped.
void ProbeReply(std::string_view input);

}  // namespace vpcctl::fuzz
