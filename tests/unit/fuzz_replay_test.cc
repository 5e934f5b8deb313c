// Replays every seed of tests/fuzz/corpus and every input a fuzzer ever found to break something
// (tests/fuzz/regressions/<target>/) through the fuzz targets, on every test run.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "targets.h"
#include "testing.h"

namespace vpcctl::fuzz {
namespace {

size_t Replay(const std::string& target, void (*fn)(std::string_view)) {
  size_t n = 0;
  for (const char* dir : {"fuzz/corpus/", "fuzz/regressions/"}) {
    std::filesystem::path p = testing::DataPath(std::string(dir) + target);
    if (!std::filesystem::exists(p)) continue;
    for (const auto& e : std::filesystem::directory_iterator(p)) {
      std::ifstream in(e.path(), std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      fn(ss.str());
      ++n;
    }
  }
  return n;
}

TEST(FuzzReplay, Addresses) { EXPECT_GT(Replay("addresses", Addresses), 0u); }
TEST(FuzzReplay, LinuxProbe) { EXPECT_GT(Replay("linux_probe", LinuxProbe), 0u); }
TEST(FuzzReplay, FreeBsdIfconfig) { EXPECT_GT(Replay("freebsd_ifconfig", FreeBsdIfconfig), 0u); }
TEST(FuzzReplay, Map) { EXPECT_GT(Replay("map", Map), 0u); }
TEST(FuzzReplay, KnownHosts) { EXPECT_GT(Replay("known_hosts", KnownHosts), 0u); }
TEST(FuzzReplay, WgDump) { EXPECT_GT(Replay("wg_dump", WgDump), 0u); }
TEST(FuzzReplay, ApplyReport) { EXPECT_GT(Replay("apply_report", ApplyReport), 0u); }
TEST(FuzzReplay, StatusReport) { EXPECT_GT(Replay("status_report", StatusReport), 0u); }
TEST(FuzzReplay, KeyReport) { EXPECT_GT(Replay("key_report", KeyReport), 0u); }
TEST(FuzzReplay, ImportReport) { EXPECT_GT(Replay("import_report", ImportReport), 0u); }
TEST(FuzzReplay, VipTakeReport) { EXPECT_GT(Replay("vip_take_report", VipTakeReport), 0u); }
TEST(FuzzReplay, VipdMessage) { EXPECT_GT(Replay("vipd_message", VipdMessage), 0u); }
TEST(FuzzReplay, ProbeReply) { EXPECT_GT(Replay("probe_reply", ProbeReply), 0u); }
TEST(FuzzReplay, VipdConfig) { EXPECT_GT(Replay("vipd_config", VipdConfig), 0u); }

}  // namespace
}  // namespace vpcctl::fuzz
