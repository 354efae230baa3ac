// The schema as an ordered list of migrations; migration i brings user_version from i to i+1. Never edit a
// migration that has shipped: append a new one. Database::open applies the missing ones in one transaction.
#pragma once
#include <string_view>
#include <vector>

namespace cj::storage {

const std::vector<std::string_view>& schema_migrations();

}  // namespace cj::storage
