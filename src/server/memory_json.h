// The JSON body of GET /compare/memory (and `helix compare-memory --json`).
// Ten fields are the stable contract (MiB with 2 decimals, percentages 0..100 with 2 decimals);
// the rest add exact bytes and capacity.
#pragma once

#include <nlohmann/json.hpp>

#include "kv/memory_math.h"

namespace helix {

nlohmann::json memory_comparison_json(const MemoryComparison& c);

}  // namespace helix
