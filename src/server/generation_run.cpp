#include "server/generation_run.h"

#include <algorithm>

namespace helix::server {

namespace {
constexpr int kMaxEventsPerPoll = 4096;  // bounds one poll's work when the engine runs far ahead of a client
}

std::string finish_reason_name(FinishKind kind) {
  switch (kind) {
    case FinishKind::Length: return "length";
    case FinishKind::Stop: return "stop";
    case FinishKind::Cancelled: return "abort";
    case FinishKind::None:
    case FinishKind::Error: return "";
  }
  return "";
}

GenerationRun::GenerationRun(std::shared_ptr<RequestHandle> handle, const Tokenizer& tokenizer,
                             const std::vector<int32_t>& prompt, int32_t n, std::vector<std::string> stop)
    : handle_(std::move(handle)), prompt_tokens_(static_cast<int64_t>(prompt.size())), remaining_(n) {
  const int32_t prev_id = prompt.empty() ? -1 : prompt.back();
  choices_.reserve(n);
  for (int32_t i = 0; i < n; ++i) choices_.push_back(Choice{ChoiceText(tokenizer, prev_id, stop), {}});
}

GenerationRun::~GenerationRun() {
  if (!done()) handle_->cancel();
}

void GenerationRun::cancel() { handle_->cancel(); }

std::vector<ChoiceDelta> GenerationRun::poll(std::chrono::milliseconds timeout) {
  std::vector<ChoiceDelta> out;
  TokenEvent event;
  if (done() || !handle_->next(event, timeout)) return out;
  handle_event(event, out);
  for (int i = 1; i < kMaxEventsPerPoll && !done() && handle_->next(event, std::chrono::milliseconds(0)); ++i)
    handle_event(event, out);
  return out;
}

void GenerationRun::handle_event(const TokenEvent& event, std::vector<ChoiceDelta>& out) {
  if (event.index < 0 || event.index >= static_cast<int32_t>(choices_.size())) return;
  Choice& choice = choices_[event.index];
  if (!choice.finish_reason.empty()) return;  // ended here already (stop string); the engine is catching up

  auto delta_for = [&out](int32_t index) -> ChoiceDelta& {
    auto it = std::find_if(out.begin(), out.end(), [&](const ChoiceDelta& d) { return d.index == index; });
    if (it != out.end()) return *it;
    out.push_back(ChoiceDelta{index, {}, std::nullopt});
    return out.back();
  };

  if (event.token) {
    std::string text = choice.text.push(*event.token);
    if (choice.text.stopped()) {
      cut_by_stop_string_ = true;
      return end_choice(event.index, "stop", std::move(text), out);
    }
    if (!text.empty()) delta_for(event.index).text += text;
  }
  if (event.finish == FinishKind::None) return;
  choice.ended_on_stop_token = event.finish == FinishKind::Stop;
  if (event.finish == FinishKind::Error && !error_)
    error_ = event.error.empty() ? std::string("generation failed") : event.error;
  const std::string reason = event.finish == FinishKind::Error ? "error" : finish_reason_name(event.finish);
  end_choice(event.index, reason, choice.text.finish(), out);
}

void GenerationRun::end_choice(int32_t index, std::string reason, std::string tail, std::vector<ChoiceDelta>& out) {
  choices_[index].finish_reason = reason;
  auto it = std::find_if(out.begin(), out.end(), [&](const ChoiceDelta& d) { return d.index == index; });
  if (it == out.end()) {
    out.push_back(ChoiceDelta{index, {}, std::nullopt});
    it = std::prev(out.end());
  }
  it->text += tail;
  it->finish_reason = std::move(reason);
  // Every choice over: a request whose choices ended on stop strings is still generating in the engine.
  if (--remaining_ == 0 && cut_by_stop_string_) handle_->cancel();
}

UsageCounts GenerationRun::usage() const {
  UsageCounts u;
  u.prompt_tokens = prompt_tokens_;
  u.cached_tokens = handle_->usage().cached_prompt_tokens;
  // As the engine counts: every token generated up to a choice's end, its stop token included.
  for (const Choice& c : choices_) u.completion_tokens += c.text.tokens() + (c.ended_on_stop_token ? 1 : 0);
  return u;
}

std::vector<ChoiceResult> GenerationRun::results() const {
  std::vector<ChoiceResult> out;
  for (size_t i = 0; i < choices_.size(); ++i)
    out.push_back(ChoiceResult{static_cast<int32_t>(i), choices_[i].text.text(), choices_[i].finish_reason});
  return out;
}

}  // namespace helix::server
