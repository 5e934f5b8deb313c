#include "vpcctl/model/json_reader.h"

#include <cmath>

#include "vpcctl/base/text.h"

namespace vpcctl::model {

using json = nlohmann::json;

namespace {

// The deepest nesting of arrays and objects in `text`, stopping early past `limit`.
int Depth(std::string_view text, int limit) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) break;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

const char* TypeName(json::value_t t) {
  switch (t) {
    case json::value_t::string:
      return "a string";
    case json::value_t::number_integer:
      return "an integer";
    case json::value_t::number_float:
      return "a number";
    case json::value_t::array:
      return "an array";
    case json::value_t::object:
      return "an object";
    case json::value_t::boolean:
      return "true or false";
    default:
      return "of another type";
  }
}

bool HasType(const json& v, json::value_t type) {
  switch (type) {
    case json::value_t::number_integer:
      return v.is_number_integer();
    case json::value_t::number_float:
      return v.is_number();
    default:
      return v.type() == type;
  }
}

}  // namespace

Result<json> ParseJsonObject(std::string_view text, const std::string& what, int max_depth) {
  if (Depth(text, max_depth) > max_depth) {
    return Failure("invalid " + what + ": nested deeper than " + std::to_string(max_depth) +
                   " levels");
  }
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return Failure("invalid " + what + ": not a JSON document");
  if (!j.is_object()) return Failure("invalid " + what + ": not a JSON object");
  return j;
}

Error JsonReader::Bad(const std::string& what, const std::string& path, const std::string& why) {
  return Failure("invalid " + what + ": " + path + " " + why);
}

Error JsonReader::Bad(const std::string& field, const std::string& why) const {
  return Bad(what_, path_ + "." + field, why);
}

const json& JsonReader::Get(const char* key) const {
  static const json kNull;
  if (!j_.is_object()) return kNull;
  auto it = j_.find(key);
  return it == j_.end() ? kNull : *it;
}

Result<const json*> JsonReader::Field(const char* key, json::value_t type) const {
  if (!j_.is_object()) return Bad(what_, path_, "is not an object");
  auto it = j_.find(key);
  if (it == j_.end()) return Bad(key, "is missing");
  if (!HasType(*it, type)) return Bad(key, std::string("must be ") + TypeName(type));
  return &*it;
}

Result<std::string> JsonReader::Str(const char* key) const {
  VPC_ASSIGN_OR_RETURN(const json* v, Field(key, json::value_t::string));
  return v->get<std::string>();
}

Result<bool> JsonReader::Bool(const char* key) const {
  VPC_ASSIGN_OR_RETURN(const json* v, Field(key, json::value_t::boolean));
  return v->get<bool>();
}

Result<int64_t> JsonReader::Int(const char* key, int64_t lo, int64_t hi) const {
  VPC_ASSIGN_OR_RETURN(const json* v, Field(key, json::value_t::number_integer));
  if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
    return Bad(key, "is out of range");
  }
  int64_t n = v->get<int64_t>();
  if (n < lo || n > hi) {
    return Bad(key, "must be " + std::to_string(lo) + "-" + std::to_string(hi) + ", not " +
                        std::to_string(n));
  }
  return n;
}

Result<double> JsonReader::Num(const char* key, double lo, double hi) const {
  VPC_ASSIGN_OR_RETURN(const json* v, Field(key, json::value_t::number_float));
  double n = v->get<double>();
  if (!std::isfinite(n) || n < lo || n > hi) return Bad(key, "is out of range");
  return n;
}

Result<std::optional<int>> JsonReader::OptCount(const char* key) const {
  VPC_ASSIGN_OR_RETURN(auto n, OptInt(key, 0, 1000000));
  if (!n) return std::optional<int>();
  return std::optional<int>(static_cast<int>(*n));
}

Result<std::optional<int64_t>> JsonReader::OptInt(const char* key, int64_t lo, int64_t hi) const {
  if (!j_.is_object()) return Bad(what_, path_, "is not an object");
  auto it = j_.find(key);
  if (it == j_.end() || it->is_null()) return std::optional<int64_t>();
  VPC_ASSIGN_OR_RETURN(int64_t n, Int(key, lo, hi));
  return std::optional<int64_t>(n);
}

Result<std::optional<bool>> JsonReader::OptBool(const char* key) const {
  if (!j_.is_object()) return Bad(what_, path_, "is not an object");
  auto it = j_.find(key);
  if (it == j_.end() || it->is_null()) return std::optional<bool>();
  VPC_ASSIGN_OR_RETURN(bool b, Bool(key));
  return std::optional<bool>(b);
}

Result<std::optional<double>> JsonReader::OptNum(const char* key, double lo, double hi) const {
  if (!j_.is_object()) return Bad(what_, path_, "is not an object");
  auto it = j_.find(key);
  if (it == j_.end() || it->is_null()) return std::optional<double>();
  VPC_ASSIGN_OR_RETURN(double n, Num(key, lo, hi));
  return std::optional<double>(n);
}

Result<std::optional<std::string>> JsonReader::OptStr(const char* key) const {
  if (!j_.is_object()) return Bad(what_, path_, "is not an object");
  auto it = j_.find(key);
  if (it == j_.end() || it->is_null()) return std::optional<std::string>();
  VPC_ASSIGN_OR_RETURN(std::string s, Str(key));
  return std::optional<std::string>(std::move(s));
}

Result<std::optional<net::IpAddress>> JsonReader::OptAddr(const char* key, net::Family f) const {
  if (!j_.is_object()) return Bad(what_, path_, "is not an object");
  auto it = j_.find(key);
  if (it == j_.end()) return Bad(key, "is missing");
  if (it->is_null()) return std::optional<net::IpAddress>();
  if (!it->is_string()) return Bad(key, "must be a string or null");
  auto a = net::IpAddress::Parse(it->get<std::string>());
  if (!a || a->family() != f) {
    return Bad(key, "is not an " + std::string(net::FamilyName(f)) + " address");
  }
  return std::optional<net::IpAddress>(*a);
}

Result<const json*> JsonReader::Array(const char* key, size_t max) const {
  VPC_ASSIGN_OR_RETURN(const json* v, Field(key, json::value_t::array));
  if (v->size() > max) return Bad(key, "has more than " + std::to_string(max) + " elements");
  return v;
}

Status JsonReader::OnlyKeys(std::initializer_list<const char*> keys) const {
  if (!j_.is_object()) return Bad(what_, path_, "is not an object");
  for (auto it = j_.begin(); it != j_.end(); ++it) {
    bool known = false;
    for (const char* k : keys) known = known || it.key() == k;
    if (!known) return Bad(Quoted(it.key()), "is not a field of the " + what_ + " format");
  }
  return {};
}

}  // namespace vpcctl::model
