#include "kernels/ops.h"

#include <cmath>

#include "kernels/cpu/kernel_table.h"

namespace helix {

void rmsnorm(float* out, const float* x, const float* weight, int64_t n, float eps) {
  cpu::active_kernels().rmsnorm(out, x, weight, n, eps);
}

void rope_adjacent_pairs(float* vec, int64_t n_heads, int64_t head_dim, int64_t pos, float freq_base) {
  // Written as llama2.c's run.c computes it, in float, so its reference outputs are reproduced.
  for (int64_t i = 0; i < head_dim; i += 2) {
    const float freq = 1.0f / std::pow(freq_base, static_cast<float>(i) / static_cast<float>(head_dim));
    const float angle = static_cast<float>(pos) * freq;
    const float c = std::cos(angle);
    const float s = std::sin(angle);
    for (int64_t h = 0; h < n_heads; ++h) {
      float* v = vec + h * head_dim + i;
      const float v0 = v[0];
      const float v1 = v[1];
      v[0] = v0 * c - v1 * s;
      v[1] = v0 * s + v1 * c;
    }
  }
}

void softmax(float* x, int64_t n) { cpu::active_kernels().softmax(x, n); }

void swiglu(float* out, const float* gate, const float* up, int64_t n) {
  cpu::active_kernels().swiglu(out, gate, up, n);
}

void add_inplace(float* out, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] += x[i];
}

int64_t argmax(const float* x, int64_t n) { return cpu::active_kernels().argmax(x, n); }

void rmsnorm(Isa isa, float* out, const float* x, const float* weight, int64_t n, float eps) {
  cpu::kernels_for(isa).rmsnorm(out, x, weight, n, eps);
}
void softmax(Isa isa, float* x, int64_t n) { cpu::kernels_for(isa).softmax(x, n); }
void swiglu(Isa isa, float* out, const float* gate, const float* up, int64_t n) {
  cpu::kernels_for(isa).swiglu(out, gate, up, n);
}
int64_t argmax(Isa isa, const float* x, int64_t n) { return cpu::kernels_for(isa).argmax(x, n); }

}  // namespace helix
