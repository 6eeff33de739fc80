#include "model/model_file.h"

#include <cstring>

#include "model/llama2c_reader.h"

namespace helix {

int64_t TensorView::n_elements() const {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

const TensorView* ModelFile::find(std::string_view name) const {
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

uint32_t ModelFile::version() const {
  switch (format) {
    case Format::Gguf: return gguf ? gguf->version() : 0;
    case Format::Llama2cV0: return 0;
    case Format::Llama2cV1: return 1;
  }
  return 0;
}

std::string_view format_name(ModelFile::Format format) {
  switch (format) {
    case ModelFile::Format::Gguf: return "gguf";
    case ModelFile::Format::Llama2cV0: return "llama2c-v0";
    case ModelFile::Format::Llama2cV1: return "llama2c-v1";
  }
  return "unknown";
}

namespace {

// `mapping` is the file holding `data`, or null for bytes in memory.
Result<ModelFile> from_gguf(const std::string& name, const uint8_t* data, size_t size,
                            std::shared_ptr<MappedFile> mapping) {
  auto gguf = mapping ? GgufFile::from_mapping(mapping) : GgufFile::parse(name, data, size);
  if (!gguf) return Unexpected{gguf.error()};
  auto shape = shape_from_gguf(*gguf);
  if (!shape) return Unexpected{shape.error()};
  ModelFile m;
  m.format = ModelFile::Format::Gguf;
  m.path = name;
  m.file_bytes = static_cast<int64_t>(size);
  m.shape = std::move(*shape);
  // The reader checked every tensor's data range against the file.
  for (const GgufTensorInfo& t : gguf->tensors()) {
    if (t.dtype)
      m.tensors.push_back(TensorView{t.name, *t.dtype, t.dims, gguf->tensor_data(t), t.n_bytes});
    else
      m.unsupported.push_back(UnsupportedTensor{t.name, t.ggml_type});
  }
  m.keepalive = std::move(mapping);
  m.gguf = std::move(*gguf);
  return m;
}

Result<ModelFile> from_llama2c(const std::string& name, const uint8_t* data, size_t size,
                               std::shared_ptr<MappedFile> mapping) {
  auto l2c = mapping ? Llama2cFile::from_mapping(mapping) : Llama2cFile::parse(name, data, size);
  if (!l2c) return Unexpected{l2c.error()};
  ModelFile m;
  m.format = l2c->header().version == 0 ? ModelFile::Format::Llama2cV0 : ModelFile::Format::Llama2cV1;
  m.path = name;
  m.file_bytes = static_cast<int64_t>(size);
  m.shape = l2c->shape();
  for (const Llama2cTensor& t : l2c->tensors()) {
    if (t.offset < 0 || t.n_bytes < 0 || t.offset > m.file_bytes || t.n_bytes > m.file_bytes - t.offset)
      return errorf("{}: {}: {} bytes at offset {} lie past the end of the file ({} bytes)", m.path, t.name,
                    t.n_bytes, t.offset, m.file_bytes);
    m.tensors.push_back(TensorView{t.name, DType::F32, t.dims, l2c->tensor_data(t), t.n_bytes});
  }
  m.keepalive = std::move(mapping);
  return m;
}

Result<ModelFile> detect(const std::string& name, const uint8_t* data, size_t size,
                         std::shared_ptr<MappedFile> mapping) {
  if (size >= 4 && std::memcmp(data, "GGUF", 4) == 0) return from_gguf(name, data, size, std::move(mapping));
  // llama2.c: the v1 magic, or else a headerless v0 file whose header must prove itself.
  return from_llama2c(name, data, size, std::move(mapping));
}

}  // namespace

Result<ModelFile> open_model_file(const std::string& path) {
  auto mapping = MappedFile::open(path);
  if (!mapping) return Unexpected{mapping.error()};
  const uint8_t* data = (*mapping)->data();
  const size_t size = (*mapping)->size();
  return detect(path, data, size, std::move(*mapping));
}

Result<ModelFile> parse_model_file(const std::string& name, const uint8_t* data, size_t size) {
  return detect(name, data, size, nullptr);
}

}  // namespace helix
