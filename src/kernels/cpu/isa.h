// Instruction sets the CPU kernels are built for, chosen once at run time. HELIX_ISA=scalar|avx2|avx512
// forces a lower one (tests, benchmarks); a request the CPU cannot run falls back to the best it can.
#pragma once

#include <optional>
#include <string_view>

namespace helix {

enum class Isa { Scalar, Avx2, Avx512 };

std::string_view isa_name(Isa isa);
std::optional<Isa> parse_isa(std::string_view name);
bool isa_supported(Isa isa);  // avx2 = AVX2+FMA+F16C; avx512 = F/BW/VL/DQ + VNNI
Isa best_isa();
Isa active_isa();             // best_isa() unless HELIX_ISA names a supported one

}  // namespace helix
