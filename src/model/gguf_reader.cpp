// GGUF parsing. The layout (little-endian): "GGUF", u32 version, u64 tensor count, u64 metadata count,
// metadata (string key, u32 type, value), tensor infos (string name, u32 n_dims, u64 dims[n_dims],
// u32 ggml type, u64 offset), then tensor data from the next multiple of general.alignment.
// Strings are u64 length + bytes; arrays are u32 element type + u64 count + elements.
//
// Every read checks the bytes left first and every count is compared with what the rest of the file could
// hold before anything is allocated for it, so no input can make the parser over-read or over-allocate.
#include "model/gguf_reader.h"

#include <algorithm>
#include <cstring>
#include <unordered_set>

#include <fmt/format.h>

namespace helix {
namespace {

constexpr uint32_t kMaxTensorDims = 4;
constexpr int kMaxArrayDepth = 8;  // arrays of arrays: real files use none; deeper nesting is refused
// Far above any real model (a few thousand tensors, a few hundred keys), so a corrupt count is caught
// before the tables grow with the file size.
constexpr uint64_t kMaxTensors = uint64_t{1} << 20;
constexpr uint64_t kMaxMetadata = uint64_t{1} << 20;
// Smallest encodings: key (u64 length) + type (u32) + a 1-byte value; name + n_dims + type + offset.
constexpr uint64_t kMinMetadataBytes = 8 + 4 + 1;
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 4 + 8;
constexpr uint64_t kMaxAlignment = uint64_t{1} << 30;

uint64_t scalar_size(GgufType type) {
  switch (type) {
    case GgufType::UINT8: case GgufType::INT8: case GgufType::BOOL: return 1;
    case GgufType::UINT16: case GgufType::INT16: return 2;
    case GgufType::UINT32: case GgufType::INT32: case GgufType::FLOAT32: return 4;
    case GgufType::UINT64: case GgufType::INT64: case GgufType::FLOAT64: return 8;
    case GgufType::STRING: case GgufType::ARRAY: return 0;
  }
  return 0;
}

bool is_integer(GgufType t) {
  return t == GgufType::UINT8 || t == GgufType::INT8 || t == GgufType::UINT16 || t == GgufType::INT16 ||
         t == GgufType::UINT32 || t == GgufType::INT32 || t == GgufType::UINT64 || t == GgufType::INT64;
}
bool is_float(GgufType t) { return t == GgufType::FLOAT32 || t == GgufType::FLOAT64; }

template <typename T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

// Reads one scalar element (validated earlier) as the widest type of its kind.
struct Scalar {
  int64_t i = 0;
  uint64_t u = 0;
  double f = 0.0;
  bool fits_int64 = true;
};

Scalar load_scalar(GgufType type, const uint8_t* p) {
  Scalar s;
  switch (type) {
    case GgufType::UINT8: s.i = load<uint8_t>(p); break;
    case GgufType::INT8: s.i = load<int8_t>(p); break;
    case GgufType::UINT16: s.i = load<uint16_t>(p); break;
    case GgufType::INT16: s.i = load<int16_t>(p); break;
    case GgufType::UINT32: s.i = load<uint32_t>(p); break;
    case GgufType::INT32: s.i = load<int32_t>(p); break;
    case GgufType::INT64: s.i = load<int64_t>(p); break;
    case GgufType::UINT64:
      s.u = load<uint64_t>(p);
      s.fits_int64 = s.u <= static_cast<uint64_t>(INT64_MAX);
      s.i = s.fits_int64 ? static_cast<int64_t>(s.u) : 0;
      return s;
    case GgufType::FLOAT32: s.f = load<float>(p); break;
    case GgufType::FLOAT64: s.f = load<double>(p); break;
    case GgufType::BOOL: s.i = load<uint8_t>(p); break;
    case GgufType::STRING: case GgufType::ARRAY: break;
  }
  s.u = static_cast<uint64_t>(s.i);
  return s;
}

// A cursor over the mapping that knows what it is reading, so every error names the file, the item
// ("metadata key 12 ('tokenizer.ggml.tokens') element 7") and the offset.
class Parser {
 public:
  Parser(const std::string& path, const uint8_t* data, uint64_t size) : path_(path), data_(data), size_(size) {}

  uint64_t pos() const { return pos_; }
  uint64_t left() const { return size_ - pos_; }
  const uint8_t* here() const { return data_ + pos_; }
  void skip(uint64_t n) { pos_ += n; }  // only after need(n)

  void set_item(std::string item) {
    item_ = std::move(item);
    elements_.clear();
  }

  std::string item() const {
    std::string s = item_;
    for (size_t i = 0; i < elements_.size(); ++i) s += fmt::format("{}{}", i == 0 ? " element " : ".", elements_[i]);
    return s;
  }

  Unexpected truncated(const std::string& what_bytes) const {
    return errorf("{}: truncated: {} needs {} bytes at offset {}, file has {}", path_, item(), what_bytes, pos_,
                  size_);
  }
  Unexpected fail(const std::string& message) const { return errorf("{}: {}: {}", path_, item(), message); }

  Status need(uint64_t n) const {
    if (n > left()) return truncated(fmt::format("{}", n));
    return {};
  }

  // Refuses `count` elements of at least `min_bytes` each when the rest of the file cannot hold them.
  Status need_elements(uint64_t count, uint64_t min_bytes, std::string_view what) const {
    if (count > left() / min_bytes) return truncated(fmt::format("{} {} x {}", count, what, min_bytes));
    return {};
  }

  template <typename T>
  Result<T> read() {
    HELIX_TRY(need(sizeof(T)));
    const T v = load<T>(here());
    pos_ += sizeof(T);
    return v;
  }

  Result<std::string_view> read_string() {
    auto len = read<uint64_t>();
    if (!len) return Unexpected{len.error()};
    if (*len > left()) return truncated(fmt::format("a string of {}", *len));
    std::string_view s(reinterpret_cast<const char*>(here()), *len);
    pos_ += *len;
    return s;
  }

  Result<GgufType> read_type() {
    auto raw = read<uint32_t>();
    if (!raw) return Unexpected{raw.error()};
    if (*raw > static_cast<uint32_t>(GgufType::FLOAT64))
      return fail(fmt::format("unknown metadata value type {} at offset {}", *raw, pos_ - 4));
    return static_cast<GgufType>(*raw);
  }

  // Reads a value of `type`; arrays are walked to their end (strings and nested arrays have no fixed size).
  Result<GgufValue> read_value(GgufType type, int depth) {
    GgufValue v;
    v.type = type;
    if (type == GgufType::STRING) {
      auto s = read_string();
      if (!s) return Unexpected{s.error()};
      v.string_value = *s;
      return v;
    }
    if (type == GgufType::ARRAY) {
      HELIX_TRY(read_array(v, depth));
      return v;
    }
    const uint64_t n = scalar_size(type);
    HELIX_TRY(need(n));
    if (type == GgufType::BOOL && *here() > 1) return fail(fmt::format("bool value {} is not 0 or 1", *here()));
    const Scalar s = load_scalar(type, here());
    pos_ += n;
    v.int_value = s.i;
    v.uint_value = s.u;
    v.float_value = s.f;
    v.bool_value = s.i != 0;
    return v;
  }

 private:
  Status read_array(GgufValue& v, int depth) {
    if (depth >= kMaxArrayDepth) return fail(fmt::format("arrays nested deeper than {}", kMaxArrayDepth));
    auto elem = read_type();
    if (!elem) return Unexpected{elem.error()};
    auto count = read<uint64_t>();
    if (!count) return Unexpected{count.error()};
    v.array_type = *elem;
    v.array_size = *count;
    v.array_data = here();
    const std::string elem_name(gguf_type_name(*elem));
    if (const uint64_t n = scalar_size(*elem); n > 0) {
      HELIX_TRY(need_elements(*count, n, elem_name));
      if (*elem == GgufType::BOOL) {
        for (uint64_t i = 0; i < *count; ++i)
          if (here()[i] > 1) {
            elements_.push_back(i);
            return fail(fmt::format("bool value {} is not 0 or 1", here()[i]));
          }
      }
      pos_ += *count * n;
      return {};
    }
    // Each string needs its 8-byte length; each nested array its type and count.
    HELIX_TRY(need_elements(*count, *elem == GgufType::STRING ? 8 : 12, elem_name));
    elements_.push_back(0);
    for (uint64_t i = 0; i < *count; ++i) {
      elements_.back() = i;
      auto element = read_value(*elem, depth + 1);
      if (!element) return Unexpected{element.error()};
    }
    elements_.pop_back();
    return {};
  }

  const std::string& path_;
  const uint8_t* data_;
  uint64_t size_;
  uint64_t pos_ = 0;
  std::string item_;
  std::vector<uint64_t> elements_;
};

#define HELIX_GGUF_ASSIGN(var, expr)                        \
  auto var##_result_ = (expr);                              \
  if (!var##_result_) return Unexpected{var##_result_.error()}; \
  auto var = std::move(*var##_result_)

Status check_alignment(const std::string& path, const GgufValue& v, uint64_t& alignment) {
  if (!is_integer(v.type))
    return errorf("{}: metadata key 'general.alignment': expected an integer, got {}", path, gguf_type_name(v.type));
  const uint64_t a = v.uint_value;
  if (v.int_value <= 0 || a > kMaxAlignment || (a & (a - 1)) != 0)
    return errorf("{}: metadata key 'general.alignment': {} is not a power of two in [1, {}]", path, v.int_value,
                  kMaxAlignment);
  alignment = a;
  return {};
}

}  // namespace

std::string_view gguf_type_name(GgufType type) {
  switch (type) {
    case GgufType::UINT8: return "uint8";
    case GgufType::INT8: return "int8";
    case GgufType::UINT16: return "uint16";
    case GgufType::INT16: return "int16";
    case GgufType::UINT32: return "uint32";
    case GgufType::INT32: return "int32";
    case GgufType::FLOAT32: return "float32";
    case GgufType::BOOL: return "bool";
    case GgufType::STRING: return "string";
    case GgufType::ARRAY: return "array";
    case GgufType::UINT64: return "uint64";
    case GgufType::INT64: return "int64";
    case GgufType::FLOAT64: return "float64";
  }
  return "unknown";
}

Result<GgufFile> GgufFile::open(const std::string& path) {
  HELIX_GGUF_ASSIGN(file, MappedFile::open(path));
  return from_mapping(std::move(file));
}

Result<GgufFile> GgufFile::from_mapping(std::shared_ptr<MappedFile> file) {
  auto g = parse(file->path(), file->data(), file->size());
  if (g) g->file_ = std::move(file);
  return g;
}

Result<GgufFile> GgufFile::parse(std::string name, const uint8_t* data, size_t size_bytes) {
  GgufFile g;
  g.path_ = std::move(name);
  g.data_ = data;
  g.size_ = size_bytes;
  const std::string& path = g.path_;
  Parser p(path, data, size_bytes);

  p.set_item("magic");
  HELIX_TRY(p.need(4));
  if (std::memcmp(p.here(), "GGUF", 4) != 0) return errorf("{}: not a GGUF file (bad magic)", path);
  p.skip(4);
  p.set_item("version");
  HELIX_GGUF_ASSIGN(version, p.read<uint32_t>());
  if (version == 1)
    return errorf("{}: GGUF v1 is not supported (convert the model again with a current llama.cpp)", path);
  if (version != 2 && version != 3) {
    const bool swapped = version == 0x02000000u || version == 0x03000000u;
    return errorf("{}: unsupported GGUF version {}{}", path, version, swapped ? " (a big-endian file?)" : "");
  }
  g.version_ = version;
  p.set_item("tensor count");
  HELIX_GGUF_ASSIGN(n_tensors, p.read<uint64_t>());
  p.set_item("metadata count");
  HELIX_GGUF_ASSIGN(n_metadata, p.read<uint64_t>());
  if (n_tensors > kMaxTensors || n_tensors > p.left() / kMinTensorInfoBytes)
    return errorf("{}: tensor count {} is absurd: the {} bytes after the header hold at most {} tensor infos", path,
                  n_tensors, p.left(), std::min(kMaxTensors, p.left() / kMinTensorInfoBytes));
  if (n_metadata > kMaxMetadata || n_metadata > p.left() / kMinMetadataBytes)
    return errorf("{}: metadata count {} is absurd: the {} bytes after the header hold at most {} keys", path,
                  n_metadata, p.left(), std::min(kMaxMetadata, p.left() / kMinMetadataBytes));

  // Grown as entries parse (each consumed bytes), not reserved from a count the file could inflate.
  g.metadata_.reserve(std::min<uint64_t>(n_metadata, 1024));
  std::unordered_set<std::string> seen;
  for (uint64_t i = 0; i < n_metadata; ++i) {
    p.set_item(fmt::format("metadata key {}", i));
    HELIX_GGUF_ASSIGN(key, p.read_string());
    if (key.empty()) return p.fail("empty key");
    p.set_item(fmt::format("metadata key {} ('{}')", i, key));
    if (!seen.emplace(key).second) return p.fail("duplicate key");
    HELIX_GGUF_ASSIGN(type, p.read_type());
    HELIX_GGUF_ASSIGN(value, p.read_value(type, 0));
    g.metadata_.push_back(GgufMetadataEntry{std::string(key), value});
  }
  if (const GgufValue* a = g.find("general.alignment")) HELIX_TRY(check_alignment(path, *a, g.alignment_));

  g.tensors_.reserve(std::min<uint64_t>(n_tensors, 1024));
  seen.clear();
  for (uint64_t i = 0; i < n_tensors; ++i) {
    p.set_item(fmt::format("tensor {}", i));
    GgufTensorInfo t;
    HELIX_GGUF_ASSIGN(name, p.read_string());
    if (name.empty()) return p.fail("empty name");
    t.name = std::string(name);
    p.set_item(fmt::format("tensor {} ('{}')", i, name));
    if (!seen.emplace(t.name).second) return p.fail("duplicate tensor name");
    HELIX_GGUF_ASSIGN(n_dims, p.read<uint32_t>());
    if (n_dims > kMaxTensorDims) return p.fail(fmt::format("n_dims {} > {}", n_dims, kMaxTensorDims));
    int64_t n_elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      HELIX_GGUF_ASSIGN(dim, p.read<uint64_t>());
      if (dim == 0 || dim > static_cast<uint64_t>(INT64_MAX))
        return p.fail(fmt::format("dims[{}] = {} is not in [1, 2^63)", d, dim));
      t.dims.push_back(static_cast<int64_t>(dim));
      if (__builtin_mul_overflow(n_elements, static_cast<int64_t>(dim), &n_elements))
        return p.fail(fmt::format("element count of dims [{}] overflows", fmt::join(t.dims, ", ")));
    }
    HELIX_GGUF_ASSIGN(ggml_type, p.read<uint32_t>());
    const GgmlTypeInfo* info = ggml_type_info(ggml_type);
    if (info == nullptr) return p.fail(fmt::format("unknown ggml tensor type {}", ggml_type));
    const int64_t row = t.dims.empty() ? 1 : t.dims[0];
    if (row % info->block_values != 0)
      return p.fail(fmt::format("rows of {} values are not whole {} blocks of {}", row, info->name,
                                info->block_values));
    if (__builtin_mul_overflow(n_elements / info->block_values, info->block_bytes, &t.n_bytes))
      return p.fail(fmt::format("byte size of dims [{}] {} overflows", fmt::join(t.dims, ", "), info->name));
    HELIX_GGUF_ASSIGN(offset, p.read<uint64_t>());
    if (offset % g.alignment_ != 0)
      return p.fail(fmt::format("data offset {} is not a multiple of the alignment {}", offset, g.alignment_));
    t.ggml_type = ggml_type;
    t.dtype = dtype_from_ggml_type(ggml_type);
    t.offset = offset;
    t.n_elements = n_elements;
    g.tensors_.push_back(std::move(t));
  }

  // The data section starts at the next multiple of the alignment; with no tensors it may lie past EOF.
  const uint64_t size = size_bytes;
  g.data_offset_ = (p.pos() + g.alignment_ - 1) / g.alignment_ * g.alignment_;
  const uint64_t data_bytes = g.data_offset_ < size ? size - g.data_offset_ : 0;
  for (size_t i = 0; i < g.tensors_.size(); ++i) {
    const GgufTensorInfo& t = g.tensors_[i];
    const uint64_t n = static_cast<uint64_t>(t.n_bytes);
    if (t.offset > data_bytes || n > data_bytes - t.offset)
      return errorf("{}: tensor {} ('{}'): data at offset {} + {} bytes lies past the end of the file "
                    "(data section: {} bytes from file offset {}, file has {})",
                    path, i, t.name, t.offset, n, data_bytes, g.data_offset_, size);
  }
  return g;
}

#undef HELIX_GGUF_ASSIGN

const GgufValue* GgufFile::find(std::string_view key) const {
  for (const auto& e : metadata_)
    if (e.key == key) return &e.value;
  return nullptr;
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
  for (const auto& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

const uint8_t* GgufFile::tensor_data(const GgufTensorInfo& tensor) const {
  return data_ + data_offset_ + tensor.offset;
}

namespace {

Result<const GgufValue*> lookup(const GgufFile& f, std::string_view key) {
  const GgufValue* v = f.find(key);
  if (v == nullptr) return errorf("{}: metadata key '{}': missing", f.path(), key);
  return v;
}

Unexpected wrong_type(const GgufFile& f, std::string_view key, std::string_view expected, const GgufValue& v) {
  std::string got(gguf_type_name(v.type));
  if (v.type == GgufType::ARRAY) got = fmt::format("array of {}", gguf_type_name(v.array_type));
  return errorf("{}: metadata key '{}': expected {}, got {}", f.path(), key, expected, got);
}

Result<const GgufValue*> lookup_array(const GgufFile& f, std::string_view key, std::string_view expected,
                                      bool (*element_ok)(GgufType)) {
  auto v = lookup(f, key);
  if (!v) return v;
  if ((*v)->type != GgufType::ARRAY || !element_ok((*v)->array_type)) return wrong_type(f, key, expected, **v);
  return v;
}

}  // namespace

Result<int64_t> GgufFile::get_int(std::string_view key) const {
  auto v = lookup(*this, key);
  if (!v) return Unexpected{v.error()};
  if (!is_integer((*v)->type)) return wrong_type(*this, key, "an integer", **v);
  if ((*v)->type == GgufType::UINT64 && (*v)->uint_value > static_cast<uint64_t>(INT64_MAX))
    return errorf("{}: metadata key '{}': {} does not fit in int64", path_, key, (*v)->uint_value);
  return (*v)->int_value;
}

Result<double> GgufFile::get_float(std::string_view key) const {
  auto v = lookup(*this, key);
  if (!v) return Unexpected{v.error()};
  if (is_float((*v)->type)) return (*v)->float_value;
  if (is_integer((*v)->type)) {
    if ((*v)->type == GgufType::UINT64) return static_cast<double>((*v)->uint_value);
    return static_cast<double>((*v)->int_value);
  }
  return wrong_type(*this, key, "a number", **v);
}

Result<bool> GgufFile::get_bool(std::string_view key) const {
  auto v = lookup(*this, key);
  if (!v) return Unexpected{v.error()};
  if ((*v)->type != GgufType::BOOL) return wrong_type(*this, key, "a bool", **v);
  return (*v)->bool_value;
}

Result<std::string_view> GgufFile::get_string(std::string_view key) const {
  auto v = lookup(*this, key);
  if (!v) return Unexpected{v.error()};
  if ((*v)->type != GgufType::STRING) return wrong_type(*this, key, "a string", **v);
  return (*v)->string_value;
}

Result<std::vector<std::string_view>> GgufFile::get_string_array(std::string_view key) const {
  auto v = lookup_array(*this, key, "an array of string", [](GgufType t) { return t == GgufType::STRING; });
  if (!v) return Unexpected{v.error()};
  // Lengths were checked against the file when it was opened.
  std::vector<std::string_view> out;
  out.reserve((*v)->array_size);
  const uint8_t* p = (*v)->array_data;
  for (uint64_t i = 0; i < (*v)->array_size; ++i) {
    const uint64_t len = load<uint64_t>(p);
    out.emplace_back(reinterpret_cast<const char*>(p + 8), len);
    p += 8 + len;
  }
  return out;
}

Result<std::vector<float>> GgufFile::get_float_array(std::string_view key) const {
  auto v = lookup_array(*this, key, "an array of numbers",
                        [](GgufType t) { return is_float(t) || is_integer(t); });
  if (!v) return Unexpected{v.error()};
  const GgufType t = (*v)->array_type;
  const uint64_t n = scalar_size(t);
  std::vector<float> out((*v)->array_size);
  for (uint64_t i = 0; i < out.size(); ++i) {
    const Scalar s = load_scalar(t, (*v)->array_data + i * n);
    out[i] = is_float(t) ? static_cast<float>(s.f)
                         : (t == GgufType::UINT64 ? static_cast<float>(s.u) : static_cast<float>(s.i));
  }
  return out;
}

Result<std::vector<int64_t>> GgufFile::get_int_array(std::string_view key) const {
  auto v = lookup_array(*this, key, "an array of integers", is_integer);
  if (!v) return Unexpected{v.error()};
  const GgufType t = (*v)->array_type;
  const uint64_t n = scalar_size(t);
  std::vector<int64_t> out((*v)->array_size);
  for (uint64_t i = 0; i < out.size(); ++i) {
    const Scalar s = load_scalar(t, (*v)->array_data + i * n);
    if (!s.fits_int64)
      return errorf("{}: metadata key '{}' element {}: {} does not fit in int64", path_, key, i, s.u);
    out[i] = s.i;
  }
  return out;
}

}  // namespace helix
