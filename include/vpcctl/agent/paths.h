// Where the node agent (agent/agent.h) of a state directory keeps its socket, pid file and log.
#pragma once

#include <string>

namespace vpcctl::agent {

inline std::string SocketPath(const std::string& state_dir) { return state_dir + "/agent.sock"; }
inline std::string PidfilePath(const std::string& state_dir) { return state_dir + "/agent.pid"; }
inline std::string LogPath(const std::string& state_dir) { return state_dir + "/agent.log"; }

}  // namespace vpcctl::agent
