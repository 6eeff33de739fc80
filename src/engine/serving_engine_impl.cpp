#include "engine/serving_engine_impl.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "engine/contiguous_kv_policy.h"
#include "engine/request_handle_impl.h"
#include "kv/memory_math.h"

namespace helix {

Result<std::unique_ptr<ServingEngineImpl>> ServingEngineImpl::create(std::unique_ptr<Transformer> model,
                                                                     Tokenizer tokenizer,
                                                                     const ServingOptions& options,
                                                                     std::unique_ptr<Transformer> draft) {
  HELIX_TRY(options.validate());
  if (!model) return errorf("serving engine: no model");
  if (options.spec_method == SpecMethod::Draft && !draft)
    return make_error("--spec: draft needs a draft model (--draft-model FILE)", "spec");
  ModelShape shape = model->shape();
  shape.kv_dtype = options.engine.kv_dtype;
  auto max_seq_len = resolve_max_seq_len(shape, options.engine);
  HELIX_TRY(max_seq_len);
  auto num_blocks = resolve_pool_blocks(shape, options.engine, *max_seq_len);
  HELIX_TRY(num_blocks);
  const int64_t bs = options.engine.block_size;
  if (options.kv_mode == KvCacheMode::Contiguous && *num_blocks < blocks_for_tokens(*max_seq_len, bs))
    return make_error(fmt::format("--kv-budget-mib: a contiguous cache reserves max_seq_len {} tokens ({} blocks of "
                                  "{}) per sequence; the pool has {} blocks",
                                  *max_seq_len, blocks_for_tokens(*max_seq_len, bs), bs, *num_blocks),
                      "kv_budget_mib");
  auto storage = KvStorage::create(shape, *num_blocks, bs);
  HELIX_TRY(storage);
  auto storage_ptr = std::make_unique<KvStorage>(std::move(*storage));
  KvCacheConfig kv_config;
  kv_config.num_blocks = static_cast<int32_t>(*num_blocks);
  kv_config.block_size = options.engine.block_size;
  kv_config.enable_prefix_caching = options.kv_mode == KvCacheMode::Paged && options.enable_prefix_caching;
  // With the storage attached, a copy-on-write copies the K/V slots as it is decided.
  auto kv = KvCacheManager::create(kv_config, storage_ptr.get());
  HELIX_TRY(kv);
  const int threads =
      options.engine.threads > 0 ? options.engine.threads : static_cast<int>(std::thread::hardware_concurrency());
  auto pool = std::make_unique<ThreadPool>(std::max(1, threads));
  std::unique_ptr<DraftModelProposer> draft_proposer;
  if (draft) {
    // A pool the target's size holds every sequence the target's does: a draft caches fewer tokens.
    ProposerEnv env;
    env.pool = pool.get();
    env.block_size = options.engine.block_size;
    env.num_blocks = *num_blocks;
    env.kv_dtype = options.engine.kv_dtype;
    env.prefill_chunk_tokens = options.engine.prefill_chunk_tokens;
    env.vocab_size = shape.vocab_size;
    draft_proposer = std::make_unique<DraftModelProposer>(std::move(draft));
    if (auto st = draft_proposer->prepare(env); !st) return make_error(st.error().message, "draft_model");
  }
  return std::unique_ptr<ServingEngineImpl>(new ServingEngineImpl(
      std::move(model), std::move(tokenizer), options, *max_seq_len, std::move(storage_ptr),
      std::make_unique<KvCacheManager>(std::move(*kv)), std::move(pool), std::move(draft_proposer)));
}

ServingEngineImpl::ServingEngineImpl(std::unique_ptr<Transformer> model, Tokenizer tokenizer,
                                     const ServingOptions& options, int64_t max_seq_len,
                                     std::unique_ptr<KvStorage> storage, std::unique_ptr<KvCacheManager> kv,
                                     std::unique_ptr<ThreadPool> pool, std::unique_ptr<DraftModelProposer> draft)
    : model_(std::move(model)),
      tokenizer_(std::move(tokenizer)),
      options_(options),
      max_seq_len_(max_seq_len),
      storage_(std::move(storage)),
      kv_(std::move(kv)),
      pool_(std::move(pool)),
      signal_(std::make_shared<EngineSignal>()),
      draft_(std::move(draft)) {
  ModelShape shape = model_->shape();
  shape.kv_dtype = storage_->dtype();
  kv_bytes_per_token_ = shape.kv_bytes_per_token();
  for (int32_t l = 0; l < storage_->n_layers(); ++l) kv_layers_.push_back(storage_->layer(l));

  if (options_.kv_mode == KvCacheMode::Contiguous)
    policy_ = std::make_unique<ContiguousKvPolicy>(*kv_, storage_.get(), max_seq_len_);
  else
    policy_ = std::make_unique<PagedKvPolicy>(*kv_, options_.enable_prefix_caching);
  SchedulerConfig sc;
  sc.max_step_tokens = options_.max_step_tokens;
  sc.max_chunk_tokens = options_.engine.prefill_chunk_tokens;
  sc.max_running = options_.max_running;
  sc.watermark_blocks = static_cast<int32_t>(options_.watermark * kv_->num_total_blocks());
  scheduler_ = std::make_unique<Scheduler>(*policy_, sc);
  auto sink = [this](const KvEvent& e) { pending_events_.push_back(e); };
  kv_->set_event_sink(sink);
  scheduler_->set_event_sink(sink);

  const int64_t bs = kv_->block_size();
  capacity_.pool_blocks = kv_->num_total_blocks();
  capacity_.pool_tokens = capacity_.pool_blocks * bs;
  capacity_.pool_bytes = capacity_.pool_tokens * kv_bytes_per_token_;
  capacity_.max_seq_len = max_seq_len_;
  capacity_.mean_tokens = std::min(options_.capacity_mean_tokens, max_seq_len_);
  const Capacity cap = kv_capacity(shape, capacity_.pool_bytes, capacity_.mean_tokens, max_seq_len_, bs);
  capacity_.contiguous_sequences = cap.contiguous_sequences;
  capacity_.paged_sequences = cap.paged_sequences;
  spdlog::info(
      "kv cache ({}): {} blocks of {} tokens = {} tokens, {:.1f} MiB {}; fits {} sequences reserved at max_seq_len "
      "{} (contiguous) or {} of {} tokens (paged)",
      options_.kv_mode == KvCacheMode::Paged ? "paged" : "contiguous", capacity_.pool_blocks, bs,
      capacity_.pool_tokens, static_cast<double>(capacity_.pool_bytes) / kBytesPerMiB, dtype_name(storage_->dtype()),
      capacity_.contiguous_sequences, max_seq_len_, capacity_.paged_sequences, capacity_.mean_tokens);
}

ServingEngineImpl::~ServingEngineImpl() { stop(); }

void ServingEngineImpl::start() {
  if (thread_.joinable() || stop_) return;
  thread_ = std::thread([this] { run_loop(); });
}

void ServingEngineImpl::run_loop() {
  while (!stop_.load(std::memory_order_acquire)) {
    signal_->clear();  // before looking for work, so a submission after the look wakes the wait below
    if (!has_work()) {
      signal_->wait(std::chrono::milliseconds(100));
      continue;
    }
    if (!step()) signal_->wait(std::chrono::milliseconds(1));
  }
}

void ServingEngineImpl::stop() {
  {
    std::lock_guard lock(incoming_mutex_);
    if (!accepting_ && !thread_.joinable()) return;
    accepting_ = false;
  }
  stop_.store(true, std::memory_order_release);
  signal_->notify();
  if (thread_.joinable()) thread_.join();
  std::vector<KvEvent> events;
  {
    std::lock_guard lock(mutex_);
    take_incoming();
    for (auto& [id, r] : requests_) cancel_request(*r);
    erase_done_requests();
    events.swap(pending_events_);
  }
  dispatch_events(events);
}

bool ServingEngineImpl::has_work() const {
  {
    std::lock_guard lock(incoming_mutex_);
    if (!incoming_.empty()) return true;
  }
  std::lock_guard lock(mutex_);
  return scheduler_->has_work();
}

void ServingEngineImpl::run_until_idle() {
  while (has_work()) step();
}

Status ServingEngineImpl::check_fits(const RequestParams& p) const {
  const int64_t prompt = static_cast<int64_t>(p.prompt.size());
  if (prompt == 0) return make_error("prompt: empty (at least one token, e.g. BOS)", "prompt");
  const int64_t vocab = model_->shape().vocab_size;
  for (size_t i = 0; i < p.prompt.size(); ++i)
    if (p.prompt[i] < 0 || p.prompt[i] >= vocab)
      return make_error(fmt::format("prompt: token {} at position {} is outside the vocabulary of {}", p.prompt[i], i,
                                    vocab),
                        "prompt");
  if (p.max_tokens < 1) return make_error(fmt::format("max_tokens: must be >= 1, got {}", p.max_tokens), "max_tokens");
  if (p.n < 1 || p.n > options_.max_running)
    return make_error(fmt::format("n: must be between 1 and {} (the most sequences running at once), got {}",
                                  options_.max_running, p.n),
                      "n");
  HELIX_TRY(p.sampling.validate());
  if (p.speculation == SpecMethod::Draft && !draft_)
    return make_error("speculation: draft needs a draft model (helix serve --draft-model FILE)", "speculation");
  if (p.spec_tokens != 0 && (p.spec_tokens < 1 || p.spec_tokens > kMaxSpecTokens))
    return make_error(fmt::format("spec_tokens: must be between 1 and {}, got {}", kMaxSpecTokens, p.spec_tokens),
                      "spec_tokens");
  if (prompt >= max_seq_len_)
    return make_error(fmt::format("prompt: {} tokens leave no room to generate within max_seq_len {}", prompt,
                                  max_seq_len_),
                      "prompt");
  if (prompt + p.max_tokens > max_seq_len_)
    return make_error(fmt::format("max_tokens: prompt ({} tokens) + max_tokens ({}) = {} exceeds max_seq_len {}",
                                  prompt, p.max_tokens, prompt + p.max_tokens, max_seq_len_),
                      "max_tokens");
  // The last generated token is never fed back, so it needs no slot.
  const int64_t slots = prompt + p.max_tokens - 1;
  const int64_t pool = kv_->num_total_blocks();
  const int64_t bs = kv_->block_size();
  const int64_t per_seq = policy_->blocks_for_sequence(slots);
  if (per_seq > pool)
    return make_error(fmt::format("max_tokens: prompt ({} tokens) + max_tokens ({}) needs {} KV blocks of {} tokens, "
                                  "the whole pool has {}",
                                  prompt, p.max_tokens, per_seq, bs, pool),
                      "max_tokens");
  // Choices share the prompt's full blocks (paged) and each hold the rest; all must fit at once.
  const int64_t shared = policy_->shares_prompt() && p.n > 1 ? prompt / bs : 0;
  const int64_t total = shared + p.n * (per_seq - shared);
  if (total > pool)
    return make_error(fmt::format("n: {} choices of up to {} tokens need {} KV blocks of {} tokens, the whole pool "
                                  "has {}",
                                  p.n, slots, total, bs, pool),
                      "n");
  return {};
}

Result<std::shared_ptr<RequestHandle>> ServingEngineImpl::submit(RequestParams params) {
  if (auto st = check_fits(params); !st) {
    rejected_.fetch_add(1, std::memory_order_relaxed);
    return Unexpected{st.error()};
  }
  auto r = std::make_unique<Request>();
  r->id = next_request_id_.fetch_add(1, std::memory_order_relaxed);
  r->state = std::make_shared<RequestState>(r->id, params.n, signal_);
  r->submitted = EngineClock::now();
  r->choices_left = params.n;
  r->choice_done.assign(static_cast<size_t>(params.n), false);
  r->spec = params.speculation.value_or(options_.spec_method);
  r->spec_tokens = params.spec_tokens > 0 ? params.spec_tokens : options_.spec_tokens;
  if (r->spec != SpecMethod::None) r->state->init_speculation(r->spec_tokens);
  r->params = std::move(params);
  auto handle = std::make_shared<RequestHandleImpl>(r->state);
  {
    std::lock_guard lock(incoming_mutex_);
    if (!accepting_) return make_error("engine: stopped, not accepting requests");
    incoming_.push_back(std::move(r));
  }
  signal_->notify();
  return std::shared_ptr<RequestHandle>(std::move(handle));
}

void ServingEngineImpl::take_incoming() {
  std::vector<std::unique_ptr<Request>> taken;
  {
    std::lock_guard lock(incoming_mutex_);
    taken.swap(incoming_);
  }
  for (auto& r : taken) {
    const RequestParams& p = r->params;
    // Paged: one sequence computes the prompt and forks the other choices from it. Contiguous: every
    // choice is its own sequence with its own prompt.
    const int32_t n_seqs = policy_->shares_prompt() ? 1 : p.n;
    for (int32_t c = 0; c < n_seqs; ++c) {
      SamplingParams sampling = p.sampling;
      sampling.seed += static_cast<uint64_t>(c);  // choices differ, each reproducible
      auto seq = std::make_unique<Sequence>(SeqId{next_seq_id_++}, c, p.prompt, sampling);
      seq->request = r.get();
      if (policy_->shares_prompt()) seq->forks_pending = p.n - 1;
      scheduler_->add(seq.get());
      r->sequences.push_back(std::move(seq));
    }
    const uint64_t id = r->id;
    requests_.emplace(id, std::move(r));
  }
}

void ServingEngineImpl::handle_cancellations() {
  for (auto& [id, r] : requests_)
    if (!r->cancelled && r->state->cancel_requested()) cancel_request(*r);
  erase_done_requests();
}

void ServingEngineImpl::cancel_request(Request& r) {
  if (r.choices_left == 0) return;
  r.cancelled = true;
  for (auto& seq : r.sequences) {
    if (r.choice_done[static_cast<size_t>(seq->choice)]) continue;
    drop_from_proposer(*seq);
    scheduler_->finish(seq.get());
  }
  // Choices not forked yet have no sequence: they end here too.
  for (int32_t c = 0; c < r.params.n; ++c) {
    if (r.choice_done[static_cast<size_t>(c)]) continue;
    r.choice_done[static_cast<size_t>(c)] = true;
    --r.choices_left;
    r.state->finish_choice(c, FinishKind::Cancelled);
  }
  metrics_.request_cancelled();
}

void ServingEngineImpl::erase_done_requests() {
  for (auto it = requests_.begin(); it != requests_.end();)
    it = it->second->choices_left == 0 ? requests_.erase(it) : std::next(it);
}

void ServingEngineImpl::note_admissions(const SchedulerOutput& out) {
  for (Sequence* seq : out.preempted) {
    (void)seq;
    metrics_.preempted("kv_cache_full");
  }
  for (const ScheduledChunk& c : out.chunks) {
    if (!c.admitted) continue;
    if (policy_->prefix_caching()) metrics_.prefix_lookup(c.seq->num_tokens(), c.start_pos);
    Request& r = *c.seq->request;
    if (r.admitted) continue;
    r.admitted = true;
    const int64_t prompt = static_cast<int64_t>(r.params.prompt.size());
    r.state->set_prompt_usage(prompt, std::min(c.start_pos, prompt));
    metrics_.prompt_admitted(prompt);
  }
}

bool ServingEngineImpl::step() {
  SchedulerOutput out;
  std::vector<SequenceStep> batch;
  std::vector<KvEvent> events;
  bool worked = false;
  int64_t batch_rows = 0;  // logits rows the forward returns
  {
    std::lock_guard lock(mutex_);
    const size_t before = requests_.size();
    take_incoming();
    worked = requests_.size() != before;
    handle_cancellations();
    propose_drafts();
    out = scheduler_->schedule();
    settle_drafts(out);
    note_admissions(out);
    ++step_index_;
    row_start_.clear();
    for (const ScheduledChunk& c : out.chunks) {
      SequenceStep s;
      s.tokens = std::span<const int32_t>(c.seq->tokens).subspan(static_cast<size_t>(c.start_pos),
                                                                 static_cast<size_t>(c.n_tokens));
      s.start_pos = c.start_pos;
      s.block_table = kv_->table(c.seq->id)->ids();
      s.all_logits = c.seq->drafts > 0;
      row_start_.push_back(batch_rows);
      batch_rows += s.all_logits ? c.n_tokens : 1;
      batch.push_back(s);
      Request& r = *c.seq->request;
      if (r.last_forward_step != step_index_) {
        r.last_forward_step = step_index_;
        r.state->add_target_forward();
      }
    }
    events.swap(pending_events_);
  }
  dispatch_events(events);
  if (batch.empty()) return worked || !out.preempted.empty();

  // Nothing but this thread changes the tokens and block tables the batch points into.
  const int64_t rows = model_->forward(batch, kv_layers_, *pool_, logits_);
  HELIX_CHECK(rows == batch_rows, "forward gave {} logits rows, the batch asked for {}", rows, batch_rows);

  {
    std::lock_guard lock(mutex_);
    verify_speculation(out);  // before commit: only kept tokens may reach the prefix cache
    scheduler_->commit(out);
    handle_output(out);
    erase_done_requests();
    events.swap(pending_events_);
  }
  dispatch_events(events);
  return true;
}

void ServingEngineImpl::handle_output(const SchedulerOutput& out) {
  const auto now = EngineClock::now();
  const int64_t vocab = model_->shape().vocab_size;
  for (size_t b = 0; b < out.chunks.size(); ++b) {
    Sequence& seq = *out.chunks[b].seq;
    if (seq.computed < seq.num_tokens()) continue;  // a prompt chunk: no token yet
    if (!seq.verified.empty()) {
      emit_verified(seq, now);
      continue;
    }
    std::span<float> row(&logits_[static_cast<size_t>(row_start_[b] * vocab)], static_cast<size_t>(vocab));
    if (seq.forks_pending == 0) {
      sample_and_emit(seq, row, now);
      continue;
    }
    // The prompt is computed: the other choices fork from it, sharing its blocks, and sample from the same
    // logits (each from a fresh copy: sampling edits them in place).
    Request& r = *seq.request;
    std::vector<Sequence*> children;
    for (int32_t c = 1; c <= seq.forks_pending; ++c) {
      SamplingParams sampling = r.params.sampling;
      sampling.seed += static_cast<uint64_t>(c);
      auto child = std::make_unique<Sequence>(SeqId{next_seq_id_++}, c, seq.tokens, sampling);
      child->request = &r;
      child->prompt_len = seq.prompt_len;
      children.push_back(child.get());
      r.sequences.push_back(std::move(child));
    }
    scheduler_->fork(seq, children);
    const std::vector<float> logits(row.begin(), row.end());
    std::vector<float> scratch = logits;
    sample_and_emit(seq, scratch, now);
    for (Sequence* child : children) {
      scratch = logits;
      sample_and_emit(*child, scratch, now);
    }
  }
}

void ServingEngineImpl::sample_and_emit(Sequence& seq, std::span<float> logits, EngineClock::time_point now) {
  emit_token(seq, seq.sampler.sample(logits, seq.tokens), TokenSource::Target, now, /*append=*/true);
}

bool ServingEngineImpl::emit_token(Sequence& seq, int32_t token, TokenSource source, EngineClock::time_point now,
                                   bool append) {
  Request& r = *seq.request;
  ++seq.generated;
  r.state->add_completion_tokens(1);
  metrics_.generated(1);
  if (!r.first_token_sent) {
    r.first_token_sent = true;
    metrics_.first_token(std::chrono::duration<double>(now - r.submitted).count());
  } else if (seq.generated > 1) {
    metrics_.inter_token(std::chrono::duration<double>(now - seq.last_token_time).count());
  }
  seq.last_token_time = now;

  if (is_stop_token(r, token)) {
    finish_sequence(seq, FinishKind::Stop);  // the stop token is not part of the output
    return true;
  }
  r.state->push_token(seq.choice, token, source);
  if (seq.generated >= r.params.max_tokens) {
    finish_sequence(seq, FinishKind::Length);
    return true;
  }
  if (append) seq.tokens.push_back(token);
  return false;
}

bool ServingEngineImpl::is_stop_token(const Request& r, int32_t token) const {
  const auto& stops = r.params.stop_ids;
  return std::find(stops.begin(), stops.end(), token) != stops.end() ||
         (!r.params.ignore_eos && tokenizer_.is_eog(token));
}

void ServingEngineImpl::finish_sequence(Sequence& seq, FinishKind kind) {
  Request& r = *seq.request;
  drop_from_proposer(seq);
  scheduler_->finish(&seq);  // blocks back now, usable by this very step's successors
  r.choice_done[static_cast<size_t>(seq.choice)] = true;
  --r.choices_left;
  r.state->finish_choice(seq.choice, kind);
  if (r.choices_left == 0)
    metrics_.request_finished(std::chrono::duration<double>(EngineClock::now() - r.submitted).count());
}

void ServingEngineImpl::dispatch_events(std::vector<KvEvent>& events) {
  if (events.empty()) return;
  std::lock_guard lock(subscribers_mutex_);
  for (const KvEvent& e : events)
    for (auto& [id, callback] : subscribers_) callback(e);
  events.clear();
}

uint64_t ServingEngineImpl::subscribe_kv_events(std::function<void(const KvEvent&)> callback) {
  std::lock_guard lock(subscribers_mutex_);
  const uint64_t id = next_subscriber_id_++;
  subscribers_.emplace(id, std::move(callback));
  return id;
}

void ServingEngineImpl::unsubscribe_kv_events(uint64_t id) {
  std::lock_guard lock(subscribers_mutex_);
  subscribers_.erase(id);
}

EngineMetrics ServingEngineImpl::metrics() const {
  int64_t incoming = 0;
  {
    std::lock_guard lock(incoming_mutex_);
    incoming = static_cast<int64_t>(incoming_.size());
  }
  std::lock_guard lock(mutex_);
  EngineMetrics m = metrics_.snapshot(static_cast<int64_t>(scheduler_->running().size()),
                                      static_cast<int64_t>(scheduler_->waiting().size()) + incoming,
                                      kv_->num_used_blocks(), kv_->num_total_blocks());
  m.requests_rejected_total = rejected_.load(std::memory_order_relaxed);
  if (draft_) {
    m.draft_kv_blocks_used = draft_->kv()->num_used_blocks();
    m.draft_kv_blocks_total = draft_->kv()->num_total_blocks();
  }
  return m;
}

std::optional<KvSnapshot> ServingEngineImpl::draft_kv_snapshot() const {
  std::lock_guard lock(mutex_);
  if (!draft_) return std::nullopt;
  return draft_->kv()->snapshot();
}

KvSnapshot ServingEngineImpl::kv_snapshot() const {
  std::lock_guard lock(mutex_);
  KvSnapshot snap = kv_->snapshot();
  if (options_.kv_mode != KvCacheMode::Contiguous) return snap;
  // The manager sees whole reservations as filled; report the tokens the sequences really hold.
  const int64_t bs = snap.block_size;
  for (const Sequence* seq : scheduler_->running()) {
    for (KvSeqInfo& info : snap.sequences) {
      if (info.seq != seq->id.value) continue;
      info.num_tokens = seq->kv_tokens;
      for (size_t i = 0; i < info.block_ids.size(); ++i) {
        const int64_t left = seq->kv_tokens - static_cast<int64_t>(i) * bs;
        snap.blocks[static_cast<size_t>(info.block_ids[i])].tokens_filled =
            static_cast<int32_t>(std::clamp<int64_t>(left, 0, bs));
      }
      info.last_block_fill = info.block_ids.empty() ? 0 : snap.blocks[static_cast<size_t>(info.block_ids.back())].tokens_filled;
    }
  }
  return snap;
}

MemoryComparison ServingEngineImpl::live_memory() const {
  std::lock_guard lock(mutex_);
  MemoryComparison c;
  c.model = model_->shape().name;
  c.kv_dtype = std::string(dtype_name(storage_->dtype()));
  c.kv_bytes_per_token = kv_bytes_per_token_;
  c.max_seq_len = max_seq_len_;
  c.block_size = kv_->block_size();
  c.num_blocks = kv_->num_total_blocks();
  c.pool_tokens = c.num_blocks * c.block_size;
  c.pool_bytes = c.pool_tokens * kv_bytes_per_token_;
  c.blocks_used = kv_->num_used_blocks();
  c.blocks_free = kv_->num_free_blocks();

  // Tokens each held block really stores: the most any of its holders has written (shared blocks once).
  std::vector<int32_t> fill(static_cast<size_t>(c.num_blocks), 0);
  int64_t seq_tokens = 0;
  const auto& running = scheduler_->running();
  for (const Sequence* seq : running) {
    seq_tokens += seq->kv_tokens;
    const BlockTable* table = kv_->table(seq->id);
    if (!table) continue;
    for (int32_t i = 0; i < table->num_blocks(); ++i) {
      const int64_t left = seq->kv_tokens - int64_t{i} * c.block_size;
      int32_t& f = fill[static_cast<size_t>(table->block(i).value)];
      f = std::max(f, static_cast<int32_t>(std::clamp<int64_t>(left, 0, c.block_size)));
    }
  }
  int64_t held_tokens = 0;
  for (int32_t f : fill) held_tokens += f;

  c.batch_size = static_cast<int64_t>(running.size());
  c.sequence_length = c.batch_size > 0 ? (seq_tokens + c.batch_size / 2) / c.batch_size : 0;
  c.traditional_bytes = c.batch_size * max_seq_len_ * kv_bytes_per_token_;
  c.paged_bytes = c.blocks_used * c.block_size * kv_bytes_per_token_;
  c.saved_bytes = c.traditional_bytes - c.paged_bytes;
  c.traditional_wasted_tokens = c.batch_size * max_seq_len_ - seq_tokens;
  c.paged_wasted_tokens = c.blocks_used * c.block_size - held_tokens;
  ModelShape shape = model_->shape();
  shape.kv_dtype = storage_->dtype();
  const Capacity cap = kv_capacity(shape, c.pool_bytes, std::max<int64_t>(1, c.sequence_length), max_seq_len_,
                                   c.block_size);
  c.sequences_fit_traditional = cap.contiguous_sequences;
  c.sequences_fit_paged = cap.paged_sequences;
  return c;
}

}  // namespace helix
