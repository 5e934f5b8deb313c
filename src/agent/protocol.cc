#include "vpcctl/agent/protocol.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "vpcctl/base/output_cap.h"
#include "vpcctl/base/text.h"
#include "vpcctl/exec/fd.h"
#include "vpcctl/model/json_reader.h"

namespace vpcctl::agent {

using json = nlohmann::json;

std::string StatusRequest(const std::string& vpc) {
  return json{{"op", "status"}, {"vpc", vpc}}.dump() + "\n";
}

std::string ApplyRequest(const std::string& node, const std::string& switch_keys_at) {
  return json{{"op", "apply"}, {"node", node}, {"switch_keys_at", switch_keys_at}}.dump() + "\n";
}

Result<ssh::RemoteResult> ParseAnswer(std::string_view text) {
  // Flat: an answer nested deeper than its own shape is no answer (nor parsed as one).
  auto parsed = model::ParseJsonObject(text, "agent answer", 2);
  if (!parsed) return Failure("the agent's answer is not a JSON object");
  const json& j = *parsed;
  if (j.value("restart", false))
    return Failure("the agent is restarting (its vpcctl was replaced)");
  if (j.contains("error")) {
    std::string why = j["error"].is_string() ? j["error"].get<std::string>() : "an error";
    return Failure("the agent refused: " + Printable(why, 512));
  }
  if (!j.contains("exit") || !j["exit"].is_number_integer() || !j.contains("out") ||
      !j["out"].is_string() || !j.contains("err") || !j["err"].is_string()) {
    return Failure("the agent's answer lacks exit, out or err");
  }
  ssh::RemoteResult r;
  r.exit_status = j["exit"].get<int>();
  r.out = j["out"].get<std::string>();
  r.err = j["err"].get<std::string>();
  return r;
}

Result<std::string> AskLocal(const std::string& socket_path, const std::string& request,
                             std::chrono::milliseconds timeout) {
  sockaddr_un sa{};
  if (socket_path.size() >= sizeof sa.sun_path) return Failure("socket path too long");
  exec::Fd owned(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  int fd = owned.get();
  if (fd < 0) return Failure(std::string("socket: ") + std::strerror(errno));
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, socket_path.c_str(), socket_path.size() + 1);
  timeval tv{static_cast<time_t>(std::max<int64_t>(1, timeout.count() / 1000)), 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    return Failure("no agent at " + socket_path + ": " + std::strerror(errno));
  }
  for (size_t done = 0; done < request.size();) {
    ssize_t n = send(fd, request.data() + done, request.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Failure(std::string("writing to the agent: ") + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  shutdown(fd, SHUT_WR);
  std::string answer;
  char buf[16384];
  while (answer.size() <= kMaxStdout + kMaxStderr) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Failure(std::string("reading the agent's answer: ") + std::strerror(errno));
    if (n == 0) return answer;
    answer.append(buf, static_cast<size_t>(n));
  }
  return Failure("the agent's answer is too long");
}

}  // namespace vpcctl::agent
