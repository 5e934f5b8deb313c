// libssh handles owned by std::unique_ptr, shared by the key files and the client.
#pragma once

#include <libssh/libssh.h>

#include <memory>
#include <type_traits>

namespace vpcctl::ssh {

struct KeyDeleter {
  void operator()(ssh_key k) const { ssh_key_free(k); }
};
using KeyPtr = std::unique_ptr<std::remove_pointer_t<ssh_key>, KeyDeleter>;

}  // namespace vpcctl::ssh
