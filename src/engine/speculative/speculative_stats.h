// What a speculative run did: how many drafts were proposed and kept, how many target forwards it took, where
// the time went, and which generated token came from where.
#pragma once

#include <cstdint>
#include <vector>

namespace helix {

// Where a generated token came from: an accepted draft, or the target itself (the token after a prompt, a
// correction after a rejected draft, or the bonus token after k accepted ones).
enum class TokenSource : uint8_t { Target, Draft };

struct SpeculativeStats {
  int32_t spec_tokens = 0;          // K
  int64_t prompt_tokens = 0;
  int64_t generated_tokens = 0;     // every generated token
  int64_t decode_tokens = 0;        // those produced by verification steps (not the first after each prompt)
  int64_t proposed = 0;             // drafts scored by the target
  int64_t accepted = 0;             // drafts kept
  int64_t verifications = 0;        // sequence verifications (a sequence with drafts in one step)
  int64_t undrafted_steps = 0;      // a sequence decoding with no drafts (none found, or the tokens left, or
                                    // the draft's context, allowed none): a plain decode step
  // accepted_histogram[n]: verifications that kept exactly n drafts (n = 0..K).
  std::vector<int64_t> accepted_histogram;
  int64_t target_forwards = 0;      // every target forward (prompt steps included)
  int64_t prefill_forwards = 0;     // target forwards that processed prompt tokens
  // Target forwards the same requests take without speculation, one decode token per sequence per step: per
  // sequence its prompt steps plus one step per decode token, the longest sequence setting the count.
  int64_t plain_forwards = 0;
  int64_t proposer_forwards = 0;    // draft-model forwards (0 for prompt lookup)
  double prompt_seconds = 0;        // steps that processed prompt tokens
  double decode_seconds = 0;        // decode steps: proposing + verifying + rollback
  double propose_seconds = 0;       // part of decode_seconds spent proposing
  int32_t peak_target_blocks = 0;
  int32_t peak_draft_blocks = 0;
  // timeline[request][i]: the source of that request's i-th generated token.
  std::vector<std::vector<TokenSource>> timeline;

  double acceptance_rate() const { return proposed > 0 ? static_cast<double>(accepted) / proposed : 0.0; }
  // Drafts kept per verification (each verification also yields one target token).
  double mean_accepted_per_verification() const {
    return verifications > 0 ? static_cast<double>(accepted) / verifications : 0.0;
  }
  double decode_tokens_per_second() const { return decode_seconds > 0 ? decode_tokens / decode_seconds : 0.0; }
  int64_t forwards_saved() const { return plain_forwards - target_forwards; }
};

}  // namespace helix
