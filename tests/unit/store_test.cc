#include "vpcctl/store/store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "testing.h"
#include "vpcctl/store/migrations.h"
#include "vpcctl/store/state_dir.h"

namespace vpcctl::store {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vpcctl-store-XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/vpcctl.db";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
  std::string path_;
};

TEST_F(StoreTest, MigratesFromEmptyAndSetsIdentity) {
  auto s = Store::Open(path_, true, nullptr);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ((*s)->schema_version(), static_cast<int64_t>(Migrations().size()));
  EXPECT_EQ(*(*s)->db().QueryInt("PRAGMA application_id"), kApplicationId);
  EXPECT_EQ(*(*s)->db().QueryInt("PRAGMA foreign_keys"), 1);
  struct stat st {};
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(StoreTest, ReopensAndKeepsTheFabric) {
  model::Fabric f = testing::SampleFabric();
  {
    auto s = Store::Open(path_, true, nullptr);
    ASSERT_TRUE(s.ok());
    Transaction tx(**s);
    ASSERT_TRUE(tx.Begin().ok());
    for (const auto& n : f.nodes) ASSERT_TRUE((*s)->SaveNode(n).ok());
    ASSERT_TRUE((*s)->SaveVpc(f.vpcs[0]).ok());
    ASSERT_TRUE((*s)->BumpGeneration().ok());
    ASSERT_TRUE(tx.Commit().ok());
  }
  auto s = Store::Open(path_, false, nullptr);
  ASSERT_TRUE(s.ok()) << s.error().message;
  auto loaded = (*s)->LoadFabric();
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->generation, 1u);
  ASSERT_EQ(loaded->nodes.size(), 4u);
  EXPECT_EQ(loaded->nodes[2].mtu, 9000);
  EXPECT_EQ(loaded->nodes[2].underlay6, testing::Ip("2001:db8::3"));
  EXPECT_FALSE(loaded->nodes[1].underlay6.has_value());
  ASSERT_EQ(loaded->vpcs.size(), 1u);
  const auto& v = loaded->vpcs[0];
  ASSERT_EQ(v.tunnels.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(v.tunnels[i].vni, f.vpcs[0].tunnels[i].vni);
    EXPECT_EQ(v.tunnels[i].a, f.vpcs[0].tunnels[i].a);
    EXPECT_EQ(v.tunnels[i].b, f.vpcs[0].tunnels[i].b);
    EXPECT_EQ(v.tunnels[i].family, f.vpcs[0].tunnels[i].family);
    EXPECT_EQ(v.members[i].node, f.vpcs[0].members[i].node);
    EXPECT_EQ(v.members[i].overlay, f.vpcs[0].members[i].overlay);
  }
  EXPECT_EQ(v.mtu, 1430);
}

TEST_F(StoreTest, RollbackLeavesNothing) {
  auto s = Store::Open(path_, true, nullptr);
  ASSERT_TRUE(s.ok());
  {
    Transaction tx(**s);
    ASSERT_TRUE(tx.Begin().ok());
    ASSERT_TRUE((*s)->SaveNode(testing::SampleNodes().nodes[0]).ok());
  }
  EXPECT_TRUE((*s)->LoadFabric()->nodes.empty());
}

TEST_F(StoreTest, RefusesADatabaseWithAnotherApplicationId) {
  {
    auto db = Db::Open(path_, true);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(db->Exec("PRAGMA application_id = 1234; CREATE TABLE t (x)").ok());
  }
  auto s = Store::Open(path_, false, nullptr);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("not a vpcctl database"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("0x000004d2"), std::string::npos);
}

TEST_F(StoreTest, RefusesAnUnrelatedSqliteFileWithoutApplicationId) {
  {
    auto db = Db::Open(path_, true);
    ASSERT_TRUE(db->Exec("CREATE TABLE other (x)").ok());
  }
  EXPECT_FALSE(Store::Open(path_, false, nullptr).ok());
}

TEST_F(StoreTest, RefusesADatabaseFromANewerVpcctl) {
  { ASSERT_TRUE(Store::Open(path_, true, nullptr).ok()); }
  {
    auto db = Db::Open(path_, false);
    ASSERT_TRUE(db->Exec("PRAGMA user_version = 999").ok());
  }
  auto s = Store::Open(path_, false, nullptr);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("newer vpcctl"), std::string::npos);
}

TEST_F(StoreTest, RefusesAFileThatIsNotSqlite) {
  { std::ofstream(path_) << "this is not a database, just text that is long enough\n"; }
  auto s = Store::Open(path_, false, nullptr);
  ASSERT_FALSE(s.ok());
}

TEST_F(StoreTest, TightensAWideModeWithAWarning) {
  { ASSERT_TRUE(Store::Open(path_, true, nullptr).ok()); }
  chmod(path_.c_str(), 0644);
  std::vector<std::string> warnings;
  ASSERT_TRUE(Store::Open(path_, false, &warnings).ok());
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("0644"), std::string::npos);
  struct stat st {};
  stat(path_.c_str(), &st);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(StoreTest, DatabaseConstraintsBackTheAllocator) {
  model::Fabric f = testing::SampleFabric();
  auto s = Store::Open(path_, true, nullptr);
  for (const auto& n : f.nodes) ASSERT_TRUE((*s)->SaveNode(n).ok());
  ASSERT_TRUE((*s)->SaveVpc(f.vpcs[0]).ok());
  model::Vpc clash = f.vpcs[0];
  clash.name = "vpc2";
  clash.id = 2;
  auto st = (*s)->SaveVpc(clash);  // same VNIs in a second VPC
  EXPECT_FALSE(st.ok());
}

TEST_F(StoreTest, NextVpcIdNeverReusesAnId) {
  model::Fabric f = testing::SampleFabric();
  auto s = Store::Open(path_, true, nullptr);
  for (const auto& n : f.nodes) ASSERT_TRUE((*s)->SaveNode(n).ok());
  EXPECT_EQ(*(*s)->NextVpcId(), 1u);
  ASSERT_TRUE((*s)->SaveVpc(f.vpcs[0]).ok());
  EXPECT_EQ(*(*s)->NextVpcId(), 2u);
  ASSERT_TRUE((*s)->DeleteVpc("vpc1").ok());
  EXPECT_EQ(*(*s)->NextVpcId(), 2u);
}

TEST_F(StoreTest, StateLockRefusesASecondHolder) {
  StatePaths paths{dir_};
  auto first = StateLock::Acquire(paths.lock(), "vpcctl vpc deploy vpc1");
  ASSERT_TRUE(first.ok());
  // flock locks belong to the open file description: a second open in this process conflicts.
  auto second = StateLock::Acquire(paths.lock(), "vpcctl vpc init vpc2");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, Exit::kLocked);
  EXPECT_NE(second.error().message.find("vpc deploy vpc1"), std::string::npos)
      << second.error().message;
}

TEST_F(StoreTest, StateDirIsCreated0700) {
  std::string sub = dir_ + "/a/b/state";
  ASSERT_TRUE(EnsureStateDir(sub, nullptr).ok());
  struct stat st {};
  ASSERT_EQ(stat(sub.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  chmod(sub.c_str(), 0755);
  std::vector<std::string> w;
  ASSERT_TRUE(EnsureStateDir(sub, &w).ok());
  EXPECT_EQ(w.size(), 1u);
}

}  // namespace
}  // namespace vpcctl::store
