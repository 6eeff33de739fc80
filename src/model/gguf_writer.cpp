#include "model/gguf_writer.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

namespace helix {
namespace {

constexpr uint32_t kGgufVersion = 3;

template <typename T>
void append(std::vector<uint8_t>& out, T value) {
  const size_t at = out.size();
  out.resize(at + sizeof(T));
  std::memcpy(out.data() + at, &value, sizeof(T));
}

uint64_t align_up(uint64_t n, uint64_t alignment) { return (n + alignment - 1) / alignment * alignment; }

}  // namespace

void GgufWriter::append_string(std::vector<uint8_t>& out, std::string_view s) {
  append<uint64_t>(out, s.size());
  out.insert(out.end(), s.begin(), s.end());
}

std::vector<uint8_t> GgufWriter::encode_array(GgufType element_type, uint64_t count,
                                              const std::vector<uint8_t>& encoded_elements) {
  std::vector<uint8_t> out(4 + 8 + encoded_elements.size());
  const uint32_t type = static_cast<uint32_t>(element_type);
  std::memcpy(out.data(), &type, 4);
  std::memcpy(out.data() + 4, &count, 8);
  std::copy(encoded_elements.begin(), encoded_elements.end(), out.begin() + 12);
  return out;
}

void GgufWriter::add(std::string key, GgufType type, std::vector<uint8_t> value) {
  if (key == "general.alignment") {
    // The spec stores it as uint32; other types are written as given but leave the default alignment.
    uint32_t a = 0;
    if (type == GgufType::UINT32) std::memcpy(&a, value.data(), sizeof(a));
    alignment_ = type == GgufType::UINT32 ? a : kGgufDefaultAlignment;
  }
  for (Entry& e : metadata_) {
    if (e.key == key) {
      e.type = type;
      e.value = std::move(value);
      return;
    }
  }
  metadata_.push_back(Entry{std::move(key), type, std::move(value)});
}

template <typename T>
void GgufWriter::add_scalar(std::string key, GgufType type, T value) {
  std::vector<uint8_t> bytes;
  append<T>(bytes, value);
  add(std::move(key), type, std::move(bytes));
}

void GgufWriter::add_uint8(std::string key, uint8_t v) { add_scalar(std::move(key), GgufType::UINT8, v); }
void GgufWriter::add_int8(std::string key, int8_t v) { add_scalar(std::move(key), GgufType::INT8, v); }
void GgufWriter::add_uint16(std::string key, uint16_t v) { add_scalar(std::move(key), GgufType::UINT16, v); }
void GgufWriter::add_int16(std::string key, int16_t v) { add_scalar(std::move(key), GgufType::INT16, v); }
void GgufWriter::add_uint32(std::string key, uint32_t v) { add_scalar(std::move(key), GgufType::UINT32, v); }
void GgufWriter::add_int32(std::string key, int32_t v) { add_scalar(std::move(key), GgufType::INT32, v); }
void GgufWriter::add_uint64(std::string key, uint64_t v) { add_scalar(std::move(key), GgufType::UINT64, v); }
void GgufWriter::add_int64(std::string key, int64_t v) { add_scalar(std::move(key), GgufType::INT64, v); }
void GgufWriter::add_float32(std::string key, float v) { add_scalar(std::move(key), GgufType::FLOAT32, v); }
void GgufWriter::add_float64(std::string key, double v) { add_scalar(std::move(key), GgufType::FLOAT64, v); }
void GgufWriter::add_bool(std::string key, bool v) {
  add_scalar(std::move(key), GgufType::BOOL, static_cast<uint8_t>(v ? 1 : 0));
}

void GgufWriter::add_string(std::string key, std::string_view value) {
  std::vector<uint8_t> bytes;
  append_string(bytes, value);
  add(std::move(key), GgufType::STRING, std::move(bytes));
}

void GgufWriter::add_array(std::string key, GgufType element_type, uint64_t count,
                           std::vector<uint8_t> encoded_elements) {
  add(std::move(key), GgufType::ARRAY, encode_array(element_type, count, encoded_elements));
}

void GgufWriter::add_string_array(std::string key, const std::vector<std::string>& values) {
  std::vector<uint8_t> elements;
  for (const auto& v : values) append_string(elements, v);
  add_array(std::move(key), GgufType::STRING, values.size(), std::move(elements));
}

void GgufWriter::add_float_array(std::string key, const std::vector<float>& values) {
  std::vector<uint8_t> elements;
  for (float v : values) append<float>(elements, v);
  add_array(std::move(key), GgufType::FLOAT32, values.size(), std::move(elements));
}

void GgufWriter::add_int32_array(std::string key, const std::vector<int32_t>& values) {
  std::vector<uint8_t> elements;
  for (int32_t v : values) append<int32_t>(elements, v);
  add_array(std::move(key), GgufType::INT32, values.size(), std::move(elements));
}

Status GgufWriter::add_tensor(std::string name, DType dtype, std::vector<int64_t> dims, std::vector<uint8_t> data) {
  return add_tensor_ggml(std::move(name), dtype_info(dtype).ggml_type, std::move(dims), std::move(data));
}

Status GgufWriter::add_tensor_ggml(std::string name, uint32_t ggml_type, std::vector<int64_t> dims,
                                   std::vector<uint8_t> data) {
  auto n_bytes = check_tensor(name, ggml_type, dims);
  HELIX_TRY(n_bytes);
  if (static_cast<int64_t>(data.size()) != *n_bytes)
    return errorf("{}: [{}] {} needs {} bytes, got {}", name, fmt::join(dims, ", "), ggml_type_name(ggml_type),
                  *n_bytes, data.size());
  tensors_.push_back(Tensor{std::move(name), ggml_type, std::move(dims), std::move(data), *n_bytes, {}});
  return {};
}

Status GgufWriter::add_tensor_deferred(std::string name, DType dtype, std::vector<int64_t> dims,
                                       TensorProducer produce) {
  const uint32_t ggml_type = dtype_info(dtype).ggml_type;
  auto n_bytes = check_tensor(name, ggml_type, dims);
  HELIX_TRY(n_bytes);
  tensors_.push_back(Tensor{std::move(name), ggml_type, std::move(dims), {}, *n_bytes, std::move(produce)});
  return {};
}

Result<int64_t> GgufWriter::check_tensor(const std::string& name, uint32_t ggml_type,
                                         const std::vector<int64_t>& dims) const {
  const GgmlTypeInfo* info = ggml_type_info(ggml_type);
  if (info == nullptr) return errorf("{}: unknown ggml tensor type {}", name, ggml_type);
  if (name.empty()) return make_error("tensor name: must not be empty");
  if (dims.size() > 4) return errorf("{}: {} dims, at most 4", name, dims.size());
  for (const Tensor& t : tensors_)
    if (t.name == name) return errorf("{}: duplicate tensor name", name);
  int64_t n = 1;
  for (int64_t d : dims)
    if (d <= 0 || __builtin_mul_overflow(n, d, &n)) return errorf("{}: bad dims [{}]", name, fmt::join(dims, ", "));
  const int64_t row = dims.empty() ? 1 : dims[0];
  if (row % info->block_values != 0)
    return errorf("{}: rows of {} values are not whole {} blocks of {}", name, row, info->name, info->block_values);
  return n / info->block_values * info->block_bytes;
}

Result<std::vector<uint8_t>> GgufWriter::tensor_bytes(const Tensor& t) const {
  if (!t.produce) return t.data;
  auto data = t.produce();
  HELIX_TRY(data);
  if (static_cast<int64_t>(data->size()) != t.n_bytes)
    return errorf("{}: produced {} bytes, expected {}", t.name, data->size(), t.n_bytes);
  return data;
}

Result<std::vector<uint8_t>> GgufWriter::header_bytes(std::vector<uint64_t>& offsets) const {
  if (alignment_ == 0 || (alignment_ & (alignment_ - 1)) != 0)
    return errorf("general.alignment: {} is not a power of two", alignment_);
  std::vector<uint8_t> out;
  out.insert(out.end(), {'G', 'G', 'U', 'F'});
  append<uint32_t>(out, kGgufVersion);
  append<uint64_t>(out, tensors_.size());
  append<uint64_t>(out, metadata_.size());
  for (const Entry& e : metadata_) {
    append_string(out, e.key);
    append<uint32_t>(out, static_cast<uint32_t>(e.type));
    out.insert(out.end(), e.value.begin(), e.value.end());
  }
  offsets.clear();
  uint64_t data_bytes = 0;
  for (const Tensor& t : tensors_) {
    append_string(out, t.name);
    append<uint32_t>(out, static_cast<uint32_t>(t.dims.size()));
    for (int64_t d : t.dims) append<uint64_t>(out, static_cast<uint64_t>(d));
    append<uint32_t>(out, t.ggml_type);
    const uint64_t offset = align_up(data_bytes, alignment_);
    append<uint64_t>(out, offset);
    offsets.push_back(offset);
    data_bytes = offset + static_cast<uint64_t>(t.n_bytes);
  }
  return out;
}

Result<std::vector<uint8_t>> GgufWriter::to_bytes() const {
  std::vector<uint64_t> offsets;
  auto out = header_bytes(offsets);
  if (!out) return out;
  const uint64_t data_start = align_up(out->size(), alignment_);
  for (size_t i = 0; i < tensors_.size(); ++i) {
    out->resize(data_start + offsets[i], 0);
    auto data = tensor_bytes(tensors_[i]);
    if (!data) return Unexpected{data.error()};
    out->insert(out->end(), data->begin(), data->end());
  }
  // Like ggml's writer, pad the last tensor too (a file with no tensors ends after its header).
  if (!tensors_.empty()) out->resize(align_up(out->size(), alignment_), 0);
  return out;
}

Status GgufWriter::write(const std::string& path) const {
  std::vector<uint64_t> offsets;
  auto header = header_bytes(offsets);
  if (!header) return Unexpected{header.error()};
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return errorf("{}: cannot create", tmp);
    auto put = [&f](const void* p, uint64_t n) {
      f.write(static_cast<const char*>(p), static_cast<std::streamsize>(n));
    };
    const std::vector<uint8_t> zeros(alignment_, 0);
    uint64_t pos = header->size();
    put(header->data(), pos);
    const uint64_t data_start = align_up(pos, alignment_);
    for (size_t i = 0; i < tensors_.size(); ++i) {
      const uint64_t at = data_start + offsets[i];
      put(zeros.data(), at - pos);
      auto data = tensor_bytes(tensors_[i]);  // deferred tensors are made one at a time, then dropped
      if (!data) return Unexpected{data.error()};
      put(data->data(), data->size());
      pos = at + data->size();
    }
    if (!tensors_.empty()) put(zeros.data(), align_up(pos, alignment_) - pos);
    f.flush();
    if (!f) return errorf("{}: write failed", tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return errorf("{}: cannot rename to {}: {}", tmp, path, ec.message());
  return {};
}

}  // namespace helix
