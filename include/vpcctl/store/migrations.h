// The schema migrations, embedded at build time from schema/NNN_*.sql (cmake/EmbedSchema.cmake).
#pragma once

#include <string>
#include <vector>

namespace vpcctl::store {

struct Migration {
  std::string name;  // file name, e.g. "001_initial.sql"
  std::string sql;
};

// In order; migration i brings the database to user_version i + 1.
const std::vector<Migration>& Migrations();

}  // namespace vpcctl::store
