#include "engine/request.h"

namespace helix {

void EngineSignal::notify() {
  {
    std::lock_guard lock(mutex_);
    pending_ = true;
  }
  cv_.notify_one();
}

void EngineSignal::wait(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  cv_.wait_for(lock, timeout, [&] { return pending_; });
  pending_ = false;
}

void EngineSignal::clear() {
  std::lock_guard lock(mutex_);
  pending_ = false;
}

RequestState::RequestState(uint64_t id, int32_t n_choices, std::shared_ptr<EngineSignal> signal)
    : id_(id), signal_(std::move(signal)), choices_left_(n_choices) {}

bool RequestState::next(TokenEvent& event, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  cv_.wait_for(lock, timeout, [&] { return !events_.empty() || choices_left_ == 0; });
  if (events_.empty()) return false;
  event = std::move(events_.front());
  events_.pop_front();
  return true;
}

bool RequestState::finished() const {
  std::lock_guard lock(mutex_);
  return choices_left_ == 0;
}

void RequestState::cancel() {
  if (cancel_.exchange(true, std::memory_order_acq_rel)) return;
  if (signal_) signal_->notify();
}

RequestUsage RequestState::usage() const {
  std::lock_guard lock(mutex_);
  return usage_;
}

void RequestState::push_token(int32_t index, int32_t token, TokenSource source) {
  {
    std::lock_guard lock(mutex_);
    TokenEvent e;
    e.index = index;
    e.token = token;
    e.source = source;
    events_.push_back(std::move(e));
  }
  cv_.notify_all();
}

void RequestState::finish_choice(int32_t index, FinishKind kind, std::string error) {
  {
    std::lock_guard lock(mutex_);
    HELIX_CHECK(choices_left_ > 0, "request {}: choice {} finished after every choice had", id_, index);
    TokenEvent e;
    e.index = index;
    e.finish = kind;
    e.error = std::move(error);
    events_.push_back(std::move(e));
    --choices_left_;
  }
  cv_.notify_all();
}

void RequestState::set_prompt_usage(int64_t prompt_tokens, int64_t cached_prompt_tokens) {
  std::lock_guard lock(mutex_);
  usage_.prompt_tokens = prompt_tokens;
  usage_.cached_prompt_tokens = cached_prompt_tokens;
}

void RequestState::add_completion_tokens(int64_t n) {
  std::lock_guard lock(mutex_);
  usage_.completion_tokens += n;
}

void RequestState::add_target_forward() {
  std::lock_guard lock(mutex_);
  ++usage_.target_forwards;
}

void RequestState::init_speculation(int32_t spec_tokens) {
  std::lock_guard lock(mutex_);
  usage_.spec_accepted_histogram.assign(static_cast<size_t>(spec_tokens) + 1, 0);
}

void RequestState::add_verification(int32_t proposed, int32_t accepted) {
  std::lock_guard lock(mutex_);
  usage_.spec_proposed += proposed;
  usage_.spec_accepted += accepted;
  ++usage_.spec_verify_steps;
  auto& h = usage_.spec_accepted_histogram;
  if (h.size() <= static_cast<size_t>(accepted)) h.resize(static_cast<size_t>(accepted) + 1, 0);
  ++h[static_cast<size_t>(accepted)];
}

Sequence::Sequence(SeqId id_, int32_t choice_, std::vector<int32_t> prompt, SamplingParams sampling)
    : id(id_),
      choice(choice_),
      tokens(std::move(prompt)),
      prompt_len(static_cast<int64_t>(tokens.size())),
      sampler(sampling) {}

}  // namespace helix
