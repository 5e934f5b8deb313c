// What runs on each node to hold and converge its map: `map export` (controller), `map import`
// and `apply --local`. A node needs no `vpcctl init`: its state directory and database are
// created on first import.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "vpcctl/base/result.h"
#include "vpcctl/fabric/context.h"
#include "vpcctl/store/store.h"

namespace vpcctl::fabric {

// Prints the controller's map (what `vpc sync` pushes); VIP secrets only with show_secrets.
Status MapExport(Context& ctx, bool show_secrets);

struct MapImportOptions {
  std::string node;    // which node of the map this is; default: the one of the map held
  bool force = false;  // accept an older map, or one from another fabric
  bool json = false;
};
// Reads a map on stdin; validates it; refuses an older one; stores it atomically.
Status MapImport(Context& ctx, const MapImportOptions& o);

struct ApplyOptions {
  bool dry_run = false;
  bool json = false;
  bool import = false;   // read a map on stdin and import it first (what deploy sends)
  std::string map_file;  // with --dry-run: plan against this map ("-": stdin) without storing
  std::string node;      // with --import: which node of the map this is
  bool force = false;    // with --import: as map import --force
  // A rekey's moment, in milliseconds since the epoch by this node's clock (empty: none): the
  // WireGuard key changes (this node's own key, a peer's new key) wait for it, so that every node
  // of the rekey switches together. Everything else is applied at once.
  std::string switch_keys_at;
};

// The longest a key switch waits for its moment: a moment further ahead means the clocks
// disagree, and the switch goes ahead at once with a warning.
constexpr int64_t kMaxSwitchWaitMs = 60'000;
// Probes, diffs against the node's part of the map, runs the missing steps in dependency order,
// probes again and verifies. Holds the node's apply lock.
Status Apply(Context& ctx, const ApplyOptions& o);

// Shared by map import and apply --import: validates and stores a map document under the node's
// apply lock (held by the caller). Returns the generation held before (if any).
struct ImportOutcome {
  std::optional<uint64_t> before;
  uint64_t after = 0;
  std::string node;
};
Result<ImportOutcome> ImportMap(store::Store& db, const std::string& text, const std::string& node,
                                bool force);

// Waits (on ctx's clock) for a rekey's moment, in ms since the epoch, so that the rekeyed node and
// its peers change keys together: traffic with it then pauses no longer than their clocks differ.
// A moment more than 0.5 s past, or more than kMaxSwitchWaitMs ahead, is a warning, and the switch
// goes ahead at once. Returns how long after the moment the switch goes ahead (negative: before).
int64_t WaitForKeySwitch(Context& ctx, int64_t at);

// Opens (creating it if needed) a node's database.
Result<std::unique_ptr<store::Store>> OpenNodeStore(Context& ctx);

}  // namespace vpcctl::fabric
