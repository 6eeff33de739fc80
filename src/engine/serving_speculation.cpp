// ServingEngineImpl's speculative decoding: before a step, decoding sequences that speculate get drafts from
// their proposer (appended to their tokens, so the scheduler budgets and allocates for them); after the step's
// one forward, each sequence keeps its longest accepted prefix plus one target token, its block table is cut
// back to the kept tokens (freeing blocks that held only rejected drafts) and the proposer is told. Only then
// are full blocks registered for prefix caching, so no cached block holds a rejected draft.
#include <algorithm>

#include <spdlog/spdlog.h>

#include "engine/serving_engine_impl.h"
#include "engine/speculative/draft_verifier.h"

namespace helix {

Proposer* ServingEngineImpl::proposer_for(SpecMethod method) {
  switch (method) {
    case SpecMethod::Ngram: return &ngram_;
    case SpecMethod::Draft: return draft_.get();
    case SpecMethod::None: break;
  }
  return nullptr;
}

void ServingEngineImpl::drop_from_proposer(Sequence& seq) {
  seq.proposed = false;
  if (!seq.in_proposer) return;
  seq.in_proposer = false;
  if (Proposer* p = proposer_for(seq.request->spec)) p->remove_sequence(seq.id);
}

void ServingEngineImpl::propose_drafts() {
  std::vector<ProposeRequest> requests;
  std::vector<Sequence*> seqs;
  std::vector<Proposal> proposals;
  for (SpecMethod method : {SpecMethod::Ngram, SpecMethod::Draft}) {
    Proposer* proposer = proposer_for(method);
    if (!proposer) continue;
    requests.clear();
    seqs.clear();
    for (Sequence* seq : scheduler_->running()) {
      const Request& r = *seq->request;
      // Only a sequence decoding (its one pending token is the last sampled) verifies drafts.
      if (r.spec != method || seq->forks_pending > 0 || seq->generated == 0 || seq->pending_tokens() != 1) continue;
      // The target adds a token after the drafts: never draft past max_tokens.
      const int64_t k = std::min<int64_t>(r.spec_tokens, r.params.max_tokens - seq->generated - 1);
      if (k < 1) continue;
      if (!seq->in_proposer) {
        if (auto st = proposer->add_sequence(seq->id, seq->sampler.params()); !st) {
          spdlog::warn("speculative decoding ({}): sequence {}: {}", proposer->name(), seq->id.value,
                       st.error().message);
          continue;
        }
        seq->in_proposer = true;
      }
      requests.push_back(ProposeRequest{seq->id, seq->tokens, static_cast<int32_t>(k)});
      seqs.push_back(seq);
    }
    if (requests.empty()) continue;
    if (auto st = proposer->propose(requests, proposals); !st) {
      // A full draft pool (each of n choices holds its own prompt there) costs the speculation, not the request:
      // those sequences decode plainly this step and their draft state starts over.
      // Warned once: under cache pressure this can happen every step.
      const auto level = propose_failure_warned_ ? spdlog::level::debug : spdlog::level::warn;
      propose_failure_warned_ = true;
      spdlog::log(level, "speculative decoding ({}): {}; {} sequences decode without drafts this step",
                  proposer->name(), st.error().message, seqs.size());
      for (Sequence* seq : seqs) drop_from_proposer(*seq);
      continue;
    }
    HELIX_CHECK(proposals.size() == requests.size(), "proposer {} answered {} of {} requests", proposer->name(),
                proposals.size(), requests.size());
    const int64_t vocab = model_->shape().vocab_size;
    for (size_t j = 0; j < seqs.size(); ++j) {
      Sequence& seq = *seqs[j];
      Proposal& p = proposals[j];
      HELIX_CHECK(static_cast<int32_t>(p.tokens.size()) <= requests[j].k, "{} drafts, {} asked for", p.tokens.size(),
                  requests[j].k);
      HELIX_CHECK(p.dists.empty() || p.dists.size() == p.tokens.size(), "{} draft distributions for {} drafts",
                  p.dists.size(), p.tokens.size());
      for (int32_t t : p.tokens) HELIX_CHECK(t >= 0 && t < vocab, "draft token {} outside the vocabulary", t);
      seq.proposal = std::move(p);
      seq.proposed = true;
      seq.drafts = static_cast<int32_t>(seq.proposal.tokens.size());
      seq.tokens.insert(seq.tokens.end(), seq.proposal.tokens.begin(), seq.proposal.tokens.end());
    }
  }
}

namespace {

// Keeps the first `keep` of a sequence's appended drafts.
void cut_drafts(Sequence& seq, int32_t keep) {
  if (keep >= seq.drafts) return;
  seq.tokens.resize(seq.tokens.size() - static_cast<size_t>(seq.drafts - keep));
  seq.proposal.tokens.resize(static_cast<size_t>(keep));
  if (!seq.proposal.dists.empty()) seq.proposal.dists.resize(static_cast<size_t>(keep));
  seq.drafts = keep;
}

}  // namespace

void ServingEngineImpl::settle_drafts(const SchedulerOutput& out) {
  for (Sequence* seq : out.preempted) {
    cut_drafts(*seq, 0);
    drop_from_proposer(*seq);  // re-added, with a fresh draft cache, once it runs again
  }
  std::vector<Sequence*> scheduled;
  for (const ScheduledChunk& c : out.chunks) {
    if (!c.seq->proposed) continue;
    // The chunk is [last token + drafts]; a budget cut leaves fewer drafts.
    cut_drafts(*c.seq, static_cast<int32_t>(c.n_tokens - 1));
    scheduled.push_back(c.seq);
  }
  for (Sequence* seq : scheduler_->running()) {
    if (!seq->proposed || std::find(scheduled.begin(), scheduled.end(), seq) != scheduled.end()) continue;
    // Left out by the budget: its context does not grow this step, and a proposer's state can only roll back
    // to the context it proposed from, so the state starts over (a draft model recomputes its cache).
    cut_drafts(*seq, 0);
    drop_from_proposer(*seq);
  }
}

void ServingEngineImpl::verify_speculation(SchedulerOutput& out) {
  const int64_t vocab = model_->shape().vocab_size;
  for (size_t b = 0; b < out.chunks.size(); ++b) {
    ScheduledChunk& c = out.chunks[b];
    Sequence& seq = *c.seq;
    if (!seq.proposed) continue;
    seq.proposed = false;
    Proposer* proposer = proposer_for(seq.request->spec);
    if (seq.drafts == 0) {  // nothing to verify: a plain decode step
      proposer->on_accept(seq.id, 0);
      continue;
    }
    const int64_t context_len = c.start_pos + 1;
    const std::span<float> rows(&logits_[static_cast<size_t>(row_start_[b] * vocab)],
                                static_cast<size_t>((seq.drafts + 1) * vocab));
    VerifiedTokens v = verify_drafts(rows, vocab, seq.proposal,
                                     std::span<const int32_t>(seq.tokens).first(static_cast<size_t>(context_len)),
                                     seq.sampler);
    // The kept drafts stay computed; the target's own token is fed next step like any sampled token.
    seq.tokens.resize(static_cast<size_t>(context_len + v.accepted));
    c.n_tokens = 1 + v.accepted;
    seq.kv_tokens = context_len + v.accepted;
    policy_->rollback(seq, seq.kv_tokens);
    proposer->on_accept(seq.id, v.accepted);
    seq.verified = std::move(v.tokens);
    seq.verified_accepted = v.accepted;
    seq.verified_proposed = seq.drafts;
    seq.drafts = 0;
  }
}

void ServingEngineImpl::emit_verified(Sequence& seq, EngineClock::time_point now) {
  Request& r = *seq.request;
  const std::vector<int32_t> tokens = std::move(seq.verified);
  seq.verified.clear();
  // Counted before streaming: a client that sees the request finish must find its counters complete. The
  // drafts counted are those streamed: up to a stop token (not streamed) or the length limit.
  int32_t accepted = 0;
  for (int32_t i = 0; i < seq.verified_accepted; ++i) {
    if (is_stop_token(r, tokens[static_cast<size_t>(i)])) break;
    ++accepted;
    if (seq.generated + i + 1 >= r.params.max_tokens) break;
  }
  metrics_.verification(seq.verified_proposed, accepted);
  r.state->add_verification(seq.verified_proposed, accepted);
  for (size_t i = 0; i < tokens.size(); ++i) {
    const bool draft = static_cast<int32_t>(i) < seq.verified_accepted;
    if (emit_token(seq, tokens[i], draft ? TokenSource::Draft : TokenSource::Target, now, /*append=*/!draft)) break;
  }
}

}  // namespace helix
