// Our ED25519 key pair and SSH host-key fingerprints (libssh).
#pragma once

#include <string>

#include "vpcctl/base/result.h"

namespace vpcctl::ssh {

// Generates an ED25519 key pair: the private key (OpenSSH format) at `private_path`, mode 0600,
// and the public key line "ssh-ed25519 AAAA... <comment>" at `private_path`.pub, mode 0644.
// An existing key pair is kept. Returns the public key line.
Result<std::string> EnsureKeyPair(const std::string& private_path, const std::string& comment);

// "SHA256:..." (unpadded base64, as OpenSSH prints it) of a public key given as "TYPE BASE64".
Result<std::string> Fingerprint(const std::string& public_key);

}  // namespace vpcctl::ssh
