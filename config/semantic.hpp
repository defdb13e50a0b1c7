#pragma once
// Checks that span keys (references, uniqueness, compiled patterns) and
// derived defaults; run after walk_table has filled the Config.
#include "config/config.hpp"
#include "config/walk.hpp"

namespace postgate::config {

void check_semantics(Config& config, LoadContext& ctx);

// 1 to 64 of A-Z a-z 0-9 _ - (outlet, counter and adapter ids).
bool is_valid_id(std::string_view id);

}  // namespace postgate::config
