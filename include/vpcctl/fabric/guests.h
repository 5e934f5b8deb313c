// Guests on this node's VPC bridges: `vpcctl attach`, `detach` and `attachments`. They run on
// the node that hosts the guest, against the map it holds, under its apply lock.
#pragma once

#include <string>

#include "vpcctl/base/result.h"
#include "vpcctl/fabric/context.h"
#include "vpcctl/model/attachment.h"

namespace vpcctl::fabric {

struct AttachOptions {
  std::string vpc;
  std::string kind;   // jail | vm | netns | tap
  std::string guest;
  std::string ip;     // CIDR set inside the guest (netns, jail)
  std::string mac;
  bool dry_run = false;
  bool json = false;
};
Status Attach(Context& ctx, const AttachOptions& o);
Status Detach(Context& ctx, const std::string& vpc, const std::string& guest,
              bool json = false);
Status Attachments(Context& ctx, const std::string& vpc, bool json);

// Interface names of a new attachment with this id on this platform.
void NameGuestInterfaces(model::Attachment& a, model::Platform p);

}  // namespace vpcctl::fabric
