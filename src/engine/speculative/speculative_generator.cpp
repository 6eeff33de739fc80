#include "engine/speculative/speculative_generator.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "engine/speculative/draft_verifier.h"

namespace helix {

Status SpeculativeOptions::validate() const {
  if (num_spec_tokens < 1 || num_spec_tokens > 32)
    return make_error(fmt::format("--spec-tokens: must be between 1 and 32, got {}", num_spec_tokens),
                      "num_spec_tokens");
  return {};
}

Result<std::unique_ptr<SpeculativeGenerator>> SpeculativeGenerator::create(std::unique_ptr<Transformer> target,
                                                                           std::unique_ptr<Proposer> proposer,
                                                                           const EngineOptions& options,
                                                                           const SpeculativeOptions& spec) {
  HELIX_TRY(options.validate());
  HELIX_TRY(spec.validate());
  if (!proposer) return errorf("speculative decoding: no proposer");
  // The pool as BatchGenerator sizes it, so a speculative run and a plain one hold the same blocks.
  auto r = make_generator_resources(target->shape(), options);
  HELIX_TRY(r);
  ProposerEnv env;
  env.pool = r->pool.get();
  env.block_size = options.block_size;
  env.num_blocks = r->num_blocks;
  env.kv_dtype = options.kv_dtype;
  env.prefill_chunk_tokens = options.prefill_chunk_tokens;
  env.vocab_size = target->shape().vocab_size;
  HELIX_TRY(proposer->prepare(env));
  return std::unique_ptr<SpeculativeGenerator>(new SpeculativeGenerator(std::move(target), std::move(r->storage),
                                                                        std::move(r->kv), std::move(r->pool),
                                                                        std::move(proposer), r->max_seq_len, options, spec));
}

SpeculativeGenerator::SpeculativeGenerator(std::unique_ptr<Transformer> model, KvStorage storage, KvCacheManager kv,
                                           std::unique_ptr<ThreadPool> pool, std::unique_ptr<Proposer> proposer,
                                           int64_t max_seq_len, const EngineOptions& options,
                                           const SpeculativeOptions& spec)
    : model_(std::move(model)),
      storage_(std::move(storage)),
      kv_(std::move(kv)),
      pool_(std::move(pool)),
      proposer_(std::move(proposer)),
      max_seq_len_(max_seq_len),
      options_(options),
      spec_(spec) {
  for (int32_t l = 0; l < storage_.n_layers(); ++l) kv_layers_.push_back(storage_.layer(l));
}

namespace {

struct SpecSequence {
  SeqId id;
  size_t request = 0;
  std::vector<int32_t> tokens;  // prompt + generated so far
  int64_t computed = 0;         // tokens whose K/V are in the target cache
  int64_t prompt_len = 0;
  bool done = false;
  int64_t prefill_steps = 0;
  int64_t decode_tokens = 0;
  Proposal proposal;                  // this step's drafts
  bool asked = false;                 // the proposer was asked this step (it then expects on_accept)
  std::vector<int32_t> step_tokens;   // this step's verification input: last token + drafts
};

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

}  // namespace

Result<std::vector<GenerationResult>> SpeculativeGenerator::generate(std::span<const GenerationRequest> requests,
                                                                     const TokenCallback& on_token) {
  const int64_t bs = options_.block_size;
  const int64_t vocab = model_->shape().vocab_size;
  int64_t blocks_needed = 0;
  for (size_t i = 0; i < requests.size(); ++i) {
    const auto& r = requests[i];
    if (r.prompt.empty()) return errorf("request {}: prompt: empty (at least one token, e.g. BOS)", i);
    if (r.max_new_tokens < 1) return errorf("request {}: max_new_tokens: must be >= 1", i);
    HELIX_TRY(r.sampling.validate());
    for (int32_t t : r.prompt)
      if (t < 0 || t >= vocab) return errorf("request {}: prompt token {} outside the vocabulary of {}", i, t, vocab);
    // A verification never writes past the slot of the last token a plain run feeds back (drafts are capped at
    // the tokens still to generate, minus the one the target adds), so the plain run's bound holds.
    const int64_t slots = static_cast<int64_t>(r.prompt.size()) + r.max_new_tokens - 1;
    if (slots > max_seq_len_)
      return errorf("request {}: prompt ({} tokens) + max_new_tokens ({}) exceeds max_seq_len {}", i, r.prompt.size(),
                    r.max_new_tokens, max_seq_len_);
    blocks_needed += (slots + bs - 1) / bs;
  }
  if (blocks_needed > kv_.num_free_blocks())
    return errorf("kv cache: these {} sequences need up to {} blocks of {} tokens, {} are free of {} "
                  "(raise --num-blocks or --kv-budget-mib)",
                  requests.size(), blocks_needed, bs, kv_.num_free_blocks(), kv_.num_total_blocks());

  const int32_t k_max = spec_.num_spec_tokens;
  stats_ = {};
  stats_.spec_tokens = k_max;
  stats_.accepted_histogram.assign(k_max + 1, 0);
  stats_.timeline.assign(requests.size(), {});
  std::vector<GenerationResult> results(requests.size());
  std::vector<SpecSequence> live;
  std::vector<Sampler> samplers;
  live.reserve(requests.size());
  // Releases everything still held when a step fails, so the caches stay usable.
  auto release_all = [&] {
    for (SpecSequence& s : live) {
      if (s.done) continue;
      s.done = true;
      HELIX_CHECK(kv_.free_sequence(s.id).has_value(), "free_sequence failed");
      proposer_->remove_sequence(s.id);
    }
  };
  for (size_t i = 0; i < requests.size(); ++i) {
    SpecSequence s;
    s.id = SeqId{next_seq_id_++};
    s.request = i;
    s.tokens = requests[i].prompt;
    s.prompt_len = static_cast<int64_t>(requests[i].prompt.size());
    HELIX_TRY(kv_.add_sequence(s.id));
    if (auto st = proposer_->add_sequence(s.id, requests[i].sampling); !st) {
      HELIX_CHECK(kv_.free_sequence(s.id).has_value(), "free_sequence failed");
      release_all();
      return Unexpected{st.error()};
    }
    live.push_back(std::move(s));
    samplers.emplace_back(requests[i].sampling);
    stats_.prompt_tokens += static_cast<int64_t>(requests[i].prompt.size());
  }

  // Appends a generated token; true when it ends the sequence (which then gives back all its blocks).
  auto emit = [&](SpecSequence& s, int32_t token, TokenSource source) {
    const GenerationRequest& req = requests[s.request];
    GenerationResult& out = results[s.request];
    out.tokens.push_back(token);
    stats_.timeline[s.request].push_back(source);
    ++stats_.generated_tokens;
    if (on_token) on_token(s.request, token);
    const bool stop = std::find(req.stop_ids.begin(), req.stop_ids.end(), token) != req.stop_ids.end();
    if (stop || static_cast<int64_t>(out.tokens.size()) >= req.max_new_tokens) {
      out.finish = stop ? FinishReason::Stop : FinishReason::Length;
      s.done = true;
      HELIX_CHECK(kv_.free_sequence(s.id).has_value(), "free_sequence failed");
      proposer_->remove_sequence(s.id);
      return true;
    }
    s.tokens.push_back(token);
    return false;
  };

  const int64_t proposer_forwards_before = proposer_->forward_passes();
  std::vector<ProposeRequest> propose_requests;
  std::vector<size_t> propose_seq;
  std::vector<Proposal> proposals;
  std::vector<SequenceStep> batch;
  std::vector<size_t> batch_seq;
  std::vector<float> logits;
  std::vector<VerifyRecord> records;
  for (;;) {
    const auto t0 = Clock::now();
    // Sequences past their prompt verify drafts; a sequence needing n more tokens takes at most n - 1 drafts
    // (the target adds one), so no step overshoots max_new_tokens.
    propose_requests.clear();
    propose_seq.clear();
    for (size_t i = 0; i < live.size(); ++i) {
      SpecSequence& s = live[i];
      s.proposal = {};
      s.asked = false;
      if (s.done || s.computed < s.prompt_len) continue;
      const int64_t remaining = requests[s.request].max_new_tokens - static_cast<int64_t>(results[s.request].tokens.size());
      const int32_t k = static_cast<int32_t>(std::min<int64_t>(k_max, remaining - 1));
      if (k < 1) continue;
      propose_requests.push_back(ProposeRequest{s.id, s.tokens, k});
      propose_seq.push_back(i);
      s.asked = true;
    }
    if (!propose_requests.empty()) {
      const auto tp = Clock::now();
      if (auto st = proposer_->propose(propose_requests, proposals); !st) {
        release_all();
        return Unexpected{st.error()};
      }
      stats_.propose_seconds += seconds_since(tp);
      HELIX_CHECK(proposals.size() == propose_requests.size(), "proposer answered {} of {} requests",
                  proposals.size(), propose_requests.size());
      for (size_t j = 0; j < proposals.size(); ++j) {
        Proposal& p = proposals[j];
        HELIX_CHECK(static_cast<int32_t>(p.tokens.size()) <= propose_requests[j].k, "{} drafts, {} asked for",
                    p.tokens.size(), propose_requests[j].k);
        HELIX_CHECK(p.dists.empty() || p.dists.size() == p.tokens.size(), "{} draft distributions for {} drafts",
                    p.dists.size(), p.tokens.size());
        for (int32_t t : p.tokens) HELIX_CHECK(t >= 0 && t < vocab, "draft token {} outside the vocabulary", t);
        live[propose_seq[j]].proposal = std::move(p);
      }
      if (const KvCacheManager* dkv = proposer_->kv())
        stats_.peak_draft_blocks = std::max(stats_.peak_draft_blocks, dkv->num_used_blocks());
    }

    // One target forward: prompt chunks, and [last token + drafts] with a logits row per token.
    batch.clear();
    batch_seq.clear();
    bool has_prompt_tokens = false;
    for (size_t i = 0; i < live.size(); ++i) {
      SpecSequence& s = live[i];
      if (s.done) continue;
      SequenceStep step;
      step.start_pos = s.computed;
      if (s.computed < s.prompt_len) {
        const int64_t n = std::min(s.prompt_len - s.computed, options_.prefill_chunk_tokens);
        step.tokens = std::span<const int32_t>(s.tokens).subspan(s.computed, n);
        has_prompt_tokens = true;
        ++s.prefill_steps;
      } else {
        s.step_tokens.assign(1, s.tokens.back());
        s.step_tokens.insert(s.step_tokens.end(), s.proposal.tokens.begin(), s.proposal.tokens.end());
        step.tokens = s.step_tokens;
        step.all_logits = true;
      }
      auto alloc = kv_.allocate_slots(s.id, static_cast<int64_t>(step.tokens.size()));
      HELIX_CHECK(alloc.has_value(), "blocks were reserved up front: {}", alloc.error().message);
      step.block_table = kv_.table(s.id)->ids();
      batch.push_back(step);
      batch_seq.push_back(i);
    }
    if (batch.empty()) break;

    const int64_t rows = model_->forward(batch, kv_layers_, *pool_, logits);
    ++stats_.target_forwards;
    if (has_prompt_tokens) ++stats_.prefill_forwards;
    stats_.peak_target_blocks = std::max(stats_.peak_target_blocks, kv_.num_used_blocks());

    records.clear();
    int64_t row = 0;
    for (size_t b = 0; b < batch.size(); ++b) {
      SpecSequence& s = live[batch_seq[b]];
      Sampler& sampler = samplers[s.request];
      auto row_span = [&](int64_t r) { return std::span<float>(&logits[r * vocab], vocab); };
      if (!batch[b].all_logits) {  // a prompt chunk: one row, for its last token
        const int64_t r = row++;
        s.computed += static_cast<int64_t>(batch[b].tokens.size());
        if (s.computed < s.prompt_len) continue;
        emit(s, sampler.sample(row_span(r), s.tokens), TokenSource::Target);
        continue;
      }

      const int64_t first_row = row;
      const int32_t k = static_cast<int32_t>(s.proposal.tokens.size());
      row += k + 1;
      VerifyRecord rec;
      if (observer_) {
        rec.request = s.request;
        rec.seq = s.id;
        rec.start_pos = s.computed;
        rec.proposed = k;
        const auto ids = kv_.table(s.id)->ids();
        rec.blocks_before.assign(ids.begin(), ids.end());
      }
      const int64_t context_len = static_cast<int64_t>(s.tokens.size());
      s.computed += k + 1;
      const VerifiedTokens verified =
          verify_drafts(std::span<float>(&logits[first_row * vocab], (k + 1) * vocab), vocab, s.proposal, s.tokens, sampler);
      // Emit in order; a stop token or the length limit ends the sequence there (the rest is dropped).
      int32_t accepted = 0;
      bool finished = false;
      int64_t produced = 0;
      for (size_t i = 0; i < verified.tokens.size() && !finished; ++i) {
        const bool is_draft = static_cast<int32_t>(i) < verified.accepted;
        accepted += is_draft;
        ++produced;
        finished = emit(s, verified.tokens[i], is_draft ? TokenSource::Draft : TokenSource::Target);
      }
      stats_.proposed += k;
      stats_.accepted += accepted;
      if (k > 0) {
        ++stats_.verifications;
        ++stats_.accepted_histogram[accepted];
      } else {
        ++stats_.undrafted_steps;
      }
      s.decode_tokens += produced;
      stats_.decode_tokens += produced;
      if (!finished) {
        // Keep the context and the accepted drafts; the token the target added is fed next step.
        const int64_t keep = context_len + accepted;
        auto st = kv_.truncate(s.id, keep);
        HELIX_CHECK(st.has_value(), "truncate failed: {}", st.error().message);
        s.computed = keep;
        if (s.asked) proposer_->on_accept(s.id, accepted);
      }
      if (observer_) {
        rec.accepted = accepted;
        rec.finished = finished;
        rec.kept_tokens = finished ? 0 : s.computed;
        if (!finished) {
          const auto ids = kv_.table(s.id)->ids();
          rec.blocks_after.assign(ids.begin(), ids.end());
        }
        records.push_back(std::move(rec));
      }
    }
    HELIX_CHECK(row == rows, "forward gave {} logits rows, the batch asked for {}", rows, row);
    (has_prompt_tokens ? stats_.prompt_seconds : stats_.decode_seconds) += seconds_since(t0);
    if (observer_ && !records.empty()) observer_(records, kv_);
  }
  for (const SpecSequence& s : live)
    stats_.plain_forwards = std::max(stats_.plain_forwards, s.prefill_steps + s.decode_tokens);
  stats_.proposer_forwards = proposer_->forward_passes() - proposer_forwards_before;
  return results;
}

}  // namespace helix
