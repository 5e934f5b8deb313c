// Output shapes: aligned tables for humans, JSON (stable, documented in the README) for scripts.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vpcctl/model/fabric.h"
#include "vpcctl/model/reports.h"

namespace vpcctl::fabric {

class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void Row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  void Print(std::ostream& out) const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

void PrintJson(std::ostream& out, const nlohmann::json& j);
// Adds "WHAT OLD -> NEW" to `changes` when `old_value` and `new_value` differ.
void AddChange(std::vector<std::string>& changes, const char* what, const std::string& old_value,
               const std::string& new_value);
// What an in-place change (node update, vpc set) did to `subject` ("node h2"): with `json`, `j`
// with its "changes" and the fabric's "generation"; else one line, "updated SUBJECT: a -> b; ...".
void PrintUpdated(std::ostream& out, bool json, nlohmann::json j, const std::string& subject,
                  const std::vector<std::string>& changes, uint64_t generation);

nlohmann::json NodeJson(const model::Node& n);
nlohmann::json VpcSummaryJson(const model::Vpc& v);
nlohmann::json VpcJson(const model::Fabric& f, const model::Vpc& v);

// "root@192.0.2.1:22", "root@[2001:db8::1]:22"
std::string SshText(const model::Node& n);
// "192.0.2.1, 2001:db8::1"
std::string UnderlayText(const model::Node& n);
// Its local addresses behind NAT, "-" when it has none.
std::string LocalText(const model::Node& n);
// SHA256 fingerprint of the pinned host key, or "-" when none.
std::string FingerprintText(const model::Node& n);
// "path drops frames larger than 1400 bytes (VPC MTU 1450)", for a pair whose full-size
// don't-fragment probe went unanswered.
std::string PathMtuText(const model::PeerHealth& p);

}  // namespace vpcctl::fabric
