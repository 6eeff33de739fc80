// GGUF v3 writer: metadata of every value type (arrays included, arrays of arrays too) and tensors, each
// tensor's data at a multiple of the alignment (32, or `general.alignment` when that key is set as uint32).
// Used to generate models and, in tests, to make valid files to corrupt.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/dtype.h"
#include "common/result.h"
#include "model/gguf_reader.h"

namespace helix {

class GgufWriter {
 public:
  // Scalars and strings. Adding a key again replaces its value (in its first position).
  void add_uint8(std::string key, uint8_t value);
  void add_int8(std::string key, int8_t value);
  void add_uint16(std::string key, uint16_t value);
  void add_int16(std::string key, int16_t value);
  void add_uint32(std::string key, uint32_t value);
  void add_int32(std::string key, int32_t value);
  void add_uint64(std::string key, uint64_t value);
  void add_int64(std::string key, int64_t value);
  void add_float32(std::string key, float value);
  void add_float64(std::string key, double value);
  void add_bool(std::string key, bool value);
  void add_string(std::string key, std::string_view value);

  void add_string_array(std::string key, const std::vector<std::string>& values);
  void add_float_array(std::string key, const std::vector<float>& values);
  void add_int32_array(std::string key, const std::vector<int32_t>& values);
  // Any array: `count` elements of `element_type` already encoded back to back (see encode_array for
  // the elements of an array of arrays).
  void add_array(std::string key, GgufType element_type, uint64_t count, std::vector<uint8_t> encoded_elements);

  // One encoded array value (element type, count, elements): an element of an array of arrays.
  static std::vector<uint8_t> encode_array(GgufType element_type, uint64_t count,
                                           const std::vector<uint8_t>& encoded_elements);
  static void append_string(std::vector<uint8_t>& out, std::string_view s);

  // A tensor of `dims` (GGUF order, dims[0] contiguous); `data` must hold exactly its bytes.
  Status add_tensor(std::string name, DType dtype, std::vector<int64_t> dims, std::vector<uint8_t> data);
  // The same for any ggml type id whose block size Helix knows (ggml_type_info), e.g. q5_k.
  Status add_tensor_ggml(std::string name, uint32_t ggml_type, std::vector<int64_t> dims, std::vector<uint8_t> data);

  // A tensor whose bytes are made only when the file is written (one tensor in memory at a time), so that
  // multi-GiB models can be generated. The producer must return exactly the tensor's byte size.
  using TensorProducer = std::function<Result<std::vector<uint8_t>>()>;
  Status add_tensor_deferred(std::string name, DType dtype, std::vector<int64_t> dims, TensorProducer produce);

  uint64_t alignment() const { return alignment_; }
  size_t tensor_count() const { return tensors_.size(); }

  // The whole file; write() streams the same bytes to `path` (through `path`.tmp, then renamed).
  Result<std::vector<uint8_t>> to_bytes() const;
  Status write(const std::string& path) const;

 private:
  struct Entry {
    std::string key;
    GgufType type;
    std::vector<uint8_t> value;  // encoded value, without key and type
  };
  struct Tensor {
    std::string name;
    uint32_t ggml_type;
    std::vector<int64_t> dims;
    std::vector<uint8_t> data;
    int64_t n_bytes = 0;
    TensorProducer produce;  // set for deferred tensors (data stays empty)
  };
  Result<int64_t> check_tensor(const std::string& name, uint32_t ggml_type, const std::vector<int64_t>& dims) const;
  Result<std::vector<uint8_t>> tensor_bytes(const Tensor& t) const;
  void add(std::string key, GgufType type, std::vector<uint8_t> value);
  template <typename T>
  void add_scalar(std::string key, GgufType type, T value);
  Result<std::vector<uint8_t>> header_bytes(std::vector<uint64_t>& offsets) const;

  std::vector<Entry> metadata_;
  std::vector<Tensor> tensors_;
  uint64_t alignment_ = kGgufDefaultAlignment;
};

}  // namespace helix
