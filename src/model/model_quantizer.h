// Rewrites a model file as a GGUF with its matrices stored in another type: the same weights at another
// precision (stories260K at q8_0 or q4_0, to draft for its f32 self), optionally perturbed by seeded noise (a
// deliberately worse draft, for tests of speculative decoding's rejections). The tokenizer is carried over: a
// GGUF source's tokenizer.* keys are copied as they are; a llama2.c checkpoint's SentencePiece tokenizer is
// written out as GGUF keys.
#pragma once

#include <cstdint>
#include <string>

#include "common/dtype.h"
#include "common/result.h"
#include "model/model_file.h"
#include "model/tokenizer.h"

namespace helix {

struct QuantizeOptions {
  DType weight_type = DType::Q8_0;  // matrices; a matrix whose rows are not whole blocks of it is stored f16
  // Adds uniform noise of standard deviation `noise` * (the matrix's RMS) to every matrix before storing it.
  float noise = 0.0f;
  uint64_t seed = 0;  // of the noise
  Status validate() const;  // errors name the flag ("--type: ...", "--noise: ...")
};

// `tokenizer` is used only when `source` is not a GGUF file (a llama2.c checkpoint has none inside).
Status write_quantized_model(const ModelFile& source, const Tokenizer* tokenizer, const QuantizeOptions& options,
                             const std::string& path);

}  // namespace helix
