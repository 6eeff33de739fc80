#include "kernels/cpu/kernel_table.h"

#include "common/result.h"

namespace helix::cpu {
namespace {

#define HELIX_KERNEL_TABLE(ns, isa_value)                                                         \
  Kernels{isa_value,           ns::kQ8_0CodeOffset,  ns::kQuantRowAlign, ns::kQuantPieceRows, ns::kFloatRowAlign,    \
          ns::quant_scratch_bytes, ns::act_image_bytes, ns::build_act_image,                       \
          ns::quantize_activation_row, ns::quant_matmul, ns::prepacked_bytes, ns::prepack, ns::float_matmul,                         \
          ns::rmsnorm,         ns::softmax,          ns::swiglu,           ns::argmax,            \
          ns::stream_read}

}  // namespace

// Built on first use (not at static initialization) so callers from other static initializers are safe.
const Kernels& kernels_for(Isa isa) {
  HELIX_CHECK(isa_supported(isa), "kernels_for({}): this CPU cannot run it", isa_name(isa));
  static const Kernels scalar_table = HELIX_KERNEL_TABLE(scalar, Isa::Scalar);
  static const Kernels avx2_table = HELIX_KERNEL_TABLE(avx2, Isa::Avx2);
  static const Kernels avx512_table = HELIX_KERNEL_TABLE(avx512, Isa::Avx512);
  switch (isa) {
    case Isa::Scalar: return scalar_table;
    case Isa::Avx2: return avx2_table;
    case Isa::Avx512: return avx512_table;
  }
  return scalar_table;
}
#undef HELIX_KERNEL_TABLE

const Kernels& active_kernels() {
  static const Kernels& active = kernels_for(active_isa());
  return active;
}

}  // namespace helix::cpu
