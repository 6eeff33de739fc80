// llama2.c checkpoints (fp32): the legacy v0 layout (7 int32 then weights) and the v1 layout (256-byte
// header with magic "ak42"). The weights stay in the mapping; each is described under its GGUF name with
// GGUF dims (dims[0] contiguous), so the rest of Helix treats both formats alike.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/mapped_file.h"
#include "common/result.h"
#include "model/model_shape.h"

namespace helix {

inline constexpr uint32_t kLlama2cMagic = 0x616b3432;  // "ak42" read as a little-endian uint32
inline constexpr int64_t kLlama2cV0HeaderBytes = 7 * 4;
inline constexpr int64_t kLlama2cV1HeaderBytes = 256;

struct Llama2cHeader {
  int version = 0;               // 0 (legacy) or 1
  int64_t header_bytes = 0;      // 28 or 256
  int64_t dim = 0;
  int64_t hidden_dim = 0;        // FFN width
  int64_t n_layers = 0;
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;
  int64_t vocab_size = 0;        // always positive here (v0 stores it negated when the classifier is untied)
  int64_t seq_len = 0;
  bool shared_classifier = true;  // classifier = token embedding
};

struct Llama2cTensor {
  std::string name;            // GGUF name ("blk.3.attn_q.weight")
  std::vector<int64_t> dims;   // GGUF order
  int64_t offset = 0;          // byte offset in the file
  int64_t n_bytes = 0;
};

class Llama2cFile {
 public:
  static Result<Llama2cFile> open(const std::string& path);
  // Parses a file already mapped. A file that matches neither layout exactly (header plausible and size
  // exactly as the header implies) is refused as "not a model file".
  static Result<Llama2cFile> from_mapping(std::shared_ptr<MappedFile> file);
  // Parses bytes in memory; `name` stands for the path in errors. The bytes must outlive the result.
  static Result<Llama2cFile> parse(std::string name, const uint8_t* data, size_t size);

  const std::string& path() const { return path_; }
  const Llama2cHeader& header() const { return header_; }
  const ModelShape& shape() const { return shape_; }
  const std::vector<Llama2cTensor>& tensors() const { return tensors_; }  // all F32
  const uint8_t* tensor_data(const Llama2cTensor& tensor) const { return data_ + tensor.offset; }
  const std::shared_ptr<MappedFile>& mapping() const { return file_; }  // null after parse()

 private:
  std::string path_;
  std::shared_ptr<MappedFile> file_;
  const uint8_t* data_ = nullptr;
  Llama2cHeader header_;
  ModelShape shape_;
  std::vector<Llama2cTensor> tensors_;
};

// Whether the bytes start with the v1/v2 magic.
bool has_llama2c_magic(const uint8_t* data, size_t size);

}  // namespace helix
