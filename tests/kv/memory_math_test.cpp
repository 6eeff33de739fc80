// Pins the KV-cache arithmetic of design NOTES.md section 1, exactly.
#include "kv/memory_math.h"

#include <gtest/gtest.h>

#include "server/memory_json.h"

namespace helix {
namespace {

MemoryQuery reference_query() {
  MemoryQuery q;
  q.shape = *find_preset("tinyllama-1.1b");
  return q;  // defaults: f16, 128 tokens, max_seq_len = context 2048, block 16, 1024 blocks, batch 1
}

TEST(MemoryMath, TinyLlamaBytesPerToken) {
  // 22 layers * 2 (K and V) * 4 KV heads * 64 head_dim * 2 bytes.
  EXPECT_EQ(find_preset("tinyllama-1.1b")->kv_bytes_per_token(), 22528);
}

TEST(MemoryMath, ReferenceCaseExactBytes) {
  auto c = compare_memory(reference_query());
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->traditional_bytes, 46137344);
  EXPECT_EQ(c->blocks_used, 8);
  EXPECT_EQ(c->paged_bytes, 2883584);
  EXPECT_EQ(c->saved_bytes, 43253760);
  EXPECT_EQ(c->blocks_free, 1016);
  EXPECT_EQ(c->pool_bytes, 369098752);
  EXPECT_EQ(c->pool_tokens, 16384);
  EXPECT_EQ(c->max_seq_len, 2048);
  EXPECT_DOUBLE_EQ(c->saved_percent(), 93.75);
  EXPECT_DOUBLE_EQ(c->utilization_percent(), 0.78125);
}

TEST(MemoryMath, ReferenceCaseJsonContract) {
  auto c = compare_memory(reference_query());
  ASSERT_TRUE(c);
  const auto j = memory_comparison_json(*c);
  EXPECT_DOUBLE_EQ(j["traditional_memory_mb"].get<double>(), 44.00);
  EXPECT_DOUBLE_EQ(j["paged_memory_mb"].get<double>(), 2.75);
  EXPECT_DOUBLE_EQ(j["memory_saved_mb"].get<double>(), 41.25);
  EXPECT_DOUBLE_EQ(j["memory_saved_percent"].get<double>(), 93.75);
  EXPECT_EQ(j["num_blocks"].get<int64_t>(), 1024);
  EXPECT_EQ(j["block_size"].get<int64_t>(), 16);
  EXPECT_EQ(j["blocks_used"].get<int64_t>(), 8);
  EXPECT_EQ(j["blocks_free"].get<int64_t>(), 1016);
  EXPECT_DOUBLE_EQ(j["utilization_percent"].get<double>(), 0.78);
  EXPECT_EQ(j["sequence_length"].get<int64_t>(), 128);
  EXPECT_EQ(j["pool_memory_mb"].get<double>(), 352.00);
}

TEST(MemoryMath, NotTheHalvedFigure) {
  // 22.00 MiB / 87.5 % would come from leaving out K-and-V on the traditional side only.
  auto c = compare_memory(reference_query());
  ASSERT_TRUE(c);
  EXPECT_NE(round2(c->traditional_mib()), 22.00);
  EXPECT_NE(round2(c->saved_percent()), 87.5);
}

TEST(MemoryMath, GqaVersusMha) {
  // Llama-2-7B has no GQA: 32 layers * 2 * 32 KV heads * 128 * 2 B = 524,288 B per token (512 KiB).
  auto llama2 = *find_preset("llama-2-7b");
  EXPECT_FALSE(llama2.uses_gqa());
  EXPECT_EQ(llama2.kv_bytes_per_token(), 524288);
  // Llama-3-8B and Mistral-7B: 8 KV heads -> 131,072 B (4x less than MHA at the same width).
  EXPECT_EQ(find_preset("llama-3-8b")->kv_bytes_per_token(), 131072);
  EXPECT_EQ(find_preset("mistral-7b")->kv_bytes_per_token(), 131072);
  // SmolLM2-135M: 30 * 2 * 3 * 64 * 2 = 23,040. stories260K: 5 * 2 * 4 * 8 * 2 = 640.
  EXPECT_EQ(find_preset("smollm2-135m")->kv_bytes_per_token(), 23040);
  EXPECT_EQ(find_preset("stories260k")->kv_bytes_per_token(), 640);
  EXPECT_TRUE(find_preset("tinyllama-1.1b")->uses_gqa());

  MemoryQuery q;
  q.shape = llama2;
  q.max_seq_len = 4096;
  auto c = compare_memory(q);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->traditional_bytes, int64_t{4096} * 524288);  // 2 GiB
  EXPECT_EQ(c->paged_bytes, int64_t{128} * 524288);         // 64 MiB
  EXPECT_DOUBLE_EQ(c->saved_percent(), 96.875);
}

TEST(MemoryMath, BatchGreaterThanOne) {
  auto q = reference_query();
  q.batch_size = 4;
  q.sequence_length = 100;  // ceil(100/16) = 7 blocks each
  auto c = compare_memory(q);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->blocks_used, 28);
  EXPECT_EQ(c->blocks_free, 996);
  EXPECT_EQ(c->traditional_bytes, 4 * 2048 * 22528);
  EXPECT_EQ(c->paged_bytes, 28 * 16 * 22528);
  EXPECT_EQ(c->paged_wasted_tokens, 4 * 12);
  EXPECT_EQ(c->traditional_wasted_tokens, 4 * 1948);
}

TEST(MemoryMath, EveryKvDtype) {
  struct Case {
    const char* dtype;
    int64_t per_token;
  };
  // 22 * 2 * 4 * 64 = 11,264 values per token; q8_0 stores 32 values in 34 bytes.
  for (const Case& tc : {Case{"f32", 45056}, Case{"f16", 22528}, Case{"bf16", 22528}, Case{"q8_0", 11968}}) {
    auto q = reference_query();
    q.shape.kv_dtype = *parse_dtype(tc.dtype);
    auto c = compare_memory(q);
    ASSERT_TRUE(c) << tc.dtype;
    EXPECT_EQ(c->kv_bytes_per_token, tc.per_token) << tc.dtype;
    EXPECT_EQ(c->traditional_bytes, 2048 * tc.per_token) << tc.dtype;
    EXPECT_EQ(c->paged_bytes, 128 * tc.per_token) << tc.dtype;
    EXPECT_DOUBLE_EQ(c->saved_percent(), 93.75) << tc.dtype;
  }
}

TEST(MemoryMath, BlockSizeThatDividesTheLengthAndOneThatDoesNot) {
  auto q = reference_query();
  q.sequence_length = 100;
  q.block_size = 25;  // divides: 4 blocks, no tail waste
  auto c = compare_memory(q);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->blocks_used, 4);
  EXPECT_EQ(c->paged_wasted_tokens, 0);
  EXPECT_EQ(c->paged_bytes, 100 * 22528);

  q.block_size = 16;  // does not: 7 blocks = 112 slots, 12 wasted
  c = compare_memory(q);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->blocks_used, 7);
  EXPECT_EQ(c->paged_wasted_tokens, 12);
  EXPECT_EQ(c->paged_bytes, 112 * 22528);

  q.sequence_length = 1;  // one token still takes a whole block
  q.block_size = 64;
  c = compare_memory(q);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->blocks_used, 1);
  EXPECT_EQ(c->paged_bytes, 64 * 22528);
}

TEST(MemoryMath, CapacityInThePool) {
  auto c = compare_memory(reference_query());
  ASSERT_TRUE(c);
  // Pool = 16,384 token slots: contiguous fits 16384 / 2048 = 8 sequences; paged 1024 / 8 = 128.
  EXPECT_EQ(c->sequences_fit_traditional, 8);
  EXPECT_EQ(c->sequences_fit_paged, 128);

  // A 1 GiB budget, 300-token sequences: contiguous 1 GiB / (2048 * 22528 B) = 23;
  // paged: 1 GiB / (16 * 22528) = 2978 blocks, / 19 blocks each = 156.
  const auto cap = kv_capacity(*find_preset("tinyllama-1.1b"), kBytesPerMiB * 1024, 300, 2048, 16);
  EXPECT_EQ(cap.contiguous_sequences, 23);
  EXPECT_EQ(cap.pool_blocks, 2978);
  EXPECT_EQ(cap.paged_sequences, 156);
}

TEST(MemoryMath, RoundingUpCanExceedMaxSeqLen) {
  // max_seq_len 100 with 16-token blocks: 100 tokens take 7 blocks = 112 slots > 100 reserved.
  auto q = reference_query();
  q.max_seq_len = 100;
  q.sequence_length = 100;
  auto c = compare_memory(q);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->saved_bytes, -12 * 22528);
}

TEST(MemoryMath, BadInputsNameTheirParameter) {
  struct Case {
    const char* param;
    void (*mutate)(MemoryQuery&);
  };
  const Case cases[] = {
      {"sequence_length", [](MemoryQuery& q) { q.sequence_length = 0; }},
      {"sequence_length", [](MemoryQuery& q) { q.sequence_length = -5; }},
      {"sequence_length", [](MemoryQuery& q) { q.sequence_length = 2049; }},
      {"max_seq_len", [](MemoryQuery& q) { q.max_seq_len = 0; }},
      {"max_seq_len", [](MemoryQuery& q) { q.max_seq_len = 4096; }},  // over TinyLlama's context
      {"block_size", [](MemoryQuery& q) { q.block_size = 0; }},
      {"num_blocks", [](MemoryQuery& q) { q.num_blocks = -1; }},
      {"num_blocks", [](MemoryQuery& q) { q.num_blocks = 7; }},  // 128 tokens need 8 blocks
      {"batch_size", [](MemoryQuery& q) { q.batch_size = 0; }},
      {"num_blocks", [](MemoryQuery& q) { q.batch_size = 200; }},  // 1600 blocks > 1024
      {"kv_dtype", [](MemoryQuery& q) { q.shape.kv_dtype = DType::Q4_0; }},
  };
  for (const Case& tc : cases) {
    auto q = reference_query();
    tc.mutate(q);
    auto c = compare_memory(q);
    ASSERT_FALSE(c) << tc.param;
    EXPECT_EQ(c.error().param, tc.param) << c.error().message;
    EXPECT_EQ(c.error().message.rfind(std::string(tc.param) + ":", 0), 0u) << c.error().message;
  }
}

TEST(MemoryMath, UnknownPreset) {
  auto s = find_preset("gpt-5");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().param, "model");
  EXPECT_NE(s.error().message.find("tinyllama-1.1b"), std::string::npos);  // lists the known ones
}

TEST(MemoryMath, PresetsAreValidShapes) {
  for (const auto& p : model_presets()) {
    EXPECT_TRUE(p.shape.validate()) << p.name;
    EXPECT_EQ(p.shape.name, p.name);
  }
  // TinyLlama-1.1B has about 1.1 billion parameters.
  const int64_t params = find_preset("tinyllama-1.1b")->parameter_count();
  EXPECT_EQ(params, 1100048384);
}

}  // namespace
}  // namespace helix
