#include "vpcctl/ssh/keys.h"

#include <libssh/libssh.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "libssh_handles.h"
#include "vpcctl/base/text.h"
#include "vpcctl/exec/files.h"
#include "vpcctl/store/state_dir.h"

namespace vpcctl::ssh {

namespace {

Result<std::string> PublicLine(ssh_key key, const std::string& comment) {
  char* b64 = nullptr;
  if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK || !b64) {
    return Failure("cannot export the public key");
  }
  std::string line = std::string(ssh_key_type_to_char(ssh_key_type(key))) + " " + b64;
  ssh_string_free_char(b64);
  if (!comment.empty()) line += " " + comment;
  return line;
}

}  // namespace

Result<std::string> EnsureKeyPair(const std::string& private_path, const std::string& comment) {
  std::string pub_path = private_path + ".pub";
  struct stat st {};
  if (stat(private_path.c_str(), &st) == 0) {
    ssh_key raw = nullptr;
    if (ssh_pki_import_privkey_file(private_path.c_str(), nullptr, nullptr, nullptr, &raw) !=
        SSH_OK) {
      return Failure("cannot read the private key " + private_path);
    }
    KeyPtr key(raw);
    if ((st.st_mode & 077) != 0) chmod(private_path.c_str(), 0600);
    VPC_ASSIGN_OR_RETURN(std::string line, PublicLine(key.get(), comment));
    VPC_TRY(exec::WriteFileAtomic(pub_path, line + "\n", 0644));
    return line;
  }
  ssh_key raw = nullptr;
  if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &raw) != SSH_OK) {
    return Failure("cannot generate an ED25519 key pair");
  }
  KeyPtr key(raw);
  char* priv = nullptr;
  if (ssh_pki_export_privkey_base64(key.get(), nullptr, nullptr, nullptr, &priv) != SSH_OK ||
      !priv) {
    return Failure("cannot export the private key");
  }
  std::string priv_text = priv;
  ssh_string_free_char(priv);
  if (priv_text.empty() || priv_text.back() != '\n') priv_text += '\n';
  VPC_TRY(exec::WriteFileAtomic(private_path, priv_text, 0600));
  VPC_ASSIGN_OR_RETURN(std::string line, PublicLine(key.get(), comment));
  VPC_TRY(exec::WriteFileAtomic(pub_path, line + "\n", 0644));
  return line;
}

Result<std::string> Fingerprint(const std::string& public_key) {
  auto parts = Split(public_key, ' ');
  if (parts.size() < 2) return Failure("invalid public key " + Quoted(public_key));
  ssh_key raw = nullptr;
  if (ssh_pki_import_pubkey_base64(parts[1].c_str(), ssh_key_type_from_name(parts[0].c_str()),
                                   &raw) != SSH_OK) {
    return Failure("invalid public key " + Quoted(public_key));
  }
  KeyPtr key(raw);
  unsigned char* hash = nullptr;
  size_t len = 0;
  if (ssh_get_publickey_hash(key.get(), SSH_PUBLICKEY_HASH_SHA256, &hash, &len) != SSH_OK) {
    return Failure("cannot hash public key");
  }
  char* fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, len);
  ssh_clean_pubkey_hash(&hash);
  if (!fp) return Failure("cannot format fingerprint");
  std::string out = fp;
  ssh_string_free_char(fp);
  return out;
}

}  // namespace vpcctl::ssh
