// FakeEngine: a ServingEngine that generates from a script instead of a model, for the HTTP-layer tests. Each
// request gets a thread that emits the script's tokens for every choice (one token per choice per tick,
// `token_interval` apart), stopping at max_tokens (finish length) or at the script's end (finish stop, as if a
// stop token came: counted in usage, not sent); a
// cancelled request ends its choices with Cancelled and frees its blocks at once. It keeps the counters,
// block map and KV events the real engine would report, in a simplified way: a request holds
// ceil(tokens / block_size) blocks while it runs.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "engine/serving_engine.h"
#include "kv/memory_math.h"
#include "model/model_file.h"
#include "model/tokenizer_for_model.h"
#include "test_util.h"

namespace helix::test {

// stories260K's tokenizer (from its GGUF), shared by every test that needs real text.
inline const Tokenizer& stories_tokenizer() {
  static const Tokenizer tokenizer = [] {
    auto file = open_model_file(shared_path("models/stories260K/stories260K.gguf"));
    if (!file) std::abort();
    auto tok = tokenizer_for_model(*file);
    if (!tok) std::abort();
    return std::move(*tok);
  }();
  return tokenizer;
}

struct FakeScript {
  std::vector<int32_t> tokens;  // every choice emits these, in order
  std::chrono::milliseconds token_interval{0};
  bool fail = false;           // end every choice with an error after the tokens
  bool emit_nothing = false;   // never produce an event until cancelled (a stuck prefill)
  int64_t wait_for_running = 0;  // emit nothing until this many requests run at once (10 s at most)
};

class FakeEngine final : public ServingEngine {
 public:
  static constexpr int32_t kBlockSize = 16;
  static constexpr int32_t kNumBlocks = 64;

  explicit FakeEngine(FakeScript script, int64_t max_seq_len = 512)
      : tokenizer_(stories_tokenizer()), script_(std::move(script)), max_seq_len_(max_seq_len) {
    shape_.name = "fake";
    shape_.n_layers = 5;
    shape_.n_heads = 8;
    shape_.n_kv_heads = 4;
    shape_.head_dim = 8;
    shape_.hidden_dim = 64;
    shape_.ffn_dim = 172;
    shape_.vocab_size = tokenizer_.vocab_size();
    shape_.context_length = max_seq_len;
    for (auto* h : {&metrics_.time_to_first_token, &metrics_.time_per_output_token, &metrics_.request_latency}) {
      h->upper_bounds = {0.001, 0.01, 0.1, 1.0};
      h->counts.assign(4, 0);
    }
  }
  ~FakeEngine() override { stop(); }

  void set_script(FakeScript script) {
    std::lock_guard lock(mutex_);
    script_ = std::move(script);
  }

  void start() override {}
  void stop() override {
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      for (auto& [id, r] : running_) r->cancelled = true;
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
  }

  Result<std::shared_ptr<RequestHandle>> submit(RequestParams params) override {
    if (params.prompt.empty()) return make_error("prompt: empty", "prompt");
    if (static_cast<int64_t>(params.prompt.size()) + params.max_tokens > max_seq_len_) {
      std::lock_guard lock(mutex_);
      ++metrics_.requests_rejected_total;
      return make_error(fmt::format("max_tokens: prompt + max_tokens exceeds max_seq_len {}", max_seq_len_),
                        "max_tokens");
    }
    // Like the real engine: a request that could never fit in the pool is refused at once.
    const int64_t blocks = params.n * blocks_for_tokens(static_cast<int64_t>(params.prompt.size()) + params.max_tokens,
                                                        kBlockSize);
    std::lock_guard lock(mutex_);
    if (blocks > kNumBlocks) {
      ++metrics_.requests_rejected_total;
      return make_error(fmt::format("max_tokens: the request needs {} blocks, the whole pool has {}", blocks,
                                    kNumBlocks),
                        "max_tokens");
    }
    if (stopping_) return make_error("the engine is stopped");
    auto state = std::make_shared<State>();
    state->id = next_id_++;
    state->params = params;
    state->script = script_;
    state->remaining = params.n;
    state->usage.prompt_tokens = static_cast<int64_t>(params.prompt.size());
    // A repeated prompt reuses its full blocks, as a prefix cache would.
    const int64_t full_blocks = static_cast<int64_t>(params.prompt.size()) / kBlockSize;
    if (seen_prompts_.count(params.prompt)) state->usage.cached_prompt_tokens = full_blocks * kBlockSize;
    seen_prompts_.insert(params.prompt);
    submitted_.push_back(params);
    running_[state->id] = state;
    peak_running_ = std::max(peak_running_, static_cast<int64_t>(running_.size()));
    metrics_.prompt_tokens_total += params.prompt.size();
    metrics_.prefix_queries_tokens += params.prompt.size();
    metrics_.prefix_hits_tokens += state->usage.cached_prompt_tokens;
    set_blocks(*state, params.prompt.size());
    threads_.emplace_back([this, state] { run(state); });
    return std::shared_ptr<RequestHandle>(std::make_shared<Handle>(state));
  }

  const Tokenizer& tokenizer() const override { return tokenizer_; }
  const ModelShape& shape() const override { return shape_; }
  std::string model_name() const override { return "fake-model"; }
  const ServingOptions& options() const override { return options_; }
  int64_t max_seq_len() const override { return max_seq_len_; }
  CapacityReport capacity() const override { return {}; }

  EngineMetrics metrics() const override {
    std::lock_guard lock(mutex_);
    EngineMetrics m = metrics_;
    m.running = static_cast<int64_t>(running_.size());
    m.kv_blocks_total = kNumBlocks;
    m.kv_blocks_used = used_blocks_locked();
    m.kv_usage = static_cast<double>(m.kv_blocks_used) / kNumBlocks;
    return m;
  }

  KvSnapshot kv_snapshot() const override {
    std::lock_guard lock(mutex_);
    KvSnapshot s;
    s.block_size = kBlockSize;
    s.num_blocks = kNumBlocks;
    s.blocks.resize(kNumBlocks);
    for (int32_t i = 0; i < kNumBlocks; ++i) {
      s.blocks[i].id = i;
      s.blocks[i].free = true;
    }
    for (const auto& [id, r] : running_) {
      KvSeqInfo q;
      q.seq = static_cast<int64_t>(id);
      q.num_tokens = r->tokens_held;
      q.block_ids = r->blocks;
      q.last_block_fill = static_cast<int32_t>(r->tokens_held - (r->blocks.size() - 1) * kBlockSize);
      for (size_t k = 0; k < r->blocks.size(); ++k) {
        KvBlockInfo& b = s.blocks[r->blocks[k]];
        b.free = false;
        b.ref_count = 1;
        b.owners = {q.seq};
        b.tokens_filled = k + 1 < r->blocks.size() ? kBlockSize : q.last_block_fill;
      }
      s.sequences.push_back(std::move(q));
    }
    s.used_blocks = used_blocks_locked();
    s.free_blocks = kNumBlocks - s.used_blocks;
    s.usage = static_cast<double>(s.used_blocks) / kNumBlocks;
    for (const KvBlockInfo& b : s.blocks)
      if (b.free) s.free_queue.push_back(b.id);
    return s;
  }

  MemoryComparison live_memory() const override {
    MemoryQuery q;
    q.shape = shape_;
    q.max_seq_len = max_seq_len_;
    q.block_size = kBlockSize;
    q.num_blocks = kNumBlocks;
    q.sequence_length = 40;
    q.batch_size = 2;
    return *compare_memory(q);
  }

  uint64_t subscribe_kv_events(std::function<void(const KvEvent&)> callback) override {
    std::lock_guard lock(mutex_);
    subscribers_[next_subscriber_] = std::move(callback);
    return next_subscriber_++;
  }
  void unsubscribe_kv_events(uint64_t id) override {
    std::lock_guard lock(mutex_);
    subscribers_.erase(id);
  }

  // Test access.
  std::vector<RequestParams> submitted() const {
    std::lock_guard lock(mutex_);
    return submitted_;
  }
  size_t subscriber_count() const {
    std::lock_guard lock(mutex_);
    return subscribers_.size();
  }
  int64_t running_count() const {
    std::lock_guard lock(mutex_);
    return static_cast<int64_t>(running_.size());
  }
  int64_t peak_running() const {
    std::lock_guard lock(mutex_);
    return peak_running_;
  }
  int64_t cancelled_count() const {
    std::lock_guard lock(mutex_);
    return static_cast<int64_t>(metrics_.requests_cancelled_total);
  }
  // Waits until no request runs (every thread has ended its request); false on timeout.
  bool wait_idle(std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (running_count() == 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return running_count() == 0;
  }

 private:
  struct State {
    uint64_t id = 0;
    RequestParams params;
    FakeScript script;
    std::atomic<bool> cancelled{false};
    std::mutex mutex;
    std::condition_variable cv;
    std::deque<TokenEvent> events;
    int32_t remaining = 0;  // choices not finished (events queued for them included)
    RequestUsage usage;
    std::vector<int32_t> blocks;
    int64_t tokens_held = 0;
  };

  class Handle final : public RequestHandle {
   public:
    explicit Handle(std::shared_ptr<State> s) : s_(std::move(s)) {}
    ~Handle() override { s_->cancelled = true; }  // dropping the last reference cancels
    uint64_t id() const override { return s_->id; }
    bool next(TokenEvent& event, std::chrono::milliseconds timeout) override {
      std::unique_lock lock(s_->mutex);
      if (!s_->cv.wait_for(lock, timeout, [&] { return !s_->events.empty(); })) return false;
      event = std::move(s_->events.front());
      s_->events.pop_front();
      return true;
    }
    bool finished() const override {
      std::lock_guard lock(s_->mutex);
      return s_->remaining == 0 && s_->events.empty();
    }
    void cancel() override { s_->cancelled = true; }
    RequestUsage usage() const override {
      std::lock_guard lock(s_->mutex);
      return s_->usage;
    }

   private:
    std::shared_ptr<State> s_;
  };

  static void push(State& s, TokenEvent e) {
    {
      std::lock_guard lock(s.mutex);
      if (e.token) ++s.usage.completion_tokens;
      if (e.finish != FinishKind::None) --s.remaining;
      s.events.push_back(std::move(e));
    }
    s.cv.notify_all();
  }

  int32_t used_blocks_locked() const {
    int32_t used = 0;
    for (const auto& [id, r] : running_) used += static_cast<int32_t>(r->blocks.size());
    return used;
  }

  // Grows or frees a request's blocks to hold `tokens` (all of them when 0), publishing the KV events.
  void set_blocks(State& s, int64_t tokens) {
    s.tokens_held = tokens;
    const size_t want = static_cast<size_t>(blocks_for_tokens(tokens, kBlockSize));
    std::vector<BlockId> changed;
    KvEventType type = KvEventType::Allocate;
    while (s.blocks.size() < want) {
      int32_t id = 0;
      std::vector<bool> used(kNumBlocks, false);
      for (const auto& [rid, r] : running_)
        for (int32_t b : r->blocks) used[b] = true;
      for (int32_t b : s.blocks) used[b] = true;
      while (id < kNumBlocks && used[id]) ++id;
      if (id == kNumBlocks) break;  // the fake never preempts: it just stops growing
      s.blocks.push_back(id);
      changed.push_back(BlockId{id});
    }
    if (want == 0) {
      type = KvEventType::Free;
      for (int32_t b : s.blocks) changed.push_back(BlockId{b});
      s.blocks.clear();
    }
    if (changed.empty()) return;
    const KvEvent event{type, SeqId{static_cast<int64_t>(s.id)}, changed};
    for (const auto& [sid, cb] : subscribers_) cb(event);
  }

  static void observe(Histogram& h, double seconds) {
    for (size_t i = 0; i < h.upper_bounds.size(); ++i)
      if (seconds <= h.upper_bounds[i]) ++h.counts[i];
    ++h.count;
    h.sum += seconds;
  }

  void run(std::shared_ptr<State> s) {
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    const int32_t n = s->params.n;
    const auto& tokens = s->script.tokens;
    bool cancelled = false;
    const auto barrier_deadline = Clock::now() + std::chrono::seconds(10);
    while (running_count() < s->script.wait_for_running && !s->cancelled && Clock::now() < barrier_deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    for (int64_t step = 0;; ++step) {
      if (s->script.emit_nothing) {
        while (!s->cancelled) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      if (s->cancelled) {
        cancelled = true;
        break;
      }
      const bool at_length = step >= s->params.max_tokens;
      const bool at_end = step >= static_cast<int64_t>(tokens.size());
      if (at_length || at_end) {
        for (int32_t i = 0; i < n; ++i) {
          TokenEvent e;
          e.index = i;
          e.finish = s->script.fail ? FinishKind::Error : (at_length ? FinishKind::Length : FinishKind::Stop);
          // As the real engine: the stop token that ends a choice is counted, not sent.
          if (e.finish == FinishKind::Stop) {
            std::lock_guard lock(s->mutex);
            ++s->usage.completion_tokens;
          }
          if (s->script.fail) e.error = "scripted failure";
          push(*s, std::move(e));
        }
        break;
      }
      if (step > 0 && s->script.token_interval.count() > 0) std::this_thread::sleep_for(s->script.token_interval);
      for (int32_t i = 0; i < n; ++i) {
        TokenEvent e;
        e.index = i;
        e.token = tokens[step];
        push(*s, std::move(e));
      }
      std::lock_guard lock(mutex_);
      if (step == 0) observe(metrics_.time_to_first_token, std::chrono::duration<double>(Clock::now() - start).count());
      metrics_.generation_tokens_total += n;
      set_blocks(*s, static_cast<int64_t>(s->params.prompt.size()) + step + 1);
    }
    if (cancelled) {
      // Choices end together in this fake: either all their finishes are queued already, or none is.
      for (int32_t i = 0; i < n; ++i) {
        TokenEvent e;
        e.index = i;
        e.finish = FinishKind::Cancelled;
        push(*s, std::move(e));
      }
    }
    std::lock_guard lock(mutex_);
    observe(metrics_.request_latency, std::chrono::duration<double>(Clock::now() - start).count());
    if (cancelled) {
      ++metrics_.requests_cancelled_total;
    } else {
      ++metrics_.requests_finished_total;
    }
    set_blocks(*s, 0);
    running_.erase(s->id);
  }

  Tokenizer tokenizer_;
  FakeScript script_;
  int64_t max_seq_len_;
  ModelShape shape_;
  ServingOptions options_;

  mutable std::mutex mutex_;
  bool stopping_ = false;
  uint64_t next_id_ = 1;
  int64_t peak_running_ = 0;
  std::map<uint64_t, std::shared_ptr<State>> running_;
  std::vector<std::thread> threads_;
  std::vector<RequestParams> submitted_;
  std::set<std::vector<int32_t>> seen_prompts_;
  EngineMetrics metrics_;
  std::map<uint64_t, std::function<void(const KvEvent&)>> subscribers_;
  uint64_t next_subscriber_ = 0;
};

}  // namespace helix::test
