#include "model/prepacked_weights.h"

#include <vector>

#include <sys/mman.h>

#include "kernels/matmul.h"

namespace helix {
namespace {

constexpr int64_t kMatrixAlign = 64;
constexpr int64_t kHugePage = int64_t{2} << 20;  // the buffer is asked for in huge pages: one TLB entry per 2 MiB

std::vector<WeightMatrix*> matrices_of(Weights& w) {
  std::vector<WeightMatrix*> out;
  for (LayerWeights& l : w.layers)
    for (WeightMatrix* m : l.matrices()) out.push_back(m);
  out.push_back(&w.classifier);  // the embedding table is only looked up: it stays as stored
  return out;
}

}  // namespace

Result<PrepackedWeights> PrepackedWeights::build(Weights& weights, Isa isa, ThreadPool& pool,
                                                 const MappedFile* file) {
  const std::vector<WeightMatrix*> matrices = matrices_of(weights);
  std::vector<int64_t> offsets;
  int64_t total = 0;
  for (const WeightMatrix* m : matrices) {
    offsets.push_back(total);
    total += (prepacked_bytes(*m, isa) + kMatrixAlign - 1) / kMatrixAlign * kMatrixAlign;
  }
  PrepackedWeights out;
  if (total == 0) return out;
  const int64_t allocated = (total + kHugePage - 1) / kHugePage * kHugePage;
  auto* buffer = static_cast<uint8_t*>(std::aligned_alloc(kHugePage, static_cast<size_t>(allocated)));
  if (buffer == nullptr) return errorf("cannot allocate {} bytes for the prepacked weights", allocated);
  out.buffer_.reset(buffer);
  ::madvise(buffer, static_cast<size_t>(allocated), MADV_HUGEPAGE);  // advisory
  out.bytes_ = total;
  // Each matrix's file pages go as soon as its copy is made, so the peak is the model plus one matrix, not two
  // models (the buffer's pages are only taken as they are written).
  for (size_t i = 0; i < matrices.size(); ++i) {
    WeightMatrix& m = *matrices[i];
    if (prepacked_bytes(m, isa) == 0) continue;
    m = prepack(m, isa, buffer + offsets[i], pool);
    ++out.matrices_;
    if (file != nullptr) file->drop_pages(m.data, static_cast<size_t>(row_bytes(m) * m.rows));
  }
  return out;
}

}  // namespace helix
