// The agent's two interface listings read in its own process: rtnetlink dumps instead of an `ip`
// process each. Every apply reads them twice (before its changes and to verify them) and every
// status once; as processes they cost more than the changes themselves on a node of a big fabric.
//
// The text is `ip -j`'s for the fields vpcctl reads (platform/linux.h parses both the same way),
// so the listing cache, the parsers and the drift are unchanged. The agent uses them only after
// checking, when it starts, that they parse to what `ip` prints on that node; where they do not,
// it keeps running `ip`.
#pragma once

#include <memory>
#include <string>

#include "vpcctl/base/result.h"
#include "vpcctl/exec/runner.h"

namespace vpcctl::agent {

// `ip -j -d addr show`: every link with its kind, vxlan and bridge-port details and addresses.
Result<std::string> DumpLinks();
// `ip -j neigh show nud permanent`: the permanent neighbour entries.
Result<std::string> DumpPermanentNeighbours();

// A Runner that answers those two commands with the dumps above and runs every other on
// `inner`. Linux only: elsewhere every command runs on `inner`.
class NetlinkListings : public exec::Runner {
 public:
  explicit NetlinkListings(exec::Runner& inner) : inner_(inner) {}
  Result<exec::CommandResult> Run(const exec::Argv& argv, const std::string& input,
                                  std::chrono::milliseconds timeout) override;
  Result<int> Start(const exec::Argv& argv, const std::string& log,
                    const std::string& pidfile) override {
    return inner_.Start(argv, log, pidfile);
  }

 private:
  exec::Runner& inner_;
};

// Whether the dumps parse to what `inner`'s `ip` prints now (the links and the permanent
// neighbours); the reason when they do not.
Status CheckNetlinkListings(exec::Runner& inner);

}  // namespace vpcctl::agent
