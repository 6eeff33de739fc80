// Turns a logits vector into the next token: greedy, or temperature sampling with top-k, top-p, min-p and a
// repetition penalty. A seed makes runs reproducible on any platform (our own uniform draw, not
// std::uniform_real_distribution, whose output is implementation-defined).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/result.h"

namespace helix {

struct SamplingParams {
  float temperature = 0.0f;         // 0: greedy (argmax)
  int32_t top_k = 0;                // 0: off
  float top_p = 1.0f;               // 1: off
  float min_p = 0.0f;               // 0: off; keeps tokens with p >= min_p * p_max
  float repetition_penalty = 1.0f;  // 1: off; > 1 discourages tokens seen in the last `repetition_window`
  int32_t repetition_window = 64;
  uint64_t seed = 0;

  bool greedy() const { return temperature <= 0.0f; }
  // Every field in range; errors name the field as the API spells it ("top_p: must be in (0, 1]").
  Status validate() const;
};

struct TokenProb {
  int32_t id;
  float prob;
};

// SplitMix64-seeded xoshiro256**: small, fast, identical everywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed);
  uint64_t next();
  double uniform();  // [0, 1) with 53 random bits

 private:
  uint64_t s_[4];
};

class Sampler {
 public:
  explicit Sampler(SamplingParams params);

  // Picks the next token. `history` is the sequence so far (prompt + generated) for the repetition penalty.
  // `logits` is modified in place (penalty, temperature).
  int32_t sample(std::span<float> logits, std::span<const int32_t> history);

  // The distribution `sample` draws from after every filter, sorted by probability (descending), summing to 1.
  // Greedy gives the argmax with probability 1. Speculative decoding's rejection rule needs it.
  std::vector<TokenProb> distribution(std::span<float> logits, std::span<const int32_t> history) const;

  // Draws from a distribution with this sampler's generator.
  int32_t draw(const std::vector<TokenProb>& dist);
  Rng& rng() { return rng_; }
  const SamplingParams& params() const { return params_; }

 private:
  SamplingParams params_;
  Rng rng_;
};

// Index of the largest value; the lowest index wins ties (deterministic greedy); NaNs are skipped (all NaN: 0).
int32_t argmax(std::span<const float> values);

}  // namespace helix
