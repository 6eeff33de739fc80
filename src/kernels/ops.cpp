#include "kernels/ops.h"

#include <cmath>
#include <vector>

#include "kernels/cpu/kernel_table.h"

namespace helix {

void rmsnorm(float* out, const float* x, const float* weight, int64_t n, float eps) {
  cpu::active_kernels().rmsnorm(out, x, weight, n, eps);
}

void rope_angles(int64_t head_dim, int64_t pos, float freq_base, float* cos_out, float* sin_out) {
  // Written as llama2.c's run.c computes it, in float, so its reference outputs are reproduced.
  for (int64_t i = 0; i < head_dim; i += 2) {
    const float freq = 1.0f / std::pow(freq_base, static_cast<float>(i) / static_cast<float>(head_dim));
    const float angle = static_cast<float>(pos) * freq;
    cos_out[i / 2] = std::cos(angle);
    sin_out[i / 2] = std::sin(angle);
  }
}

void rope_apply(float* vec, int64_t n_heads, int64_t head_dim, const float* cos_in, const float* sin_in) {
  for (int64_t h = 0; h < n_heads; ++h) {
    float* head = vec + h * head_dim;
    for (int64_t i = 0; i < head_dim / 2; ++i) {
      const float v0 = head[2 * i];
      const float v1 = head[2 * i + 1];
      head[2 * i] = v0 * cos_in[i] - v1 * sin_in[i];
      head[2 * i + 1] = v0 * sin_in[i] + v1 * cos_in[i];
    }
  }
}

void rope_adjacent_pairs(float* vec, int64_t n_heads, int64_t head_dim, int64_t pos, float freq_base) {
  std::vector<float> c(static_cast<size_t>(head_dim / 2)), s(static_cast<size_t>(head_dim / 2));
  rope_angles(head_dim, pos, freq_base, c.data(), s.data());
  rope_apply(vec, n_heads, head_dim, c.data(), s.data());
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
