// Small model files made by the tests: a tiny valid llama GGUF (through GgufWriter), raw byte builders
// for hand-made broken headers, and tiny llama2.c checkpoints.
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "model/gguf_writer.h"
#include "model/llama2c_reader.h"

namespace helix::test {

// Appends little-endian fields, for files the writer refuses to make.
struct Bytes {
  std::vector<uint8_t> b;

  template <typename T>
  Bytes& put(T v) {
    const size_t at = b.size();
    b.resize(at + sizeof(T));
    std::memcpy(b.data() + at, &v, sizeof(T));
    return *this;
  }
  Bytes& u8(uint8_t v) { return put(v); }
  Bytes& u32(uint32_t v) { return put(v); }
  Bytes& i32(int32_t v) { return put(v); }
  Bytes& u64(uint64_t v) { return put(v); }
  Bytes& f32(float v) { return put(v); }
  Bytes& raw(std::string_view s) {
    const size_t at = b.size();
    b.resize(at + s.size());
    if (!s.empty()) std::memcpy(b.data() + at, s.data(), s.size());
    return *this;
  }
  Bytes& str(std::string_view s) { return u64(s.size()).raw(s); }
  Bytes& zeros(size_t n) {
    b.resize(b.size() + n, 0);
    return *this;
  }
  Bytes& pad_to(size_t alignment) {
    b.resize((b.size() + alignment - 1) / alignment * alignment, 0);
    return *this;
  }
  // A GGUF header: magic, version, tensor count, metadata count.
  static Bytes gguf(uint32_t version, uint64_t n_tensors, uint64_t n_metadata) {
    Bytes x;
    x.raw("GGUF").u32(version).u64(n_tensors).u64(n_metadata);
    return x;
  }
  // One metadata key with a uint32 value.
  Bytes& kv_u32(std::string_view key, uint32_t v) {
    return str(key).u32(static_cast<uint32_t>(GgufType::UINT32)).u32(v);
  }
  Bytes& kv_str(std::string_view key, std::string_view v) {
    return str(key).u32(static_cast<uint32_t>(GgufType::STRING)).str(v);
  }
  // One tensor info.
  Bytes& tensor(std::string_view name, const std::vector<uint64_t>& dims, uint32_t ggml_type, uint64_t offset) {
    str(name).u32(static_cast<uint32_t>(dims.size()));
    for (uint64_t d : dims) u64(d);
    return u32(ggml_type).u64(offset);
  }
};

inline void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// Values 0, 1, 2, ... as f32 bytes, scaled so every tensor of a file has distinct contents.
inline std::vector<uint8_t> f32_bytes(int64_t count, float start) {
  std::vector<uint8_t> out(static_cast<size_t>(count) * 4);
  for (int64_t i = 0; i < count; ++i) {
    const float v = start + static_cast<float>(i) * 0.5f;
    std::memcpy(out.data() + i * 4, &v, 4);
  }
  return out;
}

// The metadata of a tiny llama: 1 layer, hidden 8, 2 heads (head_dim 4), 1 KV head, ffn 16, vocab 4.
inline void add_tiny_llama_metadata(GgufWriter& w) {
  w.add_string("general.architecture", "llama");
  w.add_string("general.name", "tiny");
  w.add_uint32("llama.block_count", 1);
  w.add_uint32("llama.embedding_length", 8);
  w.add_uint32("llama.attention.head_count", 2);
  w.add_uint32("llama.attention.head_count_kv", 1);
  w.add_uint32("llama.feed_forward_length", 16);
  w.add_uint32("llama.context_length", 32);
  w.add_float32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  w.add_string_array("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "a"});
  w.add_float_array("tokenizer.ggml.scores", {0.0f, 0.0f, 0.0f, -1.0f});
}

// A complete tiny llama GGUF. Its last tensor (output_norm, 8 f32 = 32 bytes) ends the file exactly, so
// cutting the file anywhere loses needed bytes.
inline GgufWriter tiny_llama_writer() {
  GgufWriter w;
  add_tiny_llama_metadata(w);
  struct T {
    const char* name;
    std::vector<int64_t> dims;
  };
  float start = 1.0f;
  for (const T& t : {T{"token_embd.weight", {8, 4}}, T{"blk.0.attn_norm.weight", {8}},
                     T{"blk.0.attn_q.weight", {8, 8}}, T{"blk.0.attn_k.weight", {8, 4}},
                     T{"blk.0.attn_v.weight", {8, 4}}, T{"blk.0.attn_output.weight", {8, 8}},
                     T{"blk.0.ffn_norm.weight", {8}}, T{"blk.0.ffn_gate.weight", {8, 16}},
                     T{"blk.0.ffn_down.weight", {16, 8}}, T{"blk.0.ffn_up.weight", {8, 16}},
                     T{"output_norm.weight", {8}}}) {
    int64_t n = 1;
    for (int64_t d : t.dims) n *= d;
    EXPECT_TRUE(w.add_tensor(t.name, DType::F32, t.dims, f32_bytes(n, start)));
    start += 100.0f;
  }
  return w;
}

inline std::vector<uint8_t> tiny_llama_bytes() {
  auto bytes = tiny_llama_writer().to_bytes();
  EXPECT_TRUE(bytes.has_value());
  return bytes ? *bytes : std::vector<uint8_t>{};
}

// A llama2.c checkpoint (v0 or v1) of the given header with weights 0, 0.5, 1, ... in file order.
inline std::vector<uint8_t> llama2c_bytes(int version, int32_t dim, int32_t hidden, int32_t layers, int32_t heads,
                                          int32_t kv_heads, int32_t vocab, int32_t seq_len, bool shared) {
  Bytes x;
  if (version == 1) x.u32(kLlama2cMagic).i32(1);
  const int32_t stored_vocab = version == 0 && !shared ? -vocab : vocab;
  x.i32(dim).i32(hidden).i32(layers).i32(heads).i32(kv_heads).i32(stored_vocab).i32(seq_len);
  if (version == 1) x.u8(shared ? 1 : 0).pad_to(256);
  const int64_t head = dim / heads;
  const int64_t kv_dim = kv_heads * head;
  const int64_t per_layer = 2 * dim + 2 * dim * dim + 2 * dim * kv_dim + 3 * dim * hidden;
  int64_t floats = int64_t{vocab} * dim + layers * per_layer + dim;
  if (version == 0) floats += 2 * (seq_len * head / 2);
  if (!shared) floats += int64_t{vocab} * dim;
  const auto weights = f32_bytes(floats, 0.0f);
  x.b.insert(x.b.end(), weights.begin(), weights.end());
  return x.b;
}

}  // namespace helix::test
