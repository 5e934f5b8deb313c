#include "vpcctl/store/store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

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
  // Creates the database with the fabric's nodes and its first VPC, in one transaction.
  void SaveFirstVpc(const model::Fabric& f, bool bump_generation) {
    auto s = Store::Open(path_, true, nullptr);
    ASSERT_TRUE(s.ok());
    Transaction tx(**s);
    ASSERT_TRUE(tx.Begin().ok());
    for (const auto& n : f.nodes) ASSERT_TRUE((*s)->SaveNode(n).ok());
    ASSERT_TRUE((*s)->SaveVpc(f.vpcs[0]).ok());
    if (bump_generation) {
      ASSERT_TRUE((*s)->BumpGeneration().ok());
    }
    ASSERT_TRUE(tx.Commit().ok());
  }
  std::string dir_;
  std::string path_;
};

TEST_F(StoreTest, MigratesFromEmptyAndSetsIdentity) {
  auto s = Store::Open(path_, true, nullptr);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(*(*s)->db().QueryInt("PRAGMA user_version"), static_cast<int64_t>(Migrations().size()));
  EXPECT_EQ(*(*s)->db().QueryInt("PRAGMA application_id"), kApplicationId);
  EXPECT_EQ(*(*s)->db().QueryInt("PRAGMA foreign_keys"), 1);
  struct stat st {};
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(StoreTest, ReopensAndKeepsTheFabric) {
  model::Fabric f = testing::SampleFabric();
  ASSERT_NO_FATAL_FAILURE(SaveFirstVpc(f, true));
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

TEST_F(StoreTest, KeepsTheLeaseSettingsOfVips) {
  model::Fabric f = testing::SampleFabric();
  f.nodes.push_back(testing::MakeNode("h5", model::Platform::kLinux, "192.0.2.5", ""));
  auto with = testing::MakeVipSpec("vpc1", "10.100.0.250", 10, {"h3", "h1"});
  with.lease_ms = 2500;
  with.check = "/usr/local/bin/healthy --port 80";
  with.witness = "h5";
  ASSERT_TRUE(alloc::AddVip(f, with).ok());
  auto plain = testing::MakeVipSpec("vpc1", "10.100.0.251", 11, {"h1", "h3"});
  ASSERT_TRUE(alloc::AddVip(f, plain).ok());
  ASSERT_NO_FATAL_FAILURE(SaveFirstVpc(f, false));
  auto s = Store::Open(path_, false, nullptr);
  ASSERT_TRUE(s.ok()) << s.error().message;
  auto loaded = (*s)->LoadFabric();
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  const auto& vips = loaded->vpcs.at(0).vips;
  ASSERT_EQ(vips.size(), 2u);
  EXPECT_EQ(vips[0].lease_ms, 2500);
  EXPECT_EQ(vips[0].check, "/usr/local/bin/healthy --port 80");
  EXPECT_EQ(vips[0].witness, "h5");
  EXPECT_FALSE(vips[0].unsafe_two_node);
  EXPECT_EQ(vips[1].lease_ms, model::kDefaultLeaseMs);
  EXPECT_EQ(vips[1].check, "");
  EXPECT_EQ(vips[1].witness, "");
  // The database refuses a lease out of bounds whatever writes it.
  EXPECT_FALSE((*s)->db().Exec("UPDATE vip SET lease_ms = 1000 WHERE vhid = 10").ok());
}

// A database of schema 5 (before leases) with a VIP in a two-member VPC and one in a three-member
// VPC: migrated, the first is unsafe_two_node (what it was), the second keeps the defaults.
TEST_F(StoreTest, MigratesVipsToLeasesKeepingTwoMemberGroupsAsTheyWere) {
  {
    auto db = Db::Open(path_, true);
    ASSERT_TRUE(db.ok());
    for (size_t i = 0; i < 5; ++i) ASSERT_TRUE(db->Exec(Migrations()[i].sql).ok()) << i;
    ASSERT_TRUE(db->Exec("PRAGMA application_id = " + std::to_string(kApplicationId) +
                         "; PRAGMA user_version = 5")
                    .ok());
    ASSERT_TRUE(db->Exec(R"(
      INSERT INTO node (id, name, ssh_host, ssh_port, ssh_user, underlay4, platform, mtu)
        VALUES (1, 'h1', '192.0.2.1', 22, 'root', '192.0.2.1', 'linux', 1500),
               (2, 'h2', '192.0.2.2', 22, 'root', '192.0.2.2', 'linux', 1500),
               (3, 'h3', '192.0.2.3', 22, 'root', '192.0.2.3', 'linux', 1500);
      INSERT INTO vpc (id, name, peer_network, family, mtu, port)
        VALUES (1, 'two', '10.1.0.0/24', 'auto', 1450, 4789),
               (2, 'three', '10.2.0.0/24', 'auto', 1450, 4789);
      INSERT INTO member VALUES (1, 1, 0, '10.1.0.1'), (1, 2, 1, '10.1.0.2'),
                                (2, 1, 0, '10.2.0.1'), (2, 2, 1, '10.2.0.2'), (2, 3, 2, '10.2.0.3');
      INSERT INTO vip (vpc_id, vhid, address, nodes, secret, advert_ms, preempt)
        VALUES (1, 1, '10.1.0.100', 'h1,h2', 'secret1', 100, 1),
               (2, 1, '10.2.0.100', 'h1,h2', 'secret2', 100, 1);
    )").ok());
  }
  auto s = Store::Open(path_, false, nullptr);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(*(*s)->db().QueryInt("PRAGMA user_version"), static_cast<int64_t>(Migrations().size()));
  auto f = (*s)->LoadFabric();
  ASSERT_TRUE(f.ok()) << f.error().message;
  const model::Vip& two = f->FindVpc("two")->vips.at(0);
  const model::Vip& three = f->FindVpc("three")->vips.at(0);
  EXPECT_TRUE(two.unsafe_two_node);
  EXPECT_FALSE(three.unsafe_two_node);
  for (const auto* v : {&two, &three}) {
    EXPECT_EQ(v->lease_ms, model::kDefaultLeaseMs);
    EXPECT_EQ(v->check, "");
    EXPECT_EQ(v->witness, "");
  }
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

// A directory that is not vpcctl's is never adopted, and never changed.
class StateDirAdoption : public StoreTest {
 protected:
  // A directory of `mode` holding `files`.
  std::string MakeDir(const std::string& name, mode_t mode, std::vector<std::string> files) {
    std::string d = dir_ + "/" + name;
    EXPECT_EQ(mkdir(d.c_str(), 0700), 0);
    for (const auto& f : files) std::ofstream(d + "/" + f) << "x\n";
    chmod(d.c_str(), mode);  // past the umask
    return d;
  }
  static mode_t Mode(const std::string& path) {
    struct stat st {};
    stat(path.c_str(), &st);
    return st.st_mode & 07777;
  }
  static std::vector<std::string> Names(const std::string& d) {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(d)) out.push_back(e.path().filename());
    std::sort(out.begin(), out.end());
    return out;
  }
  // Refused with a message naming the directory and the way out; mode and contents unchanged.
  void ExpectRefused(const std::string& d, const std::string& why) {
    mode_t mode = Mode(d);
    auto names = Names(d);
    std::vector<std::string> warnings;
    auto st = EnsureStateDir(d, &warnings);
    ASSERT_FALSE(st.ok()) << d;
    EXPECT_EQ(st.error().code, Exit::kUsage);
    const std::string& m = st.error().message;
    EXPECT_NE(m.find("state directory " + d + " "), std::string::npos) << m;
    EXPECT_NE(m.find(why), std::string::npos) << m;
    EXPECT_NE(m.find("choose an empty directory or a vpcctl state directory"), std::string::npos)
        << m;
    EXPECT_EQ(Mode(d), mode) << "mode changed";
    EXPECT_EQ(Names(d), names) << "contents changed";
    EXPECT_TRUE(warnings.empty());
  }
};

TEST_F(StateDirAdoption, KnowsAStateDirectoryByItsFiles) {
  using V = std::vector<std::string>;
  EXPECT_EQ(ClassifyStateDir({}), DirKind::kEmpty);
  EXPECT_EQ(ClassifyStateDir(V{"vpcctl.db", "notes.txt", "fill"}), DirKind::kStateDir);
  EXPECT_EQ(ClassifyStateDir(V{"apply.lock", "wg.key"}), DirKind::kStateDir) << "node, no map yet";
  EXPECT_EQ(ClassifyStateDir(V{"lock", "vpcctl.db.tmp.42"}), DirKind::kStateDir);
  EXPECT_EQ(ClassifyStateDir(V{"apt", "dpkg", "lock"}), DirKind::kForeign) << "/var/lib";
  EXPECT_EQ(ClassifyStateDir(V{"vpcctl.dbx"}), DirKind::kForeign);
}

TEST_F(StateDirAdoption, RefusesAForeignNonEmptyDirectory) {
  std::string d = MakeDir("lib", 0755, {"dpkg", "apt", "lock"});
  ExpectRefused(d, "is not empty and not a vpcctl state directory: it holds 'apt', 'dpkg' and no "
                   "vpcctl.db");
}

TEST_F(StateDirAdoption, RefusesAWorldWritableForeignDirectoryLeavingItsMode) {
  std::string d = MakeDir("shared", 01777, {"someone-else"});
  ExpectRefused(d, "(mode 1777) is not empty and not a vpcctl state directory");
}

TEST_F(StateDirAdoption, RefusesADirectoryOfAnotherUser) {
  if (geteuid() != 0) GTEST_SKIP() << "SKIPPED: needs root to give a directory to uid 65534";
  std::string d = MakeDir("nobody", 0755, {});
  ASSERT_EQ(chown(d.c_str(), 65534, 65534), 0);
  ExpectRefused(d, "is owned by uid 65534, not by this user (uid 0)");
  std::string state = MakeDir("nobody-state", 0755, {"vpcctl.db"});
  ASSERT_EQ(chown(state.c_str(), 65534, 65534), 0);
  ExpectRefused(state, "is owned by uid 65534");
  struct stat st {};
  ASSERT_EQ(stat(state.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u);
}

TEST_F(StateDirAdoption, AdoptsAnEmptyDirectoryAndTightensIt) {
  std::string d = MakeDir("empty", 0755, {});
  std::vector<std::string> w;
  auto st = EnsureStateDir(d, &w);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(Mode(d), 0700u);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0], "state directory " + d + " had mode 0755; tightened to 0700");
}

TEST_F(StateDirAdoption, AdoptsItsOwnStateDirectoryAndTightensAWideMode) {
  std::string d = MakeDir("state", 0777, {"vpcctl.db", "id_ed25519", "notes.txt"});
  std::vector<std::string> w;
  auto st = EnsureStateDir(d, &w);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(Mode(d), 0700u);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("had mode 0777; tightened to 0700"), std::string::npos) << w[0];
  std::string node = MakeDir("node", 0700, {"apply.lock", "wg.key"});
  EXPECT_TRUE(EnsureStateDir(node, nullptr).ok()) << "a node's, before its first map";
}

TEST_F(StateDirAdoption, AFileInTheWayIsNotAStateDirectory) {
  std::string f = dir_ + "/file";
  std::ofstream(f) << "x\n";
  auto st = EnsureStateDir(f, nullptr);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find(f + " is not a directory"), std::string::npos);
}

}  // namespace
}  // namespace vpcctl::store
