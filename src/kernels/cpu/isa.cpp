#include "kernels/cpu/isa.h"

#include <cstdio>
#include <cstdlib>

namespace helix {

std::string_view isa_name(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return "scalar";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
  }
  return "?";
}

std::optional<Isa> parse_isa(std::string_view name) {
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512})
    if (isa_name(isa) == name) return isa;
  return std::nullopt;
}

bool isa_supported(Isa isa) {
  __builtin_cpu_init();
  switch (isa) {
    case Isa::Scalar: return true;
    case Isa::Avx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
             __builtin_cpu_supports("f16c");
    case Isa::Avx512:
      return isa_supported(Isa::Avx2) && __builtin_cpu_supports("avx512f") &&
             __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vnni");
  }
  return false;
}

Isa best_isa() {
  static const Isa best = isa_supported(Isa::Avx512) ? Isa::Avx512
                          : isa_supported(Isa::Avx2) ? Isa::Avx2
                                                     : Isa::Scalar;
  return best;
}

Isa active_isa() {
  static const Isa active = [] {
    const char* env = std::getenv("HELIX_ISA");
    if (env == nullptr || *env == '\0') return best_isa();
    const std::optional<Isa> wanted = parse_isa(env);
    if (!wanted) {
      std::fprintf(stderr, "helix: HELIX_ISA=%s: expected scalar, avx2 or avx512; using %s\n", env,
                   isa_name(best_isa()).data());
      return best_isa();
    }
    if (!isa_supported(*wanted)) {
      std::fprintf(stderr, "helix: HELIX_ISA=%s: not supported by this CPU; using %s\n", env,
                   isa_name(best_isa()).data());
      return best_isa();
    }
    return *wanted;
  }();
  return active;
}

}  // namespace helix
