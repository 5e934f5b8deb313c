#include "vpcctl/model/attachment.h"

#include "vpcctl/base/text.h"

namespace vpcctl::model {

std::string_view GuestKindName(GuestKind k) {
  switch (k) {
    case GuestKind::kJail:
      return "jail";
    case GuestKind::kVm:
      return "vm";
    case GuestKind::kNetns:
      return "netns";
    case GuestKind::kTap:
      return "tap";
  }
  return "?";
}

Result<GuestKind> ParseGuestKind(std::string_view text) {
  for (GuestKind k : {GuestKind::kJail, GuestKind::kVm, GuestKind::kNetns, GuestKind::kTap}) {
    if (GuestKindName(k) == text) return k;
  }
  return UsageError("invalid guest kind " + Quoted(text));
}

bool CountsAsJail(GuestKind k) { return k == GuestKind::kJail || k == GuestKind::kNetns; }

bool Supported(GuestKind k, Platform p) {
  if (k == GuestKind::kJail) return p == Platform::kFreeBSD;
  if (k == GuestKind::kNetns) return p == Platform::kLinux;
  return true;
}

Status ValidateGuestName(GuestKind k, std::string_view name, Platform p) {
  std::string what = std::string(GuestKindName(k)) + " name " + Quoted(name);
  if (name.empty()) return UsageError("invalid " + what + ": must not be empty");
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (k == GuestKind::kTap) {
    if (name.size() > 15) return UsageError("invalid " + what + ": longer than 15 characters");
    if (!(name[0] >= 'a' && name[0] <= 'z')) {
      return UsageError("invalid " + what + ": must start with a lowercase letter");
    }
    for (char c : name) {
      if (!(alnum(c) && !(c >= 'A' && c <= 'Z')) && c != '_' && c != '.') {
        return UsageError("invalid " + what + ": allowed are [a-z0-9_.]");
      }
    }
    if (p == Platform::kFreeBSD) {
      bool unit = name.size() > 3 && StartsWith(name, "tap") && name[3] != '0';
      for (char c : name.substr(3)) unit = unit && c >= '0' && c <= '9';
      if (!unit && name != "tap0") {
        return UsageError("invalid " + what + ": FreeBSD creates taps as tapN");
      }
    }
    return {};
  }
  if (name.size() > 64) return UsageError("invalid " + what + ": longer than 64 characters");
  if (!(alnum(name[0]) || name[0] == '_')) {
    return UsageError("invalid " + what + ": must start with a letter, digit or '_'");
  }
  for (char c : name) {
    if (!(alnum(c) || c == '_' || c == '.' || c == '-')) {
      return UsageError("invalid " + what + ": contains " + Quoted(std::string_view(&c, 1)) +
                        " (allowed: [A-Za-z0-9_.-])");
    }
  }
  return {};
}

std::string GuestTag(const Attachment& a) {
  return std::string(kGuestPrefix) + a.vpc + ":" + std::string(GuestKindName(a.kind)) + ":" +
         a.guest;
}

}  // namespace vpcctl::model
