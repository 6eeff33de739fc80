// Conversion of a row of any weight type to f32 (embedding lookups, tests, reference paths).
#pragma once

#include <cstdint>

#include "common/dtype.h"

namespace helix {

// Writes n values decoded from `src` (n must be a multiple of the type's block size).
void dequantize_row(DType dtype, const void* src, float* dst, int64_t n);

}  // namespace helix
