// `vpcctl state check`: the state database's invariants.
#pragma once

#include <string>
#include <vector>

#include "vpcctl/base/result.h"
#include "vpcctl/fabric/context.h"
#include "vpcctl/store/store.h"

namespace vpcctl::fabric {

// The state database's invariants: integrity, foreign keys (no orphan rows), the fabric's rules
// (unique VNIs and addresses, full meshes, ...). Empty when all hold.
Result<std::vector<std::string>> FindStateProblems(store::Store& db);
Status StateCheck(Context& ctx, bool json);

}  // namespace vpcctl::fabric
