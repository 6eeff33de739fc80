#include "engine/batch_generator.h"

#include <algorithm>
#include <thread>

#include <fmt/format.h>

namespace helix {

double GenerationStats::decode_tokens_per_second() const {
  // The first token of each sequence comes out of its prefill step; decode steps produce the rest.
  return decode_seconds > 0 ? static_cast<double>(generated_tokens) / decode_seconds : 0;
}

Status EngineOptions::validate() const {
  if (block_size < 1 || block_size > 4096)
    return make_error(fmt::format("--block-size: must be between 1 and 4096, got {}", block_size), "block_size");
  if (num_blocks < 0) return make_error(fmt::format("--num-blocks: must be > 0, got {}", num_blocks), "num_blocks");
  if (kv_budget_mib < 0)
    return make_error(fmt::format("--kv-budget-mib: must be > 0, got {}", kv_budget_mib), "kv_budget_mib");
  if (kv_dtype != DType::F32 && kv_dtype != DType::F16)
    return make_error(fmt::format("--kv-dtype: the engine stores f32 or f16, got {}", dtype_name(kv_dtype)),
                      "kv_dtype");
  if (threads < 0 || threads > 1024)
    return make_error(fmt::format("--threads: must be between 1 and 1024, got {}", threads), "threads");
  if (prefill_chunk_tokens < 1)
    return make_error("--prefill-chunk: must be > 0", "prefill_chunk_tokens");
  return {};
}

Result<int64_t> resolve_max_seq_len(const ModelShape& shape, const EngineOptions& options) {
  const int64_t max_seq_len = options.max_seq_len > 0 ? options.max_seq_len : shape.context_length;
  if (max_seq_len > shape.context_length)
    return make_error(fmt::format("--max-seq-len: {} is over the model's context length {}", max_seq_len,
                                  shape.context_length),
                      "max_seq_len");
  return max_seq_len;
}

Result<int64_t> resolve_pool_blocks(const ModelShape& model_shape, const EngineOptions& options, int64_t max_seq_len) {
  ModelShape shape = model_shape;
  shape.kv_dtype = options.kv_dtype;
  int64_t num_blocks = options.num_blocks;
  if (num_blocks == 0 && options.kv_budget_mib > 0) {
    auto n = KvStorage::num_blocks_for_budget(shape, options.kv_budget_mib, options.block_size);
    HELIX_TRY(n);
    num_blocks = *n;
  }
  if (num_blocks == 0) num_blocks = 16 * ((max_seq_len + options.block_size - 1) / options.block_size);
  return num_blocks;
}

Result<GeneratorResources> make_generator_resources(const ModelShape& model_shape, const EngineOptions& options) {
  HELIX_TRY(options.validate());
  ModelShape shape = model_shape;
  shape.kv_dtype = options.kv_dtype;
  auto max_seq_len = resolve_max_seq_len(shape, options);
  HELIX_TRY(max_seq_len);
  auto num_blocks = resolve_pool_blocks(shape, options, *max_seq_len);
  HELIX_TRY(num_blocks);
  auto storage = KvStorage::create(shape, *num_blocks, options.block_size);
  HELIX_TRY(storage);
  KvCacheConfig kv_config;
  kv_config.num_blocks = static_cast<int32_t>(*num_blocks);
  kv_config.block_size = options.block_size;
  kv_config.enable_prefix_caching = options.enable_prefix_caching;
  auto kv = KvCacheManager::create(kv_config);
  HELIX_TRY(kv);
  const int threads = options.threads > 0 ? options.threads : static_cast<int>(std::thread::hardware_concurrency());
  return GeneratorResources{std::move(*storage), std::move(*kv), std::make_unique<ThreadPool>(std::max(1, threads)),
                            *max_seq_len, *num_blocks};
}

Result<std::unique_ptr<BatchGenerator>> BatchGenerator::create(std::unique_ptr<Transformer> model,
                                                               const EngineOptions& options) {
  auto r = make_generator_resources(model->shape(), options);
  HELIX_TRY(r);
  return std::unique_ptr<BatchGenerator>(new BatchGenerator(std::move(model), std::move(r->storage), std::move(r->kv),
                                                            std::move(r->pool), r->max_seq_len, options));
}

BatchGenerator::BatchGenerator(std::unique_ptr<Transformer> model, KvStorage storage, KvCacheManager kv,
                               std::unique_ptr<ThreadPool> pool, int64_t max_seq_len, const EngineOptions& options)
    : model_(std::move(model)),
      storage_(std::move(storage)),
      kv_(std::move(kv)),
      pool_(std::move(pool)),
      max_seq_len_(max_seq_len),
      options_(options) {
  for (int32_t l = 0; l < storage_.n_layers(); ++l) kv_layers_.push_back(storage_.layer(l));
}

namespace {

struct LiveSequence {
  SeqId id;
  size_t request;
  std::vector<int32_t> tokens;  // prompt + generated so far
  int64_t computed = 0;         // tokens whose K/V are in the cache
  int64_t prompt_len = 0;
  bool done = false;
};

}  // namespace

Result<std::vector<GenerationResult>> BatchGenerator::generate(std::span<const GenerationRequest> requests,
                                                               const TokenCallback& on_token) {
  const int64_t bs = options_.block_size;
  int64_t blocks_needed = 0;
  for (size_t i = 0; i < requests.size(); ++i) {
    const auto& r = requests[i];
    if (r.prompt.empty()) return errorf("request {}: prompt: empty (at least one token, e.g. BOS)", i);
    if (r.max_new_tokens < 1) return errorf("request {}: max_new_tokens: must be >= 1", i);
    HELIX_TRY(r.sampling.validate());
    for (int32_t t : r.prompt)
      if (t < 0 || t >= model_->shape().vocab_size)
        return errorf("request {}: prompt token {} outside the vocabulary of {}", i, t, model_->shape().vocab_size);
    // The last generated token is never fed back, so it needs no slot.
    const int64_t slots = static_cast<int64_t>(r.prompt.size()) + r.max_new_tokens - 1;
    if (slots > max_seq_len_)
      return errorf("request {}: prompt ({} tokens) + max_new_tokens ({}) exceeds max_seq_len {}", i,
                    r.prompt.size(), r.max_new_tokens, max_seq_len_);
    blocks_needed += (slots + bs - 1) / bs;
  }
  if (blocks_needed > kv_.num_free_blocks())
    return errorf("kv cache: these {} sequences need up to {} blocks of {} tokens, {} are free of {} "
                  "(raise --num-blocks or --kv-budget-mib)",
                  requests.size(), blocks_needed, bs, kv_.num_free_blocks(), kv_.num_total_blocks());

  stats_ = {};
  std::vector<GenerationResult> results(requests.size());
  std::vector<LiveSequence> live;
  std::vector<Sampler> samplers;
  for (size_t i = 0; i < requests.size(); ++i) {
    LiveSequence s{SeqId{next_seq_id_++}, i, requests[i].prompt, 0, static_cast<int64_t>(requests[i].prompt.size())};
    HELIX_TRY(kv_.add_sequence(s.id));
    live.push_back(std::move(s));
    samplers.emplace_back(requests[i].sampling);
    stats_.prompt_tokens += static_cast<int64_t>(requests[i].prompt.size());
  }

  std::vector<SequenceStep> batch;
  std::vector<size_t> batch_seq;
  std::vector<float> logits;
  const int64_t vocab = model_->shape().vocab_size;
  for (;;) {
    // Each live sequence contributes its uncomputed tokens: a prompt chunk, or the one token sampled last.
    batch.clear();
    batch_seq.clear();
    bool has_prompt_tokens = false;
    for (size_t i = 0; i < live.size(); ++i) {
      LiveSequence& s = live[i];
      if (s.done) continue;
      const int64_t pending = static_cast<int64_t>(s.tokens.size()) - s.computed;
      const int64_t n = std::min(pending, options_.prefill_chunk_tokens);
      auto alloc = kv_.allocate_slots(s.id, n);
      HELIX_CHECK(alloc.has_value(), "blocks were reserved up front: {}", alloc.error().message);
      has_prompt_tokens |= s.computed < s.prompt_len;
      SequenceStep step;
      step.tokens = std::span<const int32_t>(s.tokens).subspan(s.computed, n);
      step.start_pos = s.computed;
      step.block_table = kv_.table(s.id)->ids();
      batch.push_back(step);
      batch_seq.push_back(i);
    }
    if (batch.empty()) break;

    const auto t0 = std::chrono::steady_clock::now();
    model_->forward(batch, kv_layers_, *pool_, logits);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    (has_prompt_tokens ? stats_.prompt_seconds : stats_.decode_seconds) += seconds;
    ++stats_.steps;
    stats_.peak_blocks_used = std::max(stats_.peak_blocks_used, kv_.num_used_blocks());
    if (observer_) observer_(kv_);

    for (size_t b = 0; b < batch.size(); ++b) {
      LiveSequence& s = live[batch_seq[b]];
      s.computed += static_cast<int64_t>(batch[b].tokens.size());
      if (s.computed < static_cast<int64_t>(s.tokens.size())) continue;  // prompt not finished yet
      const GenerationRequest& req = requests[s.request];
      std::span<float> row(&logits[b * vocab], vocab);
      const int32_t token = samplers[s.request].sample(row, s.tokens);
      GenerationResult& out = results[s.request];
      out.tokens.push_back(token);
      if (s.computed > s.prompt_len) ++stats_.generated_tokens;
      if (on_token) on_token(s.request, token);
      const bool stop = std::find(req.stop_ids.begin(), req.stop_ids.end(), token) != req.stop_ids.end();
      if (stop || static_cast<int64_t>(out.tokens.size()) >= req.max_new_tokens) {
        out.finish = stop ? FinishReason::Stop : FinishReason::Length;
        s.done = true;
        HELIX_CHECK(kv_.free_sequence(s.id).has_value(), "free_sequence failed");
      } else {
        s.tokens.push_back(token);
      }
    }
  }
  return results;
}

}  // namespace helix
