// What the controller's vip commands share: reading their arguments, naming a VIP, checking a
// service check on this node, and a VIP's JSON shape (`vip list`, `vip show`).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "vpcctl/base/result.h"
#include "vpcctl/fabric/context.h"
#include "vpcctl/model/fabric.h"

namespace vpcctl::fabric {

// A VIP named by its vhid or its address (exit 2 naming it when the VPC has none).
Result<const model::Vip*> FindVip(const model::Vpc& vpc, const std::string& which);

// Milliseconds given as text (--lease, --advert); the range is checked with the VIP. Nothing when
// `text` is empty (not given) or bad (then the problem is added to `problems`).
std::optional<int> ParseMsOption(const std::string& flag, const std::string& text,
                                 Problems& problems);
// A node name given with `flag` (--witness, --to); a bad one is added to `problems`.
void CheckNodeOption(const std::string& flag, const std::string& name, Problems& problems);

// --nodes a,b[,c]: each a node name; each bad one added to `problems`.
std::vector<std::string> ParseNodeList(const std::string& text, Problems& problems);

// A check's program must be an executable file on this node when this node is a candidate (the
// other candidates are nodes this one cannot look into).
Status CheckRunsHere(const exec::Host& host, const model::Vip& vip, const std::string& local_node);

nlohmann::json VipJson(const model::Vpc& vpc, const model::Vip& v, bool show_secrets);

}  // namespace vpcctl::fabric
