// ServingEngineImpl: the ServingEngine (serving_engine.h). One engine thread loops over step():
//   take submissions and cancellations -> schedule (Scheduler over a KvPolicy) -> one batched forward pass
//   -> sample each sequence whose tokens are all computed -> stream tokens -> free finished sequences.
// Locking: mutex_ guards the scheduler, the KV manager, the requests and the counters. The engine thread
// holds it while scheduling and while handling a step's output, not during the forward pass, so snapshots
// and metrics see the state at step boundaries and never wait for a forward. Clients touch only their
// RequestState and the incoming queue. KV events are queued under mutex_ and handed to subscribers after it
// is released.
// Speculative decoding: before scheduling, each decoding sequence whose request speculates gets up to K drafts
// (one propose call per method for all of them), appended to its tokens so the scheduler budgets and allocates
// them like any tokens; the forward scores them (a logits row each); verification keeps the accepted prefix
// plus one target token, rolls the block table back, and only then does commit register full blocks in the
// prefix cache, so no cached block ever holds a rejected draft. Drafting runs under mutex_ because snapshots
// read the draft model's cache.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/engine_metrics.h"
#include "engine/kv_policy.h"
#include "engine/request.h"
#include "engine/scheduler.h"
#include "engine/serving_engine.h"
#include "engine/speculative/draft_model_proposer.h"
#include "engine/speculative/ngram_proposer.h"
#include "kernels/thread_pool.h"
#include "kv/kv_storage.h"

namespace helix {

class ServingEngineImpl final : public ServingEngine {
 public:
  static Result<std::unique_ptr<ServingEngineImpl>> create(std::unique_ptr<Transformer> model, Tokenizer tokenizer,
                                                           const ServingOptions& options,
                                                           std::unique_ptr<Transformer> draft = nullptr);
  ~ServingEngineImpl() override;

  void start() override;
  void stop() override;
  Result<std::shared_ptr<RequestHandle>> submit(RequestParams params) override;

  const Tokenizer& tokenizer() const override { return tokenizer_; }
  const ModelShape& shape() const override { return model_->shape(); }
  std::string model_name() const override { return model_->shape().name; }
  const ServingOptions& options() const override { return options_; }
  int64_t max_seq_len() const override { return max_seq_len_; }
  CapacityReport capacity() const override { return capacity_; }

  EngineMetrics metrics() const override;
  KvSnapshot kv_snapshot() const override;
  std::optional<KvSnapshot> draft_kv_snapshot() const override;
  bool has_draft_model() const override { return draft_ != nullptr; }
  MemoryComparison live_memory() const override;
  uint64_t subscribe_kv_events(std::function<void(const KvEvent&)> callback) override;
  void unsubscribe_kv_events(uint64_t id) override;

  // Without start(), tests and tools drive the engine by hand. step() runs one iteration and returns false
  // when there was nothing to do; run_until_idle() steps until every request has finished.
  bool step();
  void run_until_idle();
  bool has_work() const;
  int64_t num_blocks() const { return kv_->num_total_blocks(); }

 private:
  ServingEngineImpl(std::unique_ptr<Transformer> model, Tokenizer tokenizer, const ServingOptions& options,
                    int64_t max_seq_len, std::unique_ptr<KvStorage> storage, std::unique_ptr<KvCacheManager> kv,
                    std::unique_ptr<ThreadPool> pool, std::unique_ptr<DraftModelProposer> draft);
  void run_loop();
  Status check_fits(const RequestParams& p) const;

  // All under mutex_.
  void take_incoming();
  void handle_cancellations();
  void note_admissions(const SchedulerOutput& out);
  void handle_output(const SchedulerOutput& out);
  void sample_and_emit(Sequence& seq, std::span<float> logits, EngineClock::time_point now);
  // Streams one generated token; true when it ended the sequence. `append`: feed it back next step (an
  // accepted draft is already among the sequence's tokens).
  bool emit_token(Sequence& seq, int32_t token, TokenSource source, EngineClock::time_point now, bool append);
  Proposer* proposer_for(SpecMethod method);
  void drop_from_proposer(Sequence& seq);
  void propose_drafts();
  // After scheduling: preempted sequences lose their drafts and proposer state, a chunk cut by the budget keeps
  // only the drafts it covers, a sequence left out this step keeps none.
  void settle_drafts(const SchedulerOutput& out);
  // After the forward, before commit: accepts drafts, shortens chunks to the kept tokens, rolls back.
  void verify_speculation(SchedulerOutput& out);
  void emit_verified(Sequence& seq, EngineClock::time_point now);
  void finish_sequence(Sequence& seq, FinishKind kind);
  void cancel_request(Request& r);
  void erase_done_requests();
  void dispatch_events(std::vector<KvEvent>& events);

  std::unique_ptr<Transformer> model_;
  Tokenizer tokenizer_;
  ServingOptions options_;
  int64_t max_seq_len_;
  int64_t kv_bytes_per_token_;
  CapacityReport capacity_;
  std::unique_ptr<KvStorage> storage_;  // the manager and the forward pass point into it
  std::unique_ptr<KvCacheManager> kv_;
  std::unique_ptr<KvPolicy> policy_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<ThreadPool> pool_;
  std::vector<PagedKv> kv_layers_;
  std::shared_ptr<EngineSignal> signal_;

  mutable std::mutex mutex_;
  std::map<uint64_t, std::unique_ptr<Request>> requests_;  // taken in, not yet done
  EngineMetricsRecorder metrics_;
  int64_t next_seq_id_ = 0;
  std::vector<KvEvent> pending_events_;
  std::vector<float> logits_;  // engine thread only
  std::vector<int64_t> row_start_;  // engine thread only: each chunk's first logits row
  uint64_t step_index_ = 0;
  NgramProposer ngram_;
  std::unique_ptr<DraftModelProposer> draft_;

  mutable std::mutex incoming_mutex_;
  std::vector<std::unique_ptr<Request>> incoming_;
  bool accepting_ = true;
  std::atomic<uint64_t> next_request_id_{1};
  std::atomic<uint64_t> rejected_{0};

  std::mutex subscribers_mutex_;
  std::map<uint64_t, std::function<void(const KvEvent&)>> subscribers_;
  uint64_t next_subscriber_id_ = 1;

  std::thread thread_;
  std::atomic<bool> stop_{false};
};

}  // namespace helix
