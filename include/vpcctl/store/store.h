// The state database: opened, verified (application_id, user_version, integrity) and migrated
// from the embedded schema; typed queries over the fabric. One transaction per command.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vpcctl/base/result.h"
#include "vpcctl/model/attachment.h"
#include "vpcctl/model/fabric.h"
#include "vpcctl/store/sqlite.h"

namespace vpcctl::store {

inline constexpr int64_t kApplicationId = 0x76706363;  // "vpcc"

// The map a node holds (the whole document, as imported).
struct StoredMap {
  std::string node;  // which node of the map this one is
  std::string fabric_id;
  uint64_t generation = 0;
  std::string document;
  std::string imported_at;
  uint64_t epoch = 0;  // the controller's (state restore moves it on)
};

// A VIP state transition on this node, as the VIP daemon reported it.
struct VipEvent {
  std::string vpc;
  int vhid = 0;
  std::string state;  // MASTER, BACKUP, FAULT, INIT, STOP
  std::string at;     // UTC
};

class Store {
 public:
  // Opens (and with `create`, creates) the database at `path`, refusing one that is not ours,
  // newer than this build, or damaged; applies pending migrations. The file is kept 0600; a wider
  // mode is tightened and reported in `warnings`.
  static Result<std::unique_ptr<Store>> Open(const std::string& path, bool create,
                                             std::vector<std::string>* warnings);

  // BEGIN IMMEDIATE: the write lock is taken up front, so a second writer waits (busy timeout)
  // and then gets a readable error instead of failing half-way.
  Status Begin();
  Status Commit();
  void Rollback();

  Result<std::optional<std::string>> GetSetting(const std::string& key);
  Status SetSetting(const std::string& key, const std::string& value);

  Result<model::Fabric> LoadFabric();
  // Inserts or updates the node with this name.
  Status SaveNode(const model::Node& node);
  Status DeleteNode(const std::string& name);
  // Inserts or updates the VPC with this name, replacing its members and tunnels.
  Status SaveVpc(const model::Vpc& vpc);
  Status DeleteVpc(const std::string& name);
  // The id the next VPC will get (AUTOINCREMENT: ids of deleted VPCs are never reused).
  Result<uint32_t> NextVpcId();
  // Increments and returns the fabric generation.
  Result<uint64_t> BumpGeneration();

  Result<std::optional<StoredMap>> LoadMap();
  Status SaveMap(const StoredMap& m);

  // Nodes owed a clean-up of a VPC they no longer belong to.
  Status AddCleanup(const std::string& vpc, const std::string& node);
  Status RemoveCleanup(const std::string& vpc, const std::string& node);
  Result<std::vector<std::pair<std::string, std::string>>> Cleanups();

  // Guests attached on this node, by id.
  Result<std::vector<model::Attachment>> Attachments();
  // The id the next attachment gets (AUTOINCREMENT: never reused); interface names derive from it.
  Result<int64_t> NextAttachmentId();
  // Inserts the attachment with a.id.
  Status AddAttachment(const model::Attachment& a);
  Status DeleteAttachment(int64_t id);

  // Records a transition (keeping the last 100 per VIP); newest first.
  Status AddVipEvent(const VipEvent& e);
  Result<std::vector<VipEvent>> VipEvents(const std::string& vpc, int vhid, int limit);

  Db& db() { return db_; }

 private:
  explicit Store(Db db) : db_(std::move(db)) {}
  Status Verify(const std::string& path, bool fresh);
  Status Migrate();
  Result<int64_t> NodeId(const std::string& name);
  // The id an AUTOINCREMENT table hands out next.
  Result<int64_t> NextId(const std::string& table);

  Db db_;
  int64_t schema_version_ = 0;
};

// Rolls back unless committed.
class Transaction {
 public:
  explicit Transaction(Store& s) : s_(s) {}
  ~Transaction() {
    if (open_) s_.Rollback();
  }
  Status Begin() {
    VPC_TRY(s_.Begin());
    open_ = true;
    return {};
  }
  Status Commit() {
    open_ = false;
    return s_.Commit();
  }

 private:
  Store& s_;
  bool open_ = false;
};

}  // namespace vpcctl::store
