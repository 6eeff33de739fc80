// llama2.c checkpoint layouts (see export.py in llama2.c: legacy_export and version1_export).
#include "model/llama2c_reader.h"

#include <cstring>
#include <filesystem>

#include <fmt/format.h>

namespace helix {
namespace {

// Bounds well above any llama2.c-exportable model (Llama-2-70B: dim 8192, hidden 28672, 80 layers), low
// enough that every size below fits in int64 and a stray file is told apart from a checkpoint.
constexpr int64_t kMaxDim = int64_t{1} << 16;
constexpr int64_t kMaxHidden = int64_t{1} << 18;
constexpr int64_t kMaxLayers = int64_t{1} << 12;
constexpr int64_t kMaxVocab = int64_t{1} << 22;
constexpr int64_t kMaxSeqLen = int64_t{1} << 24;
constexpr int64_t kF32Bytes = 4;

int32_t load_i32(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// The first reason the header cannot describe a checkpoint, or empty if it can.
std::string implausible(const Llama2cHeader& h) {
  struct Field {
    const char* name;
    int64_t value;
    int64_t max;
  };
  for (const Field& f : {Field{"dim", h.dim, kMaxDim}, Field{"hidden_dim", h.hidden_dim, kMaxHidden},
                         Field{"n_layers", h.n_layers, kMaxLayers}, Field{"n_heads", h.n_heads, kMaxDim},
                         Field{"n_kv_heads", h.n_kv_heads, kMaxDim}, Field{"vocab_size", h.vocab_size, kMaxVocab},
                         Field{"seq_len", h.seq_len, kMaxSeqLen}}) {
    if (f.value <= 0 || f.value > f.max) return fmt::format("{} {} is not in [1, {}]", f.name, f.value, f.max);
  }
  if (h.dim % h.n_heads != 0) return fmt::format("n_heads {} does not divide dim {}", h.n_heads, h.dim);
  if (h.n_kv_heads > h.n_heads || h.n_heads % h.n_kv_heads != 0)
    return fmt::format("n_kv_heads {} does not divide n_heads {}", h.n_kv_heads, h.n_heads);
  return {};
}

std::string describe(const Llama2cHeader& h) {
  return fmt::format("dim {}, hidden_dim {}, n_layers {}, n_heads {}, n_kv_heads {}, vocab_size {}, seq_len {}",
                     h.dim, h.hidden_dim, h.n_layers, h.n_heads, h.n_kv_heads, h.vocab_size, h.seq_len);
}

// Hands out consecutive fp32 arrays from the header's end, as llama2.c's memory_map_weights does.
class LayoutBuilder {
 public:
  LayoutBuilder(const Llama2cHeader& h, std::vector<Llama2cTensor>& out) : h_(h), out_(out), offset_(h.header_bytes) {}

  // One array per layer, stored back to back for all layers ("blk.N.<suffix>").
  void per_layer(const char* suffix, std::vector<int64_t> dims) {
    for (int64_t l = 0; l < h_.n_layers; ++l) add(fmt::format("blk.{}.{}", l, suffix), dims);
  }
  void add(std::string name, std::vector<int64_t> dims) {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    out_.push_back(Llama2cTensor{std::move(name), std::move(dims), offset_, n * kF32Bytes});
    offset_ += n * kF32Bytes;
  }
  void skip_floats(int64_t n) { offset_ += n * kF32Bytes; }
  int64_t end() const { return offset_; }

 private:
  const Llama2cHeader& h_;
  std::vector<Llama2cTensor>& out_;
  int64_t offset_;
};

// Tensors in file order under GGUF names and dims; llama2.c's row-major [out][in] is GGUF [in, out].
std::vector<Llama2cTensor> layout(const Llama2cHeader& h, int64_t* file_bytes) {
  const int64_t head_size = h.dim / h.n_heads;
  const int64_t q_dim = h.n_heads * head_size;
  const int64_t kv_dim = h.n_kv_heads * head_size;
  std::vector<Llama2cTensor> out;
  LayoutBuilder b(h, out);
  auto attention = [&] {
    b.per_layer("attn_q.weight", {h.dim, q_dim});
    b.per_layer("attn_k.weight", {h.dim, kv_dim});
    b.per_layer("attn_v.weight", {h.dim, kv_dim});
    b.per_layer("attn_output.weight", {q_dim, h.dim});
  };
  auto ffn = [&] {
    b.per_layer("ffn_gate.weight", {h.dim, h.hidden_dim});  // w1
    b.per_layer("ffn_down.weight", {h.hidden_dim, h.dim});  // w2
    b.per_layer("ffn_up.weight", {h.dim, h.hidden_dim});    // w3
  };
  if (h.version == 0) {
    b.add("token_embd.weight", {h.dim, h.vocab_size});
    b.per_layer("attn_norm.weight", {h.dim});
    attention();
    b.per_layer("ffn_norm.weight", {h.dim});
    ffn();
    b.add("output_norm.weight", {h.dim});
    // Two precomputed RoPE tables (cos, sin) that Helix recomputes; same arithmetic as run.c.
    b.skip_floats(2 * (h.seq_len * head_size / 2));
  } else {
    b.per_layer("attn_norm.weight", {h.dim});
    b.per_layer("ffn_norm.weight", {h.dim});
    b.add("output_norm.weight", {h.dim});
    b.add("token_embd.weight", {h.dim, h.vocab_size});
    attention();
    ffn();
  }
  if (!h.shared_classifier) b.add("output.weight", {h.dim, h.vocab_size});
  *file_bytes = b.end();
  return out;
}

}  // namespace

bool has_llama2c_magic(const uint8_t* data, size_t size) {
  if (size < 4) return false;
  uint32_t magic;
  std::memcpy(&magic, data, sizeof(magic));
  return magic == kLlama2cMagic;
}

Result<Llama2cFile> Llama2cFile::open(const std::string& path) {
  auto file = MappedFile::open(path);
  if (!file) return Unexpected{file.error()};
  return from_mapping(std::move(*file));
}

Result<Llama2cFile> Llama2cFile::from_mapping(std::shared_ptr<MappedFile> file) {
  auto f = parse(file->path(), file->data(), file->size());
  if (f) f->file_ = std::move(file);
  return f;
}

Result<Llama2cFile> Llama2cFile::parse(std::string name, const uint8_t* data, size_t size_bytes) {
  const std::string& path = name;
  const int64_t size = static_cast<int64_t>(size_bytes);
  Llama2cHeader h;
  const bool v1 = has_llama2c_magic(data, size_bytes);
  if (v1) {
    if (size < 8) return errorf("{}: truncated: llama2.c header needs 8 bytes at offset 0, file has {}", path, size);
    const int32_t version = load_i32(data + 4);
    if (version == 2)
      return errorf("{}: llama2.c v2 checkpoints (int8 quantized) are not supported; export version 0 or 1 (fp32)",
                    path);
    if (version != 1) return errorf("{}: unsupported llama2.c checkpoint version {}", path, version);
    if (size < kLlama2cV1HeaderBytes)
      return errorf("{}: truncated: llama2.c v1 header needs {} bytes at offset 0, file has {}", path,
                    kLlama2cV1HeaderBytes, size);
    h.version = 1;
    h.header_bytes = kLlama2cV1HeaderBytes;
  } else {
    if (size < kLlama2cV0HeaderBytes)
      return errorf("{}: not a model file ({} bytes: too small for a GGUF or llama2.c header)", path, size);
    h.version = 0;
    h.header_bytes = kLlama2cV0HeaderBytes;
  }
  const uint8_t* ints = data + (v1 ? 8 : 0);
  h.dim = load_i32(ints + 0);
  h.hidden_dim = load_i32(ints + 4);
  h.n_layers = load_i32(ints + 8);
  h.n_heads = load_i32(ints + 12);
  h.n_kv_heads = load_i32(ints + 16);
  const int64_t raw_vocab = load_i32(ints + 20);
  h.seq_len = load_i32(ints + 24);
  if (v1) {
    const uint8_t shared = data[36];
    if (shared > 1) return errorf("{}: llama2.c v1 header: shared-classifier flag {} is not 0 or 1", path, shared);
    h.shared_classifier = shared == 1;
    h.vocab_size = raw_vocab;
  } else {
    // v0 marks an untied classifier by a negative vocab_size.
    h.shared_classifier = raw_vocab > 0;
    h.vocab_size = raw_vocab < 0 ? -raw_vocab : raw_vocab;
  }
  if (const std::string why = implausible(h); !why.empty()) {
    if (v1) return errorf("{}: llama2.c v1 header: {}", path, why);
    return errorf("{}: not a model file (no GGUF or llama2.c v1 magic, and not a llama2.c v0 header: {})", path,
                  why);
  }
  int64_t expected = 0;
  std::vector<Llama2cTensor> tensors = layout(h, &expected);
  if (size != expected) {
    if (v1)
      return errorf("{}: llama2.c v1 checkpoint ({}) must have {} bytes, file has {}", path, describe(h), expected,
                    size);
    return errorf("{}: not a model file (its first 28 bytes read as a llama2.c v0 header ({}), which implies {} "
                  "bytes, but the file has {})",
                  path, describe(h), expected, size);
  }

  Llama2cFile f;
  f.header_ = h;
  f.tensors_ = std::move(tensors);
  ModelShape& s = f.shape_;
  s.name = std::filesystem::path(path).stem().string();
  s.n_layers = h.n_layers;
  s.n_heads = h.n_heads;
  s.n_kv_heads = h.n_kv_heads;
  s.head_dim = h.dim / h.n_heads;
  s.hidden_dim = h.dim;
  s.ffn_dim = h.hidden_dim;
  s.vocab_size = h.vocab_size;
  s.context_length = h.seq_len;
  s.kv_dtype = DType::F16;
  s.rope_freq_base = 10000.0f;  // fixed in llama2.c's run.c
  s.rms_norm_eps = 1e-5f;       // fixed in llama2.c's run.c
  s.tied_embeddings = h.shared_classifier;
  if (auto ok = s.validate(); !ok) return errorf("{}: {}", path, ok.error().message);
  f.data_ = data;
  f.path_ = std::move(name);
  return f;
}

}  // namespace helix
