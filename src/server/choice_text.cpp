#include "server/choice_text.h"

#include <algorithm>

namespace helix::server {

ChoiceText::ChoiceText(const Tokenizer& tokenizer, int32_t prev_id, std::vector<std::string> stop)
    : decoder_(tokenizer, prev_id), stop_(std::move(stop)) {
  for (const std::string& s : stop_) longest_stop_ = std::max(longest_stop_, s.size());
}

std::string ChoiceText::push(int32_t token) {
  if (stopped_) return {};
  ++tokens_;
  const size_t searched = held_.size();
  held_ += decoder_.push(token);
  if (stop_.empty()) return release(std::exchange(held_, {}));

  // A stop string ending in the new text starts at most longest_stop_ - 1 bytes before it.
  const size_t from = searched >= longest_stop_ ? searched - (longest_stop_ - 1) : 0;
  size_t first = std::string::npos;
  for (const std::string& s : stop_) first = std::min(first, held_.find(s, from));
  if (first != std::string::npos) {
    stopped_ = true;
    std::string before = held_.substr(0, first);
    held_.clear();
    return release(std::move(before));
  }

  // Hold back the longest tail that is a proper prefix of some stop string.
  size_t hold = 0;
  for (const std::string& s : stop_) {
    for (size_t len = std::min(s.size() - 1, held_.size()); len > hold; --len) {
      if (held_.compare(held_.size() - len, len, s, 0, len) == 0) {
        hold = len;
        break;
      }
    }
  }
  std::string ready = held_.substr(0, held_.size() - hold);
  held_.erase(0, held_.size() - hold);
  return release(std::move(ready));
}

std::string ChoiceText::finish() {
  if (stopped_) return {};
  std::string rest = std::exchange(held_, {}) + decoder_.flush();
  // flush() gives only the bytes of an unfinished character, and no stop string (valid UTF-8, as parsed from
  // JSON) can end inside one: nothing new to match.
  return release(std::move(rest));
}

std::string ChoiceText::release(std::string text) {
  sent_ += text;
  return text;
}

}  // namespace helix::server
