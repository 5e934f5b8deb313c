// The explicit context every operation receives from cmd/: where state lives, how to run commands,
// where output goes. No globals, so tests build the same context with fakes.
#pragma once

#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "vpcctl/base/clock.h"
#include "vpcctl/base/result.h"
#include "vpcctl/exec/host.h"
#include "vpcctl/exec/runner.h"
#include "vpcctl/exec/terminal.h"
#include "vpcctl/fabric/faults.h"
#include "vpcctl/model/fabric.h"
#include "vpcctl/model/map.h"
#include "vpcctl/probe/prober.h"
#include "vpcctl/ssh/client.h"
#include "vpcctl/store/state_dir.h"
#include "vpcctl/store/store.h"

namespace vpcctl::fabric {

// Human tables and JSON on `out`; diagnostics on `err`, in one voice ("vpcctl: warning: ...").
struct Output {
  std::istream& in;  // maps arrive here (`map import`, `apply --import`)
  std::ostream& out;
  std::ostream& err;
  bool color = false;
  // stderr is a terminal that can redraw a line (not TERM=dumb): fan-outs keep a live counter.
  bool live = false;
  void Warn(const std::string& message) const;
  void Info(const std::string& message) const;  // progress and notes, on stderr
  // A fan-out's progress on stderr: `line` (one node's result, as it lands; may be empty) and, when
  // `live`, a "[done/total]" counter kept on the last line and redrawn, gone once done == total.
  void Progress(size_t done, size_t total, const std::string& line) const;
};

struct Context {
  store::StatePaths paths;
  exec::Runner& runner;
  ssh::Client& ssh;
  exec::Terminal& term;
  Output& io;
  probe::Prober& prober;     // the overlay probes of status --local
  std::string command_line;  // recorded in the state lock
  Faults* faults = nullptr;  // crash points: only in the crash tests' binary
  const Clock* clock = nullptr;      // null: the system's clock
  const exec::Host* host = nullptr;  // null: this machine
  // Reports a crash point to the faults port, when there is one.
  void Fault(std::string_view point) const {
    if (faults) faults->At(point);
  }
  const Clock& Time() const { return clock ? *clock : SystemClock(); }
  const exec::Host& Machine() const { return host ? *host : exec::SystemHost(); }
};

// An open fabric database for a command. Write sessions hold the state lock and one transaction.
class Session {
 public:
  // Opens the database of an initialised node; refuses with a hint to run `vpcctl init` otherwise.
  static Result<std::unique_ptr<Session>> Read(Context& ctx);
  // Also takes the state lock and begins the command's transaction.
  static Result<std::unique_ptr<Session>> Write(Context& ctx);
  // Takes the state lock without a transaction yet: for commands that talk to nodes before they
  // write (no one else can write meanwhile). Call Begin() before saving.
  static Result<std::unique_ptr<Session>> Locked(Context& ctx);
  Status Begin();

  model::Fabric fabric;
  std::string local_node;
  store::Store& store() { return *store_; }
  // Writes nothing by itself: callers save what they changed, then Commit bumps the generation
  // (pass false for bookkeeping that is not part of the map: checks, clean-ups).
  Status Commit(bool bump_generation = true);

 private:
  Session() = default;
  static Result<std::unique_ptr<Session>> Open(Context& ctx, bool lock, bool begin);
  std::optional<store::StateLock> lock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::Transaction> tx_;
};

// The map of the session's fabric, as deploy sends it and `map export` prints it: fabric id,
// controller (this node), epoch. Read before any fan-out (the session's database connection is
// not for the fan-out's threads).
Result<model::Map> MapOf(Session& s);

// Combines several validation problems into one error; main prints one line per problem.
class Problems {
 public:
  void Add(const Status& s) {
    if (!s.ok()) errors_.push_back(s.error());
  }
  template <class T>
  void Add(const Result<T>& r) {
    if (!r.ok()) errors_.push_back(r.error());
  }
  void Add(Error e) { errors_.push_back(std::move(e)); }
  bool empty() const { return errors_.empty(); }
  Status ToStatus() const;

 private:
  std::vector<Error> errors_;
};

}  // namespace vpcctl::fabric
