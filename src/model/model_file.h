// Any model file (GGUF, llama2.c v0 / v1) as one view: its shape and its tensors under GGUF names and
// dims, pointing into the file's mapping. The forward pass binds weights from this without caring about
// the format; dtype and shape checks per tensor belong to that binding, not here.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/dtype.h"
#include "common/mapped_file.h"
#include "common/result.h"
#include "model/gguf_reader.h"
#include "model/model_shape.h"

namespace helix {

struct TensorView {
  std::string name;            // GGUF name: "token_embd.weight", "blk.0.attn_q.weight", ...
  DType dtype = DType::F32;
  std::vector<int64_t> dims;   // GGUF order: dims[0] is contiguous
  const uint8_t* data = nullptr;
  int64_t n_bytes = 0;

  int64_t n_elements() const;
};

struct UnsupportedTensor {
  std::string name;
  uint32_t ggml_type = 0;
};

struct ModelFile {
  enum class Format { Gguf, Llama2cV0, Llama2cV1 };

  Format format = Format::Gguf;
  std::string path;
  int64_t file_bytes = 0;
  ModelShape shape;
  // Tensors in file order. GGUF tensors of a ggml type Helix cannot compute with (iq2_xs, ...) are not
  // here but in `unsupported`, so a lookup of one fails and can name its type from there.
  std::vector<TensorView> tensors;
  std::vector<UnsupportedTensor> unsupported;
  std::shared_ptr<MappedFile> keepalive;  // the mapping every TensorView::data points into (null if parsed)
  std::optional<GgufFile> gguf;          // metadata and raw tensor table, for GGUF files

  const TensorView* find(std::string_view name) const;
  uint32_t version() const;          // GGUF version, or 0 / 1 for llama2.c
};

std::string_view format_name(ModelFile::Format format);  // "gguf", "llama2c-v0", "llama2c-v1"

// Detects the format by magic ("GGUF"; llama2.c v1 "ak42"); anything else must be a plausible llama2.c v0
// header whose implied size is exactly the file's size, so other files (a tokenizer .bin, JSON) are refused
// as "not a model file" instead of being misread.
Result<ModelFile> open_model_file(const std::string& path);
// The same over bytes in memory (fuzzers, tests); `name` stands for the path in errors. The bytes must
// outlive the result.
Result<ModelFile> parse_model_file(const std::string& name, const uint8_t* data, size_t size);

}  // namespace helix
