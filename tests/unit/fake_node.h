// A node for the node-side commands' unit tests: a state directory in a temporary directory, a
// fake runner answering its commands, a fake prober, and its output captured.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <string>

#include "fake_client.h"
#include "fake_prober.h"
#include "fake_runner.h"
#include "testing.h"
#include "vpcctl/exec/runner.h"
#include "vpcctl/fabric/apply.h"
#include "vpcctl/fabric/context.h"
#include "vpcctl/model/map.h"
#include "vpcctl/store/state_dir.h"

namespace vpcctl::fabric {

class FakeNode : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vpcctl-node-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // The map of fabric `f` as its controller sends it to `node`.
  static std::string MapText(const model::Fabric& f, const std::string& node = "h1") {
    return model::MapToJson(model::Map{"0123456789abcdef0123456789abcdef", node, f});
  }
  // Stores `f`'s map on this node, as `map import` does.
  void Hold(const model::Fabric& f, const std::string& node = "h1") {
    store::StatePaths paths{dir_ + "/state"};
    ASSERT_TRUE(store::EnsureStateDir(paths.dir, nullptr).ok());
    auto db = store::Store::Open(paths.db(), true, nullptr);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(ImportMap(**db, MapText(f, node), node, false).ok());
  }
  // The node's context: the fake runner and prober, output into out_ and err_.
  Context Ctx(const char* command) {
    return Context{store::StatePaths{dir_ + "/state"}, runner_, ssh_, term_, io_, prober_, command};
  }

  std::istringstream in_;
  std::ostringstream out_, err_;
  Output io_{in_, out_, err_, false};
  ssh::FakeClient ssh_;
  exec::NoTerminal term_;
  testing::FakeProber prober_;
  exec::FakeRunner runner_;
  std::string dir_;
};

}  // namespace vpcctl::fabric
