// What the node agent (agent/agent.h) remembers between requests: the kernel listings a status
// reads (`ip -j -d addr show`, `ip -j neigh show nud permanent`, `nft list table inet vpcctl`),
// kept until the kernel reports a change. A listing is reused only when no change of its kind was
// reported since before it was taken, so a cached answer is the answer the command would print
// now.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>

#include "vpcctl/base/clock.h"
#include "vpcctl/exec/runner.h"

namespace vpcctl::agent {

// What the kernel reported changed since the last Poll.
struct Changes {
  // Links, addresses, permanent neighbour entries or nftables: every listing may differ now (also
  // when notifications were lost).
  bool all = false;
  // Addresses whose neighbour entries changed without being permanent (learnt entries ageing,
  // multicast entries the kernel collects, a permanent entry deleted): only a listing that names
  // one of them may differ.
  std::set<std::string> neighbours;
};

class ChangeFeed {
 public:
  virtual ~ChangeFeed() = default;
  // Everything reported since the last call, without waiting.
  virtual Changes Poll() = 0;
};

// The kernel's own notifications (Linux: rtnetlink's link, address and neighbour groups and
// nftables' group). Where there are none (FreeBSD, or the sockets cannot be opened), every Poll
// says everything changed: nothing is ever reused.
std::unique_ptr<ChangeFeed> KernelChangeFeed();

#ifdef __linux__
// What one datagram of rtnetlink notifications (`size` bytes at `data`) changes: a neighbour
// message of an entry that is not permanent names its address (or nothing, without one); every
// other message changes everything.
Changes RouteChanges(const void* data, size_t size);
#endif

// A Runner that answers the commands in `cacheable` from memory while the feed reports no change
// that could touch their listing and the listing is younger than its own life: `max_age` plus a
// random part of `spread`, drawn when it is read (so the agents of a fabric, filled by one status,
// do not all read theirs again in the same later one). Every other command runs on `inner`. Only
// successful runs are kept. Thread-safe.
class ListingCache : public exec::Runner {
 public:
  ListingCache(exec::Runner& inner, ChangeFeed& feed, std::set<exec::Argv> cacheable,
               const Clock& clock, std::chrono::milliseconds max_age,
               std::chrono::milliseconds spread = std::chrono::milliseconds(0));
  Result<exec::CommandResult> Run(const exec::Argv& argv, const std::string& input,
                                  std::chrono::milliseconds timeout) override;
  Result<int> Start(const exec::Argv& argv, const std::string& log,
                    const std::string& pidfile) override {
    return inner_.Start(argv, log, pidfile);
  }
  int hits() const;
  int runs() const;  // cacheable commands run on `inner`

 private:
  void Forget(const Changes& c);  // under mu_
  struct Entry {
    int64_t at_ms = 0;
    int64_t life_ms = 0;
    exec::CommandResult result;
  };
  exec::Runner& inner_;
  ChangeFeed& feed_;
  std::set<exec::Argv> cacheable_;
  const Clock& clock_;
  std::chrono::milliseconds max_age_, spread_;
  std::minstd_rand random_;
  mutable std::mutex mu_;
  std::map<exec::Argv, Entry> entries_;
  int hits_ = 0, runs_ = 0;
};

}  // namespace vpcctl::agent
