// PrepackedWeights: one buffer holding a model's q8_0 / q4_0 matrices re-laid out for the kernels of one ISA
// (kernels/matmul.h, prepack). The copies take the same bytes as the file's; the file's pages of those
// matrices are then dropped from memory, so a model still costs its file size once.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>

#include "common/mapped_file.h"
#include "common/result.h"
#include "kernels/cpu/isa.h"
#include "model/weights.h"

namespace helix {

class ThreadPool;

class PrepackedWeights {
 public:
  PrepackedWeights() = default;
  // Prepacks every matrix of `weights` that `isa` has a layout for and points it at its copy. `file`, when
  // given, is the mapping the matrices come from: their pages are dropped afterwards.
  static Result<PrepackedWeights> build(Weights& weights, Isa isa, ThreadPool& pool, const MappedFile* file);

  int64_t bytes() const { return bytes_; }
  int64_t matrices() const { return matrices_; }

 private:
  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t, Free> buffer_;
  int64_t bytes_ = 0;
  int64_t matrices_ = 0;
};

}  // namespace helix
