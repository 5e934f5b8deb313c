// Talking to the node agent (agent/agent.h): where it listens, what a request is, and how its
// answer reads. Below the fabric layer, so the controller's fan-out and the planner's daemon
// table use it without depending on the agent itself.
//
// The socket is <state>/agent.sock (agent/paths.h), mode 0600 (the user vpcctl runs as on the
// node). One request per connection, a JSON line, then the command's input until the caller's
// end of input:
//   {"op":"status","vpc":NAME}: `status --local --json [--vpc NAME]` (NAME empty: every VPC);
//   {"op":"apply","node":NAME,"switch_keys_at":MS}, then the map: `apply --local --import --node
//   NAME --json [--switch-keys-at MS]` (MS empty: none). A map that leaves the node no VPC is
//   refused (the command stops the agent).
// The answer, one JSON object, is what the command would have printed and returned:
// {"exit":N,"out":TEXT,"err":TEXT}, or {"error":TEXT} for a request it does not take. When its
// executable has been replaced (an upgrade) the agent answers {"restart":true} and exits: the
// caller runs the command instead, and the next apply starts the new agent.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "vpcctl/agent/paths.h"
#include "vpcctl/base/result.h"
#include "vpcctl/ssh/client.h"

namespace vpcctl::agent {

// The request line for the status of `vpc` (empty: every VPC of the node).
std::string StatusRequest(const std::string& vpc);
// The request line for an apply of the map that follows it (`switch_keys_at` may be empty).
std::string ApplyRequest(const std::string& node, const std::string& switch_keys_at);

// What an agent answered, as the result of the command it stands for. An error when the text is
// not an answer, or the agent asks to be bypassed: the caller then runs the command itself.
Result<ssh::RemoteResult> ParseAnswer(std::string_view text);

// Sends `request` (and its input), then the end of input, to the agent listening on `socket` on
// this machine, and returns its answer.
Result<std::string> AskLocal(const std::string& socket, const std::string& request,
                             std::chrono::milliseconds timeout);

}  // namespace vpcctl::agent
