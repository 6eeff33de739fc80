#include "kv/kv_storage.h"

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "common/fp16.h"
#include "kv/kv_cache_manager.h"
#include "kv/memory_math.h"

namespace helix {
namespace {

ModelShape small_shape(DType dtype) {
  ModelShape s = *find_preset("stories260k");  // 5 layers, 8 heads, 4 KV heads, head_dim 8
  s.kv_dtype = dtype;
  return s;
}

TEST(KvStorage, BytesEqualTheMemoryArithmetic) {
  for (const char* preset : {"tinyllama-1.1b", "stories260k", "smollm2-135m"}) {
    for (DType dtype : {DType::F16, DType::F32}) {
      ModelShape shape = *find_preset(preset);
      shape.kv_dtype = dtype;
      MemoryQuery q;
      q.shape = shape;
      q.num_blocks = 64;
      q.block_size = 16;
      q.sequence_length = 16;
      q.max_seq_len = 16;
      const auto math = compare_memory(q);
      ASSERT_TRUE(math) << math.error().message;
      auto storage = KvStorage::create(shape, 64, 16);
      ASSERT_TRUE(storage) << storage.error().message;
      EXPECT_EQ(storage->bytes(), math->pool_bytes) << preset << " " << dtype_name(dtype);
      EXPECT_EQ(storage->bytes(), 64 * 16 * shape.kv_bytes_per_token());
      EXPECT_EQ(static_cast<int64_t>(storage->raw().size()), storage->bytes());
    }
  }
  // TinyLlama f16, 64 blocks of 16: 64 * 16 * 22,528 = 23,068,672 bytes; one block in one layer is
  // 2 * 4 heads * 16 slots * 64 * 2 B = 16,384 bytes.
  auto t = KvStorage::create(*find_preset("tinyllama-1.1b"), 64, 16);
  EXPECT_EQ(t->bytes(), 23068672);
  EXPECT_EQ(t->block_bytes(), 16384);
}

TEST(KvStorage, BlocksFromABudget) {
  const ModelShape tiny = *find_preset("tinyllama-1.1b");
  // One block = 16 * 22,528 = 360,448 bytes. 352 MiB = 369,098,752 bytes = 1024 blocks exactly.
  EXPECT_EQ(KvStorage::num_blocks_for_budget(tiny, 352, 16).value(), 1024);
  // 1 GiB / 360,448 = 2978.9: whole blocks only.
  EXPECT_EQ(KvStorage::num_blocks_for_budget(tiny, 1024, 16).value(), 2978);
  // 1 MiB / 360,448 = 2.9.
  EXPECT_EQ(KvStorage::num_blocks_for_budget(tiny, 1, 16).value(), 2);
  auto none = KvStorage::num_blocks_for_budget(tiny, 0, 16);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().param, "--kv-budget-mib");
  ModelShape big = *find_preset("llama-2-7b");  // 16 * 512 KiB = 8 MiB per block
  auto too_small = KvStorage::num_blocks_for_budget(big, 4, 16);
  ASSERT_FALSE(too_small);
  EXPECT_EQ(too_small.error().param, "--kv-budget-mib");
  EXPECT_NE(too_small.error().message.find("holds no block"), std::string::npos) << too_small.error().message;
}

TEST(KvStorage, RefusesWhatItCannotStore) {
  auto q8 = KvStorage::create(small_shape(DType::Q8_0), 4, 16);
  ASSERT_FALSE(q8);
  EXPECT_EQ(q8.error().param, "kv_dtype");
  auto none = KvStorage::create(small_shape(DType::F32), 0, 16);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().param, "--num-blocks");
  auto bad_block = KvStorage::create(small_shape(DType::F32), 4, 0);
  ASSERT_FALSE(bad_block);
  EXPECT_EQ(bad_block.error().param, "block_size");
}

TEST(KvStorage, StartsZeroed) {
  auto s = KvStorage::create(small_shape(DType::F16), 8, 4);
  ASSERT_TRUE(s);
  for (std::byte b : s->raw()) ASSERT_EQ(b, std::byte{0});
}

TEST(KvStorage, LayoutIsLayerBlockSideHeadSlot) {
  const ModelShape shape = small_shape(DType::F32);  // 5 layers, 4 KV heads, head_dim 8
  auto s = KvStorage::create(shape, 6, 4);
  ASSERT_TRUE(s);
  std::vector<float> k(32), v(32);
  for (int i = 0; i < 32; ++i) {
    k[static_cast<size_t>(i)] = static_cast<float>(i) + 0.5f;
    v[static_cast<size_t>(i)] = -static_cast<float>(i) - 0.25f;
  }
  s->write_token(3, BlockId{2}, 1, k, v);
  // row 32 B; half = 4 heads * 4 slots * 32 = 512 B; block 1024 B; layer 6 * 1024 = 6144 B.
  // K of head 1, dim 5 at layer 3, block 2, slot 1: 3*6144 + 2*1024 + (1*4 + 1)*32 + 5*4 = 20,660.
  float value = 0;
  std::memcpy(&value, s->raw().data() + 20660, 4);
  EXPECT_EQ(value, 13.5f);  // k[1 * 8 + 5]
  // V of the same: + 512 bytes.
  std::memcpy(&value, s->raw().data() + 20660 + 512, 4);
  EXPECT_EQ(value, -13.25f);
  const PagedKv view = s->layer(3);
  EXPECT_EQ(view.k - s->raw().data(), 3 * 6144);
  EXPECT_EQ(view.v - view.k, 512);
  EXPECT_EQ(view.block_stride_bytes, 1024);
  EXPECT_EQ(view.head_stride_bytes, 128);
  EXPECT_EQ(view.slot_stride_bytes, 32);
  // Nothing else was written.
  size_t nonzero = 0;
  for (std::byte b : s->raw()) nonzero += b != std::byte{0};
  EXPECT_LE(nonzero, 2u * 32 * 4);
  EXPECT_GT(nonzero, 0u);
}

TEST(KvStorage, F16RoundTripRoundsToNearest) {
  auto s = KvStorage::create(small_shape(DType::F16), 2, 2);
  ASSERT_TRUE(s);
  std::vector<float> k(32), v(32), k2(32), v2(32);
  for (int i = 0; i < 32; ++i) {
    k[static_cast<size_t>(i)] = 0.1f * static_cast<float>(i) - 1.3f;
    v[static_cast<size_t>(i)] = 1000.0f / static_cast<float>(i + 1);
  }
  s->write_token(4, BlockId{1}, 1, k, v);
  s->read_token(4, BlockId{1}, 1, k2, v2);
  for (size_t i = 0; i < 32; ++i) {
    EXPECT_EQ(k2[i], fp16_to_f32(f32_to_fp16(k[i])));
    EXPECT_EQ(v2[i], fp16_to_f32(f32_to_fp16(v[i])));
  }
}

// Distinct value per (sequence tag, position, layer, side, element).
float value_of(int tag, int64_t pos, int32_t layer, int side, size_t i) {
  return static_cast<float>(tag * 100000 + pos * 1000 + layer * 100 + side * 50) + static_cast<float>(i) * 0.5f;
}

void write_positions(KvStorage& s, const KvCacheManager& m, SeqId seq, int tag, int64_t from, int64_t to) {
  std::vector<float> k(32), v(32);
  for (int64_t pos = from; pos < to; ++pos) {
    const SlotRef at = m.slot_of(seq, pos).value();
    for (int32_t layer = 0; layer < s.n_layers(); ++layer) {
      for (size_t i = 0; i < 32; ++i) {
        k[i] = value_of(tag, pos, layer, 0, i);
        v[i] = value_of(tag, pos, layer, 1, i);
      }
      s.write_token(layer, at.block, at.slot, k, v);
    }
  }
}

// Every layer's K and V of positions [0, n) of seq read back as written under `tag_at(pos)`.
template <class TagAt>
void expect_positions(const KvStorage& s, const KvCacheManager& m, SeqId seq, int64_t n, TagAt tag_at) {
  std::vector<float> k(32), v(32);
  for (int64_t pos = 0; pos < n; ++pos) {
    const SlotRef at = m.slot_of(seq, pos).value();
    for (int32_t layer = 0; layer < s.n_layers(); ++layer) {
      s.read_token(layer, at.block, at.slot, k, v);
      for (size_t i = 0; i < 32; ++i) {
        ASSERT_EQ(k[i], value_of(tag_at(pos), pos, layer, 0, i)) << "seq " << seq.value << " pos " << pos;
        ASSERT_EQ(v[i], value_of(tag_at(pos), pos, layer, 1, i)) << "seq " << seq.value << " pos " << pos;
      }
    }
  }
}

TEST(KvStorage, CopyOnWriteLeavesTheOtherSequenceUntouched) {
  auto storage = KvStorage::create(small_shape(DType::F32), 8, 4);
  ASSERT_TRUE(storage);
  KvCacheConfig c;
  c.num_blocks = 8;
  c.block_size = 4;
  auto m = KvCacheManager::create(c, &*storage);
  ASSERT_TRUE(m);
  const SeqId a{1}, b{2};
  ASSERT_TRUE(m->add_sequence(a));
  ASSERT_TRUE(m->allocate_slots(a, 6));  // blocks 0 1; block 1 holds positions 4 5
  write_positions(*storage, *m, a, 1, 0, 6);
  ASSERT_TRUE(m->fork(a, b));
  const auto before = std::vector<std::byte>(storage->raw().begin(), storage->raw().end());

  auto r = m->allocate_slots(b, 2);  // b writes positions 6 7: block 1 is shared, so b gets a copy
  ASSERT_TRUE(r);
  ASSERT_EQ(r->copies.size(), 1u);
  EXPECT_EQ(r->copies[0].n_slots, 2);
  const BlockId copy = m->table(b)->block(1);
  EXPECT_NE(copy, m->table(a)->block(1));
  write_positions(*storage, *m, b, 2, 6, 8);

  // a's blocks are byte-for-byte what they were.
  for (int32_t i = 0; i < m->table(a)->num_blocks(); ++i) {
    const BlockId blk = m->table(a)->block(i);
    for (int32_t layer = 0; layer < storage->n_layers(); ++layer) {
      const size_t off = static_cast<size_t>(storage->layer(layer).k - storage->raw().data()) +
                         static_cast<size_t>(blk.value * storage->block_bytes());
      ASSERT_EQ(std::memcmp(before.data() + off, storage->raw().data() + off,
                            static_cast<size_t>(storage->block_bytes())),
                0)
          << "block " << blk.value << " layer " << layer;
    }
  }
  expect_positions(*storage, *m, a, 6, [](int64_t) { return 1; });
  // b sees the copied prefix, then its own tokens.
  expect_positions(*storage, *m, b, 8, [](int64_t pos) { return pos < 6 ? 1 : 2; });

  // a now holds block 1 alone and writes in place; b's copy does not change.
  r = m->allocate_slots(a, 1);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->copies.empty());
  write_positions(*storage, *m, a, 3, 6, 7);
  expect_positions(*storage, *m, a, 7, [](int64_t pos) { return pos < 6 ? 1 : 3; });
  expect_positions(*storage, *m, b, 8, [](int64_t pos) { return pos < 6 ? 1 : 2; });
}

// The engine's path end to end: tokens written through a manager's tables into KvStorage (blocks
// scattered by earlier churn), attention read through the same table, against a direct softmax.
TEST(KvStorage, PagedAttentionReadsWhatTheManagerWrote) {
  for (DType dtype : {DType::F32, DType::F16}) {
    const ModelShape shape = small_shape(dtype);  // 8 query heads over 4 KV heads
    auto storage = KvStorage::create(shape, 16, 4);
    ASSERT_TRUE(storage);
    KvCacheConfig c;
    c.num_blocks = 16;
    c.block_size = 4;
    auto m = KvCacheManager::create(c, &*storage);
    ASSERT_TRUE(m);
    // Churn: interleave two sequences so sequence 2's blocks are not contiguous.
    const SeqId junk{1}, seq{2};
    ASSERT_TRUE(m->add_sequence(junk));
    ASSERT_TRUE(m->add_sequence(seq));
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(m->allocate_slots(junk, 4));
      ASSERT_TRUE(m->allocate_slots(seq, 5));
    }
    ASSERT_TRUE(m->free_sequence(junk));
    const int64_t n = m->table(seq)->num_tokens();  // 25
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    std::vector<std::vector<float>> ks, vs;  // [pos][kv values] as stored
    std::vector<float> k(32), v(32), kr(32), vr(32);
    const int32_t layer = 2;
    for (int64_t pos = 0; pos < n; ++pos) {
      for (size_t i = 0; i < 32; ++i) {
        k[i] = u(rng);
        v[i] = u(rng);
      }
      const SlotRef at = m->slot_of(seq, pos).value();
      storage->write_token(layer, at.block, at.slot, k, v);
      storage->read_token(layer, at.block, at.slot, kr, vr);
      ks.push_back(kr);
      vs.push_back(vr);
    }
    std::vector<float> q(8 * 8), out(8 * 8);
    for (float& x : q) x = u(rng);
    AttentionQueries queries;
    queries.q = q;
    queries.n_heads = 8;
    queries.first_pos = n - 1;
    paged_attention(queries, storage->layer(layer), m->table(seq)->ids(), out);
    for (int h = 0; h < 8; ++h) {
      const int g = h / 2;
      std::vector<double> w(static_cast<size_t>(n));
      double mx = -1e300, sum = 0;
      for (int64_t t = 0; t < n; ++t) {
        double dot = 0;
        for (int d = 0; d < 8; ++d) dot += double{q[static_cast<size_t>(h * 8 + d)]} * ks[t][static_cast<size_t>(g * 8 + d)];
        w[static_cast<size_t>(t)] = dot / std::sqrt(8.0);
        mx = std::max(mx, w[static_cast<size_t>(t)]);
      }
      for (double& x : w) sum += (x = std::exp(x - mx));
      for (int d = 0; d < 8; ++d) {
        double o = 0;
        for (int64_t t = 0; t < n; ++t) o += w[static_cast<size_t>(t)] * vs[t][static_cast<size_t>(g * 8 + d)];
        EXPECT_NEAR(out[static_cast<size_t>(h * 8 + d)], o / sum, 1e-5) << dtype_name(dtype) << " head " << h;
      }
    }
  }
}

}  // namespace
}  // namespace helix
