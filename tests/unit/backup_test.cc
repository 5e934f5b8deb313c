// Controller backups at the store level (one SQLite file with its entries, checked and migrated
// on open, the controller's tables copied into another node's database with its own tables kept)
// and the epoch a restore moves on: maps carry it, nodes refuse an earlier one.
#include "vpcctl/store/backup.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "testing.h"
#include "vpcctl/fabric/apply.h"
#include "vpcctl/model/map.h"

namespace vpcctl::store {
namespace {

class BackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vpcctl-backup-XXXXXX";
    dir_ = mkdtemp(tmpl);
    auto s = Store::Open(dir_ + "/controller.db", true, nullptr);
    ASSERT_TRUE(s.ok()) << s.error().message;
    controller_ = std::move(*s);
    model::Fabric f = testing::SampleFabric();
    ASSERT_TRUE(controller_->Begin().ok());
    for (const auto& n : f.nodes) ASSERT_TRUE(controller_->SaveNode(n).ok());
    for (const auto& v : f.vpcs) ASSERT_TRUE(controller_->SaveVpc(v).ok());
    ASSERT_TRUE(controller_->SetSetting("fabric_id", kFabric).ok());
    ASSERT_TRUE(controller_->SetSetting("local_node", "h1").ok());
    ASSERT_TRUE(controller_->Commit().ok());
    for (int i = 0; i < 7; ++i) ASSERT_TRUE(controller_->BumpGeneration().ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  BackupEntries Entries() {
    BackupEntries e;
    for (const char* name : kBackupRequired) e[name] = std::string("value of ") + name;
    e["fabric"] = kFabric;
    e["generation"] = "7";
    e["epoch"] = "0";
    e["controller"] = "h1";
    return e;
  }

  static constexpr const char* kFabric = "0123456789abcdef0123456789abcdef";
  std::string dir_;
  std::unique_ptr<Store> controller_;
};

TEST_F(BackupTest, ABackupIsOnePrivateFileThatOpensWithItsEntries) {
  std::string file = dir_ + "/backup.db";
  ASSERT_TRUE(WriteBackup(*controller_, file, Entries()).ok());
  struct stat st {};
  ASSERT_EQ(stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(std::filesystem::exists(file + "-wal")) << "one file, no WAL beside it";
  auto b = Backup::Open(file, dir_);
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ((*b)->entries(), Entries());
  // Replaced whole by the next one.
  BackupEntries e = Entries();
  e["generation"] = "8";
  ASSERT_TRUE(WriteBackup(*controller_, file, e).ok());
  auto again = Backup::Open(file, dir_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->entries().at("generation"), "8");
}

TEST_F(BackupTest, ARestoreReplacesTheControllerTablesAndKeepsTheNodesOwn) {
  std::string file = dir_ + "/backup.db";
  ASSERT_TRUE(WriteBackup(*controller_, file, Entries()).ok());
  auto node = Store::Open(dir_ + "/node.db", true, nullptr);
  ASSERT_TRUE(node.ok());
  StoredMap held{"h2", kFabric, 9, "{}", "2026-01-01T00:00:00Z", 0};
  ASSERT_TRUE((*node)->SaveMap(held).ok());
  ASSERT_TRUE((*node)->SetSetting("stray", "x").ok());
  auto b = Backup::Open(file, dir_);
  ASSERT_TRUE(b.ok());
  bool ran = false;
  Status st = (*b)->CopyControllerTablesInto(**node, [&]() -> Status {
    ran = true;
    return {};
  });
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_TRUE(ran);
  auto f = (*node)->LoadFabric();
  ASSERT_TRUE(f.ok());
  auto want = controller_->LoadFabric();
  EXPECT_EQ(f->nodes.size(), want->nodes.size());
  ASSERT_EQ(f->vpcs.size(), 1u);
  EXPECT_EQ(f->vpcs[0].tunnels.size(), want->vpcs[0].tunnels.size());
  EXPECT_EQ(f->generation, 7u);
  EXPECT_FALSE((*node)->GetSetting("stray")->has_value()) << "settings are the backup's";
  auto map = (*node)->LoadMap();
  ASSERT_TRUE(map.ok() && map->has_value());
  EXPECT_EQ((*map)->generation, 9u) << "the node's own map stays";
  auto next = (*node)->NextVpcId();
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, 2u) << "VPC ids go on from the backup's";
}

TEST_F(BackupTest, AFailureInTheTakeOverChangesNothing) {
  std::string file = dir_ + "/backup.db";
  ASSERT_TRUE(WriteBackup(*controller_, file, Entries()).ok());
  auto node = Store::Open(dir_ + "/node.db", true, nullptr);
  ASSERT_TRUE(node.ok());
  auto b = Backup::Open(file, dir_);
  ASSERT_TRUE(b.ok());
  Status st = (*b)->CopyControllerTablesInto(**node, [] { return Status(Failure("no")); });
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE((*node)->LoadFabric()->nodes.empty());
  // And the connection is usable again (the backup detached, no transaction left open).
  EXPECT_TRUE((*node)->SetSetting("after", "y").ok());
}

TEST_F(BackupTest, BadFilesAreRefusedNamingThem) {
  std::string file = dir_ + "/backup.db";
  ASSERT_TRUE(WriteBackup(*controller_, file, Entries()).ok());
  auto size = std::filesystem::file_size(file);
  std::string truncated = dir_ + "/truncated.db";
  std::filesystem::copy_file(file, truncated);
  std::filesystem::resize_file(truncated, size / 2);
  std::string text = dir_ + "/text.db";
  std::ofstream(text) << "not a database\n";
  for (const auto& bad : {truncated, text}) {
    auto b = Backup::Open(bad, dir_);
    ASSERT_FALSE(b.ok()) << bad;
    EXPECT_NE(b.error().message.find("'" + bad + "'"), std::string::npos) << b.error().message;
  }
  // A vpcctl database that is no backup, and a backup missing an entry.
  auto plain = Backup::Open(dir_ + "/controller.db", dir_);
  ASSERT_FALSE(plain.ok());
  EXPECT_NE(plain.error().message.find("not a backup"), std::string::npos) << plain.error().message;
  BackupEntries e = Entries();
  e.erase("id_ed25519");
  ASSERT_TRUE(WriteBackup(*controller_, file, e).ok());
  auto partial = Backup::Open(file, dir_);
  ASSERT_FALSE(partial.ok());
  EXPECT_NE(partial.error().message.find("no 'id_ed25519'"), std::string::npos);
  // The scratch copies are gone.
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    EXPECT_EQ(entry.path().filename().string().find("restore-"), std::string::npos) << entry.path();
  }
}

// A node refuses a map of an earlier epoch, whatever its generation; a later epoch is taken.
TEST_F(BackupTest, NodesRefuseAMapOfAnEarlierEpoch) {
  auto node = Store::Open(dir_ + "/node.db", true, nullptr);
  ASSERT_TRUE(node.ok());
  model::Map m{kFabric, "h1", testing::SampleFabric()};
  m.fabric.generation = 5;
  m.epoch = 1;
  std::string doc = model::MapToJson(m, true);
  EXPECT_NE(doc.find("\"epoch\": 1"), std::string::npos);
  ASSERT_TRUE(fabric::ImportMap(**node, doc, "h2", false).ok());
  EXPECT_EQ((*node)->LoadMap()->value().epoch, 1u);
  model::Map old = m;
  old.epoch = 0;
  old.fabric.generation = 50;
  auto refused = fabric::ImportMap(**node, model::MapToJson(old, true), "h2", false);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("stale map: controller 'h1' is at epoch 0"),
            std::string::npos)
      << refused.error().message;
  EXPECT_EQ((*node)->LoadMap()->value().generation, 5u);
  EXPECT_EQ(model::MapToJson(old, true).find("epoch"), std::string::npos)
      << "epoch 0 is not written: older nodes read the map as before";
  m.epoch = 2;
  m.fabric.generation = 3;
  EXPECT_TRUE(fabric::ImportMap(**node, model::MapToJson(m, true), "h2", false).ok())
      << "a later epoch starts over, whatever the generation";
}

}  // namespace
}  // namespace vpcctl::store
