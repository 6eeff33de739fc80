// GenerationRun: the HTTP side of one submitted request. Reads the request's token events, turns each choice's
// tokens into text (ChoiceText: UTF-8 safe, stop strings cut), ends a choice when its stop string appears,
// cancels the request once every choice is over, and counts usage. Streaming and non-streaming handlers both
// drive it; neither ever blocks the engine thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/serving_engine.h"
#include "server/choice_text.h"
#include "server/openai_response.h"

namespace helix::server {

// New text of one choice, and its finish reason when this is its end.
struct ChoiceDelta {
  int32_t index = 0;
  std::string text;
  std::optional<std::string> finish_reason;
};

// OpenAI's finish_reason for an engine finish: "length", "stop", or "abort" (cancelled by the server, e.g. at
// shutdown; vLLM's word). Empty for None and Error.
std::string finish_reason_name(FinishKind kind);

class GenerationRun {
 public:
  // `prompt` is what was submitted (its last token starts each choice's decoding).
  GenerationRun(std::shared_ptr<RequestHandle> handle, const Tokenizer& tokenizer, const std::vector<int32_t>& prompt,
                int32_t n, std::vector<std::string> stop);
  ~GenerationRun();  // cancels the request if it is still going
  GenerationRun(const GenerationRun&) = delete;
  GenerationRun& operator=(const GenerationRun&) = delete;

  // Waits up to `timeout` for the next event, then takes every event already queued. Returns the new text per
  // choice (one delta per choice that changed, in the order they changed); empty if nothing came.
  std::vector<ChoiceDelta> poll(std::chrono::milliseconds timeout);

  bool done() const { return remaining_ == 0; }
  // The engine's error message when a choice failed (the request then counts as done).
  const std::optional<std::string>& error() const { return error_; }
  // The client is gone: stop generating (the engine frees the blocks at its next step).
  void cancel();

  UsageCounts usage() const;
  // Each choice's whole text and finish reason, by index (complete once done()).
  std::vector<ChoiceResult> results() const;

 private:
  struct Choice {
    ChoiceText text;
    std::string finish_reason;  // empty while running
    bool ended_on_stop_token = false;  // the engine generated a stop token it does not send: it counts
  };
  void handle_event(const TokenEvent& event, std::vector<ChoiceDelta>& out);
  void end_choice(int32_t index, std::string reason, std::string tail, std::vector<ChoiceDelta>& out);

  std::shared_ptr<RequestHandle> handle_;
  int64_t prompt_tokens_;
  std::vector<Choice> choices_;
  int32_t remaining_;
  bool cut_by_stop_string_ = false;
  std::optional<std::string> error_;
};

}  // namespace helix::server
