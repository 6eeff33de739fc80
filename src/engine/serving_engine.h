// ServingEngine: the continuous-batching engine behind `helix serve`. A single engine thread runs iteration-level
// scheduling over the paged KV cache: every step runs all running sequences together (prompt chunks and decode
// tokens in one batched forward), admits waiting requests while free blocks allow, frees a finished sequence's
// blocks at once, and preempts (latest admitted first, recomputed later) when blocks run out. HTTP handlers
// submit requests and read each request's token stream through a RequestHandle; nothing blocks the engine
// thread on a client.
//
// This header is the contract between the engine (src/engine) and the HTTP API (src/server).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "engine/batch_generator.h"
#include "engine/speculative/speculative_stats.h"
#include "kv/kv_event.h"
#include "kv/kv_snapshot.h"
#include "kv/memory_math.h"
#include "model/sampler.h"
#include "model/tokenizer.h"
#include "model/transformer.h"

namespace helix {

enum class KvCacheMode { Paged, Contiguous };

// Speculative decoding inside the engine: where a decoding sequence's drafts come from. None decodes one token
// per step; Ngram looks the context's tail up earlier in the context; Draft runs the server's draft model.
enum class SpecMethod { None, Ngram, Draft };
inline constexpr int32_t kMaxSpecTokens = 8;  // most drafts verified per sequence per step

std::string_view spec_method_name(SpecMethod method);  // "off", "ngram", "draft"
// "off" / "none", "ngram", "draft"; the error names `param`.
Result<SpecMethod> parse_spec_method(std::string_view text, const std::string& param);

struct ServingOptions {
  EngineOptions engine;                 // block size, pool (num_blocks / kv_budget_mib), kv dtype, threads, max_seq_len
  KvCacheMode kv_mode = KvCacheMode::Paged;
  int64_t max_step_tokens = 512;        // token budget of one forward step (prompt chunks + decode tokens)
  int32_t max_running = 256;            // most sequences running at once
  double watermark = 0.01;              // fraction of the pool kept free when admitting (paged mode)
  bool enable_prefix_caching = true;    // paged mode only
  int64_t capacity_mean_tokens = 512;   // mean sequence length the start-up capacity line assumes
  SpecMethod spec_method = SpecMethod::None;  // requests' default; Draft needs the draft model given to create()
  int32_t spec_tokens = 4;              // K: most drafts per sequence per step (1..kMaxSpecTokens)

  Status validate() const;  // errors name the flag
};

// What a client asks for (already tokenized; the HTTP layer handles text, templates and stop strings).
struct RequestParams {
  std::vector<int32_t> prompt;
  int64_t max_tokens = 16;
  SamplingParams sampling;
  int32_t n = 1;                   // parallel samples sharing the prompt's blocks (fork)
  std::vector<int32_t> stop_ids;   // a choice ends after emitting one of these (not included in the output)
  bool ignore_eos = false;         // else the tokenizer's end-of-generation ids stop too
  std::optional<SpecMethod> speculation;  // unset: the server's spec_method; Draft needs a loaded draft model
  int32_t spec_tokens = 0;                // drafts per step; 0: the server's spec_tokens
};

enum class FinishKind { None, Length, Stop, Cancelled, Error };

// One event of a request's stream: a token of choice `index`, or the end of that choice.
struct TokenEvent {
  int32_t index = 0;
  std::optional<int32_t> token;   // set for a generated token
  TokenSource source = TokenSource::Target;  // Draft: an accepted draft; Target: the target's own token
  FinishKind finish = FinishKind::None;
  std::string error;              // when finish == Error
};

struct RequestUsage {
  int64_t prompt_tokens = 0;
  int64_t cached_prompt_tokens = 0;  // prompt tokens served from the prefix cache
  int64_t completion_tokens = 0;     // over all n choices (a stop token that ended a choice counts)
  int64_t target_forwards = 0;       // engine steps whose forward computed tokens of this request
  int64_t spec_proposed = 0;         // drafts the target verified
  int64_t spec_accepted = 0;         // drafts kept and emitted
  int64_t spec_verify_steps = 0;     // sequence steps that verified at least one draft
  // [n]: verification steps that kept exactly n drafts, n = 0..spec_tokens (empty without speculation).
  std::vector<int64_t> spec_accepted_histogram;
};

// A submitted request's view for the HTTP handler. Thread-safe. Dropping every reference cancels the request.
class RequestHandle {
 public:
  virtual ~RequestHandle() = default;
  virtual uint64_t id() const = 0;
  // Waits up to `timeout` for the next event; false on timeout. After every choice has finished, returns false
  // at once.
  virtual bool next(TokenEvent& event, std::chrono::milliseconds timeout) = 0;
  virtual bool finished() const = 0;
  // Stops generation (client gone, stop string matched); the sequence's blocks are freed at the next step.
  virtual void cancel() = 0;
  virtual RequestUsage usage() const = 0;
};

// Counters and histograms for /metrics (all since start).
struct Histogram {
  std::vector<double> upper_bounds;  // seconds, ascending; +Inf implied
  std::vector<uint64_t> counts;      // cumulative per bound, as Prometheus wants
  uint64_t count = 0;
  double sum = 0;
};

struct EngineMetrics {
  int64_t running = 0, waiting = 0;         // sequences (a request's n choices count n once forked)
  int64_t kv_blocks_used = 0, kv_blocks_total = 0;
  double kv_usage = 0;                      // used / total
  std::map<std::string, uint64_t> preemptions_by_reason;  // e.g. "kv_cache_full"
  uint64_t prefix_queries_tokens = 0, prefix_hits_tokens = 0;
  uint64_t prompt_tokens_total = 0, generation_tokens_total = 0;
  uint64_t requests_finished_total = 0, requests_cancelled_total = 0, requests_rejected_total = 0;
  uint64_t spec_proposed_total = 0, spec_accepted_total = 0, spec_verify_steps_total = 0;
  std::vector<uint64_t> spec_accepted_histogram = std::vector<uint64_t>(kMaxSpecTokens + 1, 0);  // [n]: steps keeping n
  int64_t draft_kv_blocks_used = 0, draft_kv_blocks_total = 0;  // the draft model's pool (0 without one)
  Histogram time_to_first_token, time_per_output_token, request_latency;
};

// Start-up capacity: the pool, and how many sequences fit at max_seq_len (contiguous) vs paged at a mean length.
struct CapacityReport {
  int64_t pool_blocks = 0, pool_tokens = 0, pool_bytes = 0;
  int64_t max_seq_len = 0, mean_tokens = 0;
  int64_t contiguous_sequences = 0, paged_sequences = 0;
};

class ServingEngine {
 public:
  virtual ~ServingEngine() = default;
  // draft (optional): a draft model with the target's vocabulary (check_draft_vocabulary first); it gets its
  // own paged KV pool of the target's block size and block count.
  static Result<std::unique_ptr<ServingEngine>> create(std::unique_ptr<Transformer> model, Tokenizer tokenizer,
                                                       const ServingOptions& options,
                                                       std::unique_ptr<Transformer> draft = nullptr);

  virtual void start() = 0;  // launches the engine thread
  virtual void stop() = 0;   // finishes the current step, cancels everything, joins

  // Validates and queues a request. A request that could never fit (prompt + max_tokens over max_seq_len, or
  // more blocks than the whole pool) is refused at once with an error naming the limit (param set).
  virtual Result<std::shared_ptr<RequestHandle>> submit(RequestParams params) = 0;

  virtual const Tokenizer& tokenizer() const = 0;
  virtual const ModelShape& shape() const = 0;
  virtual std::string model_name() const = 0;
  virtual const ServingOptions& options() const = 0;
  virtual int64_t max_seq_len() const = 0;
  virtual CapacityReport capacity() const = 0;

  virtual EngineMetrics metrics() const = 0;
  virtual KvSnapshot kv_snapshot() const = 0;  // the block map now (owners, fill, ref counts, cached prefixes)
  // The draft model's pool (its sequences carry the target's sequence ids); nullopt without a draft model.
  virtual std::optional<KvSnapshot> draft_kv_snapshot() const { return std::nullopt; }
  virtual bool has_draft_model() const { return false; }
  // /compare/memory?source=live: paged = blocks held now; traditional = what a contiguous cache would reserve
  // for the same running sequences (max_seq_len each).
  virtual MemoryComparison live_memory() const = 0;
  // KV events (allocate, free, preempt, prefix hit, ...) as they happen, for /kv/events. Returns an id for
  // unsubscribe. The callback runs on the engine thread: it must not block (queue and return) nor subscribe or
  // unsubscribe from inside.
  virtual uint64_t subscribe_kv_events(std::function<void(const KvEvent&)> callback) = 0;
  virtual void unsubscribe_kv_events(uint64_t id) = 0;
};

}  // namespace helix
