// Reading JSON that another program wrote (a map, a node's report): bounded parsing, then typed
// access that fails with the path of the bad field instead of throwing.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "vpcctl/base/result.h"
#include "vpcctl/net/ip.h"

namespace vpcctl::model {

// Deeper nesting than any vpcctl document has; deeper input is refused before parsing (every
// walk over a parsed document recurses, so depth is stack).
inline constexpr int kMaxJsonDepth = 32;

// Parses one JSON object, refusing text nested deeper than `max_depth`. `what` names the
// document in errors ("map", "apply report").
Result<nlohmann::json> ParseJsonObject(std::string_view text, const std::string& what,
                                       int max_depth = kMaxJsonDepth);

class JsonReader {
 public:
  using json = nlohmann::json;
  // `what` names the document ("map"), `path` the object read ("map.nodes[2]").
  JsonReader(const json& j, std::string what, std::string path)
      : j_(j), what_(std::move(what)), path_(std::move(path)) {}

  const std::string& What() const { return what_; }
  const std::string& path() const { return path_; }
  // The field (null when absent).
  const json& Get(const char* key) const;
  bool Has(const char* key) const { return j_.is_object() && j_.contains(key); }
  // The field, which must exist and have `type` (an unsigned number is an integer too).
  Result<const json*> Field(const char* key, json::value_t type) const;
  Result<std::string> Str(const char* key) const;
  Result<bool> Bool(const char* key) const;
  Result<int64_t> Int(const char* key, int64_t lo, int64_t hi) const;
  Result<double> Num(const char* key, double lo, double hi) const;
  // Absent or null reads as nothing.
  Result<std::optional<int>> OptCount(const char* key) const;
  Result<std::optional<int64_t>> OptInt(const char* key, int64_t lo, int64_t hi) const;
  Result<std::optional<bool>> OptBool(const char* key) const;
  Result<std::optional<double>> OptNum(const char* key, double lo, double hi) const;
  Result<std::optional<std::string>> OptStr(const char* key) const;
  Result<std::optional<net::IpAddress>> OptAddr(const char* key, net::Family f) const;
  // A field that must be an array of at most `max` elements.
  Result<const json*> Array(const char* key, size_t max) const;
  Status OnlyKeys(std::initializer_list<const char*> keys) const;
  Error Bad(const std::string& field, const std::string& why) const;
  static Error Bad(const std::string& what, const std::string& path, const std::string& why);

 private:
  const json& j_;
  std::string what_;
  std::string path_;
};

}  // namespace vpcctl::model
