// ChoiceText: one choice's generated tokens turned into the text a client receives, piece by piece.
// Decoding never splits a UTF-8 character (TokenStreamDecoder), and stop strings are matched on the decoded
// text: the output is cut before the first stop string, and text that could still become the start of one is
// held back until the next token settles it, so a streamed client never sees part of a stop string.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/tokenizer.h"

namespace helix::server {

class ChoiceText {
 public:
  // prev_id: the last prompt token (a SentencePiece piece right after BOS loses its leading space).
  ChoiceText(const Tokenizer& tokenizer, int32_t prev_id, std::vector<std::string> stop);

  // Adds a generated token; returns the text now safe to send. Once a stop string completes, returns the text
  // before it and stopped() turns true; later pushes return nothing.
  std::string push(int32_t token);
  // The end of generation without a stop string: whatever was held back (an unfinished UTF-8 character is
  // sent as its raw bytes).
  std::string finish();

  bool stopped() const { return stopped_; }
  int64_t tokens() const { return tokens_; }  // tokens pushed before the choice ended (the stop's included)
  const std::string& text() const { return sent_; }  // everything returned so far

 private:
  std::string release(std::string text);

  TokenStreamDecoder decoder_;
  std::vector<std::string> stop_;
  size_t longest_stop_ = 0;
  std::string held_;  // decoded, not yet sent
  std::string sent_;
  int64_t tokens_ = 0;
  bool stopped_ = false;
};

}  // namespace helix::server
