// GGUF reader: memory-maps a GGUF file (v2 or v3) and parses its header, metadata and tensor table.
// Hardened: every count, length and offset is checked against the file before use, so a truncated or
// corrupt file gives an error naming the file and the problem, never a crash or a huge allocation.
// Tensor data stays in the mapping (no copy); a vocab-only file (0 tensors, data offset past EOF) loads.
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
#include "model/model_shape.h"

namespace helix {

// Value types of GGUF metadata (ids from the GGUF specification).
enum class GgufType : uint32_t {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
};
std::string_view gguf_type_name(GgufType type);

// One metadata key/value. Scalars are widened; strings and arrays are views into the mapping.
struct GgufValue {
  GgufType type = GgufType::UINT8;
  GgufType array_type = GgufType::UINT8;  // element type when type == ARRAY
  uint64_t array_size = 0;                // element count when type == ARRAY
  int64_t int_value = 0;                  // any integer type (get_int refuses a uint64 above INT64_MAX)
  uint64_t uint_value = 0;                // UINT64 as stored (int_value is 0 when above INT64_MAX)
  double float_value = 0.0;               // FLOAT32 / FLOAT64
  bool bool_value = false;
  std::string_view string_value;          // STRING
  const uint8_t* array_data = nullptr;    // ARRAY: first element in the mapping
};

struct GgufMetadataEntry {
  std::string key;
  GgufValue value;
};

struct GgufTensorInfo {
  std::string name;
  std::vector<int64_t> dims;      // GGUF order: dims[0] is the contiguous (row) length
  uint32_t ggml_type = 0;
  std::optional<DType> dtype;     // empty for ggml types Helix cannot compute with
  uint64_t offset = 0;            // from the start of the data section
  int64_t n_elements = 0;
  int64_t n_bytes = 0;
};

// Sizes of every ggml tensor type a GGUF file may hold, including those Helix cannot compute with,
// so such files still parse (their tensors get an empty dtype).
struct GgmlTypeInfo {
  uint32_t id;
  std::string_view name;   // "q4_k", "iq2_xs", ...
  int64_t block_values;    // values per block (1 for plain types)
  int64_t block_bytes;     // bytes per block
};
const GgmlTypeInfo* ggml_type_info(uint32_t ggml_type);  // nullptr for an unknown id
std::string ggml_type_name(uint32_t ggml_type);           // "q4_k", or "type 99" for an unknown id

inline constexpr uint64_t kGgufDefaultAlignment = 32;

class GgufFile {
 public:
  static Result<GgufFile> open(const std::string& path);
  // Parses a file already mapped (the mapping's path names the file in errors).
  static Result<GgufFile> from_mapping(std::shared_ptr<MappedFile> file);
  // Parses bytes in memory (fuzzers, tests); `name` stands for the path in errors. The bytes must outlive
  // the result, which holds no mapping.
  static Result<GgufFile> parse(std::string name, const uint8_t* data, size_t size);

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }
  uint64_t file_size() const { return size_; }

  const std::vector<GgufMetadataEntry>& metadata() const { return metadata_; }
  const GgufValue* find(std::string_view key) const;
  bool has(std::string_view key) const { return find(key) != nullptr; }

  // Typed lookups; a missing key or a wrong type is an error naming the file and the key.
  Result<int64_t> get_int(std::string_view key) const;      // any integer type
  Result<double> get_float(std::string_view key) const;     // FLOAT32/FLOAT64 (integers accepted)
  Result<bool> get_bool(std::string_view key) const;
  Result<std::string_view> get_string(std::string_view key) const;
  Result<std::vector<std::string_view>> get_string_array(std::string_view key) const;
  Result<std::vector<float>> get_float_array(std::string_view key) const;
  Result<std::vector<int64_t>> get_int_array(std::string_view key) const;

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find_tensor(std::string_view name) const;
  // Bytes of a tensor inside the mapping (valid while this GgufFile lives).
  const uint8_t* tensor_data(const GgufTensorInfo& tensor) const;
  // The mapping every view above points into; holding it keeps them valid (null after parse()).
  const std::shared_ptr<MappedFile>& mapping() const { return file_; }

 private:
  std::string path_;
  std::shared_ptr<MappedFile> file_;
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<GgufMetadataEntry> metadata_;
  std::vector<GgufTensorInfo> tensors_;
};

// The model shape from `general.architecture` == "llama" metadata (llama.block_count, ...).
// kv_dtype is left at f16; vocab size from the token list (or llama.vocab_size).
Result<ModelShape> shape_from_gguf(const GgufFile& file);

}  // namespace helix
