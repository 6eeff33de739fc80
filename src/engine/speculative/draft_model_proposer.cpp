#include "engine/speculative/draft_model_proposer.h"

#include <algorithm>

#include <fmt/format.h>

namespace helix {

DraftModelProposer::DraftModelProposer(std::unique_ptr<Transformer> draft) : model_(std::move(draft)) {}

Status DraftModelProposer::prepare(const ProposerEnv& env) {
  if (env.pool == nullptr) return errorf("draft model: no thread pool");
  if (env.vocab_size != model_->shape().vocab_size)
    return errorf("draft model {}: vocabulary of {} tokens, the target has {}", model_->file().path,
                  model_->shape().vocab_size, env.vocab_size);
  ModelShape shape = model_->shape();
  shape.kv_dtype = env.kv_dtype;
  auto storage = KvStorage::create(shape, env.num_blocks, env.block_size);
  if (!storage) return with_context("draft model KV cache", storage.error());
  KvCacheConfig config;
  config.num_blocks = static_cast<int32_t>(env.num_blocks);
  config.block_size = env.block_size;
  config.enable_prefix_caching = false;
  auto kv = KvCacheManager::create(config);
  if (!kv) return with_context("draft model KV cache", kv.error());
  env_ = env;
  storage_.emplace(std::move(*storage));
  kv_.emplace(std::move(*kv));
  kv_layers_.clear();
  for (int32_t l = 0; l < storage_->n_layers(); ++l) kv_layers_.push_back(storage_->layer(l));
  seqs_.clear();
  return {};
}

Status DraftModelProposer::add_sequence(SeqId seq, const SamplingParams& sampling) {
  if (!kv_) return errorf("draft model: prepare() was not called");
  HELIX_TRY(kv_->add_sequence(seq));
  SamplingParams draft_sampling = sampling;
  // The draft's draws must not replay the target's: a generator of its own, still fixed by the seed.
  draft_sampling.seed = sampling.seed ^ 0x5deece66d2b79f3bull;
  seqs_.emplace(seq, SeqState(draft_sampling));
  return {};
}

int64_t DraftModelProposer::cached_tokens(SeqId seq) const {
  auto it = seqs_.find(seq);
  return it == seqs_.end() ? 0 : it->second.computed;
}

Status DraftModelProposer::propose(std::span<const ProposeRequest> requests, std::vector<Proposal>& out) {
  out.assign(requests.size(), {});
  struct Work {
    size_t request;
    SeqState* state;
    SeqId seq;
    std::vector<int32_t> history;  // context, then the drafts drawn so far
    int32_t k;
    int64_t fed = 0;               // tokens this round's step feeds
  };
  std::vector<Work> work;
  work.reserve(requests.size());
  const int64_t max_positions = model_->shape().context_length;
  for (size_t i = 0; i < requests.size(); ++i) {
    const ProposeRequest& r = requests[i];
    auto it = seqs_.find(r.seq);
    HELIX_CHECK(it != seqs_.end(), "draft model: propose for unknown sequence {}", r.seq.value);
    SeqState& st = it->second;
    const int64_t len = static_cast<int64_t>(r.context.size());
    HELIX_CHECK(st.computed < len, "draft model: sequence {} caches {} tokens of a {}-token context", r.seq.value,
                st.computed, len);
    st.context_len = len;
    // Drafting writes positions up to len + k - 2; stay inside the draft's context (it may be shorter than the
    // target's).
    const int64_t k = std::min<int64_t>(r.k, max_positions - len + 1);
    if (k < 1) continue;
    work.push_back(Work{i, &st, r.seq, std::vector<int32_t>(r.context.begin(), r.context.end()), static_cast<int32_t>(k)});
  }

  std::vector<SequenceStep> batch;
  std::vector<Work*> batch_work;
  for (;;) {
    batch.clear();
    batch_work.clear();
    for (Work& w : work) {
      if (static_cast<int64_t>(out[w.request].tokens.size()) >= w.k) continue;
      const int64_t pending = static_cast<int64_t>(w.history.size()) - w.state->computed;
      w.fed = std::min(pending, env_.prefill_chunk_tokens);
      auto alloc = kv_->allocate_slots(w.seq, w.fed);
      if (!alloc) return with_context("draft model KV cache", alloc.error());
      SequenceStep step;
      step.tokens = std::span<const int32_t>(w.history).subspan(w.state->computed, w.fed);
      step.start_pos = w.state->computed;
      step.block_table = kv_->table(w.seq)->ids();
      batch.push_back(step);
      batch_work.push_back(&w);
    }
    if (batch.empty()) break;
    model_->forward(batch, kv_layers_, *env_.pool, logits_);
    ++forward_passes_;
    peak_blocks_used_ = std::max(peak_blocks_used_, kv_->num_used_blocks());
    const int64_t vocab = model_->shape().vocab_size;
    for (size_t b = 0; b < batch_work.size(); ++b) {
      Work& w = *batch_work[b];
      w.state->computed += w.fed;
      if (w.state->computed < static_cast<int64_t>(w.history.size())) continue;  // prompt still catching up
      std::span<float> row(&logits_[b * vocab], vocab);
      Proposal& p = out[w.request];
      Sampler& sampler = w.state->sampler;
      int32_t token;
      if (sampler.params().greedy()) {
        token = sampler.sample(row, w.history);
      } else {
        p.dists.push_back(sampler.distribution(row, w.history));
        token = sampler.draw(p.dists.back());
      }
      p.tokens.push_back(token);
      w.history.push_back(token);
    }
  }
  return {};
}

void DraftModelProposer::on_accept(SeqId seq, int32_t n_accepted) {
  auto it = seqs_.find(seq);
  HELIX_CHECK(it != seqs_.end(), "draft model: on_accept for unknown sequence {}", seq.value);
  SeqState& st = it->second;
  // The context plus the kept drafts is still valid; rejected drafts (and the fed draft after them) are not.
  const int64_t keep = std::min(st.computed, st.context_len + n_accepted);
  auto status = kv_->truncate(seq, keep);
  HELIX_CHECK(status.has_value(), "draft model: truncate failed: {}", status.error().message);
  st.computed = keep;
}

void DraftModelProposer::remove_sequence(SeqId seq) {
  if (seqs_.erase(seq) == 0) return;
  auto status = kv_->free_sequence(seq);
  HELIX_CHECK(status.has_value(), "draft model: free_sequence failed: {}", status.error().message);
}

}  // namespace helix
