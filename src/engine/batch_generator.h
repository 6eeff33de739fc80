// BatchGenerator: runs a set of generation requests together over one paged KV cache, one batched forward
// step at a time: first every prompt (prefill, in chunks), then one decode token per live sequence per step,
// each sequence taking a new block only when its last one is full and giving all back when it finishes.
// It is the engine core that `helix generate` and `helix bench` drive; the serving scheduler (admission,
// preemption, streaming) builds on the same pieces.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "common/result.h"
#include "kernels/thread_pool.h"
#include "kv/kv_cache_manager.h"
#include "kv/kv_storage.h"
#include "model/sampler.h"
#include "model/transformer.h"

namespace helix {

struct EngineOptions {
  int32_t block_size = 16;
  int64_t num_blocks = 0;        // 0: from kv_budget_mib
  int64_t kv_budget_mib = 0;     // 0 (and num_blocks 0): enough for max_seq_len tokens of 16 sequences
  DType kv_dtype = DType::F16;
  int threads = 0;               // 0: every core
  int64_t max_seq_len = 0;       // 0: the model's context length
  int64_t prefill_chunk_tokens = 512;  // longest prompt slice one step processes per sequence
  bool enable_prefix_caching = false;

  Status validate() const;  // errors name the flag ("--block-size: ...")
};

// The longest sequence the options allow for a model: max_seq_len, or the model's context length when 0.
Result<int64_t> resolve_max_seq_len(const ModelShape& shape, const EngineOptions& options);
// Blocks in the pool: num_blocks, else what kv_budget_mib holds (at the options' kv dtype), else enough for
// 16 sequences of max_seq_len.
Result<int64_t> resolve_pool_blocks(const ModelShape& shape, const EngineOptions& options, int64_t max_seq_len);

// What a fixed-batch generator needs besides its model: the paged pool (storage and its block manager),
// sized by resolve_pool_blocks, and the threads.
struct GeneratorResources {
  KvStorage storage;
  KvCacheManager kv;
  std::unique_ptr<ThreadPool> pool;
  int64_t max_seq_len = 0;
  int64_t num_blocks = 0;
};
Result<GeneratorResources> make_generator_resources(const ModelShape& shape, const EngineOptions& options);

struct GenerationRequest {
  std::vector<int32_t> prompt;  // token ids, BOS included when wanted
  int64_t max_new_tokens = 16;
  SamplingParams sampling;
  std::vector<int32_t> stop_ids;  // generation ends after emitting one of these (it is kept in the output)
};

enum class FinishReason { Length, Stop };

struct GenerationResult {
  std::vector<int32_t> tokens;  // generated ids
  FinishReason finish = FinishReason::Length;
};

struct GenerationStats {
  int64_t prompt_tokens = 0;
  int64_t generated_tokens = 0;
  double prompt_seconds = 0;     // steps that processed prompt tokens
  double decode_seconds = 0;     // steps that processed only generated tokens
  int32_t peak_blocks_used = 0;
  int64_t steps = 0;
  double prompt_tokens_per_second() const { return prompt_seconds > 0 ? prompt_tokens / prompt_seconds : 0; }
  double decode_tokens_per_second() const;
};

// Called after each sampled token: (request index, token id). Runs on the generating thread.
using TokenCallback = std::function<void(size_t request, int32_t token)>;

class BatchGenerator {
 public:
  static Result<std::unique_ptr<BatchGenerator>> create(std::unique_ptr<Transformer> model,
                                                        const EngineOptions& options);

  // Generates every request to completion. A request whose prompt plus max_new_tokens exceeds max_seq_len,
  // or a set that cannot fit in the pool at once, is refused with an error before anything runs.
  Result<std::vector<GenerationResult>> generate(std::span<const GenerationRequest> requests,
                                                 const TokenCallback& on_token = {});

  const Transformer& model() const { return *model_; }
  const KvStorage& storage() const { return storage_; }
  const KvCacheManager& kv() const { return kv_; }
  ThreadPool& pool() { return *pool_; }
  const GenerationStats& last_stats() const { return stats_; }
  int64_t max_seq_len() const { return max_seq_len_; }
  // Called once per forward step with the KV manager's state (tests and live views watch the blocks).
  void set_step_observer(std::function<void(const KvCacheManager&)> observer) { observer_ = std::move(observer); }

 private:
  BatchGenerator(std::unique_ptr<Transformer> model, KvStorage storage, KvCacheManager kv,
                 std::unique_ptr<ThreadPool> pool, int64_t max_seq_len, const EngineOptions& options);

  std::unique_ptr<Transformer> model_;
  KvStorage storage_;
  KvCacheManager kv_;
  std::unique_ptr<ThreadPool> pool_;
  std::vector<PagedKv> kv_layers_;
  int64_t max_seq_len_;
  EngineOptions options_;
  GenerationStats stats_;
  std::function<void(const KvCacheManager&)> observer_;
  int64_t next_seq_id_ = 0;
};

}  // namespace helix
