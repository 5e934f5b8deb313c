#include "vpcctl/base/output_cap.h"

namespace vpcctl {

bool AppendCapped(std::string& buf, std::string_view data, size_t cap) {
  size_t room = buf.size() < cap ? cap - buf.size() : 0;
  buf.append(data.substr(0, room));
  return data.size() <= room;
}

std::string OverflowMessage(size_t out_size, size_t err_size) {
  if (err_size >= kMaxStderr && out_size < kMaxStdout) {
    return "answered more than 256 KiB on stderr: output cut";
  }
  return "answered more than 4 MiB: output cut";
}

}  // namespace vpcctl
