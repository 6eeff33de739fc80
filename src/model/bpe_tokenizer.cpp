// Byte-level BPE encoding, as llama.cpp's llm_tokenizer_bpe and Hugging Face's BPE model: the
// pre-tokenizer splits words; within a word each byte starts as the token of its byte-level char, and
// the adjacent pair with the lowest merge rank (leftmost on a tie) merges until no listed pair is left.
#include <queue>

#include "model/byte_level.h"
#include "model/tokenizer.h"

namespace helix {

namespace {

constexpr int32_t kMergedAway = -2;

struct Symbol {
  int32_t id;  // token id; -1 for a byte with no token; kMergedAway once merged into its left neighbour
  int32_t prev;
  int32_t next;
};

struct Candidate {
  int32_t rank;
  int32_t left;
  int32_t right;
  int32_t left_id;   // the ids when queued: a mismatch later means a side has changed since
  int32_t right_id;
  int32_t merged_id;
};

// priority_queue pops the largest: lowest rank, then the leftmost.
struct CandidateOrder {
  bool operator()(const Candidate& a, const Candidate& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
};

}  // namespace

void Tokenizer::encode_bpe(std::string_view text, std::vector<int32_t>& out) const {
  std::string prefixed;
  if (byte_level_prefix_space_ && (text.empty() || text[0] != ' ')) {
    prefixed.reserve(text.size() + 1);
    prefixed += ' ';
    prefixed.append(text);
    text = prefixed;
  }
  for (const TextPiece& piece : pre_tokenize(text, pre_tokenizer_)) {
    encode_bpe_word(text.substr(piece.begin, piece.end - piece.begin), out);
  }
}

void Tokenizer::encode_bpe_word(std::string_view word, std::vector<int32_t>& out) const {
  if (ignore_merges_) {
    std::string mapped;
    for (const char c : word) mapped += byte_level_char(static_cast<uint8_t>(c));
    if (const int32_t id = find_token(mapped); id >= 0) {
      out.push_back(id);
      return;
    }
  }

  std::vector<Symbol> symbols(word.size());
  for (size_t i = 0; i < word.size(); ++i) {
    symbols[i] = {byte_tokens_[static_cast<uint8_t>(word[i])], static_cast<int32_t>(i) - 1,
                  static_cast<int32_t>(i) + 1};
  }
  if (!symbols.empty()) symbols.back().next = -1;

  std::priority_queue<Candidate, std::vector<Candidate>, CandidateOrder> queue;
  auto try_add = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const int32_t left_id = symbols[left].id;
    const int32_t right_id = symbols[right].id;
    if (left_id < 0 || right_id < 0) return;
    const auto it = merges_.find((static_cast<uint64_t>(left_id) << 32) | static_cast<uint32_t>(right_id));
    if (it == merges_.end()) return;
    queue.push({it->second.rank, left, right, left_id, right_id, it->second.merged_id});
  };
  for (int32_t i = 1; i < static_cast<int32_t>(symbols.size()); ++i) try_add(i - 1, i);

  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Symbol& left = symbols[c.left];
    Symbol& right = symbols[c.right];
    if (left.id != c.left_id || right.id != c.right_id || left.next != c.right) continue;
    left.id = c.merged_id;
    right.id = kMergedAway;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = c.left;
    try_add(left.prev, c.left);
    try_add(c.left, left.next);
  }

  for (int32_t i = symbols.empty() ? -1 : 0; i != -1; i = symbols[i].next) {
    if (symbols[i].id >= 0) {
      out.push_back(symbols[i].id);
    } else if (unk_id_ >= 0) {
      out.push_back(unk_id_);  // a byte the vocabulary has no char for
    }
  }
}

}  // namespace helix
