// Constants of the f32 exp used by softmax and swiglu on every ISA (Cephes' expf: x = n ln2 + r with
// |r| <= ln2 / 2, ln2 split in two so n * ln2_hi is exact, then a degree-7 polynomial in r; about
// 1 ulp). Inputs above kExpMax give +inf, below kExpMin give 0 (no subnormals), NaN stays NaN.
// Every ISA evaluates the same operations in the same order, so results are bit-identical.
#pragma once

namespace helix::cpu {

constexpr float kExpMax = 88.3762626647949f;    // n stays <= 127
constexpr float kExpMin = -87.3365447504f;      // exp(kExpMin) ~ FLT_MIN
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693359375f;
constexpr float kLn2Lo = -2.12194440e-4f;
constexpr float kExpP0 = 1.9875691500e-4f;
constexpr float kExpP1 = 1.3981999507e-3f;
constexpr float kExpP2 = 8.3334519073e-3f;
constexpr float kExpP3 = 4.1665795894e-2f;
constexpr float kExpP4 = 1.6666665459e-1f;
constexpr float kExpP5 = 5.0000001201e-1f;

}  // namespace helix::cpu
