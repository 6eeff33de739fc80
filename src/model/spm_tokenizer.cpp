// SentencePiece BPE encoding, as llama.cpp's llm_tokenizer_spm: start from one symbol per UTF-8 char,
// repeatedly merge the adjacent pair whose concatenation is the highest-scoring token (leftmost on a
// tie), then emit each symbol's token, or its bytes as <0xNN> tokens when the char has no piece.
#include <queue>

#include "model/tokenizer.h"
#include "model/utf8.h"

namespace helix {

namespace {

constexpr std::string_view kSpaceMarker = "\xE2\x96\x81";  // '▁'

struct Symbol {
  size_t offset;  // into the escaped text
  size_t length;  // bytes; 0 once merged into its left neighbour
  int32_t prev;
  int32_t next;
};

struct Bigram {
  float score;
  int32_t left;
  int32_t right;
  size_t length;  // of the merged text: a mismatch later means a side has changed since
};

// priority_queue pops the largest: highest score, then the leftmost.
struct BigramOrder {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

}  // namespace

void Tokenizer::encode_spm(std::string_view text, bool prefix_space, std::vector<int32_t>& out) const {
  std::string escaped;
  escaped.reserve(text.size() + text.size() / 4 + kSpaceMarker.size());
  if (prefix_space) escaped.append(kSpaceMarker);
  for (const char c : text) {
    if (c == ' ') {
      escaped.append(kSpaceMarker);
    } else {
      escaped += c;
    }
  }
  if (escaped.empty()) return;

  std::vector<Symbol> symbols;
  symbols.reserve(escaped.size());
  for (size_t pos = 0; pos < escaped.size();) {
    const size_t length = utf8_decode_at(escaped, pos).length;
    const auto index = static_cast<int32_t>(symbols.size());
    symbols.push_back({pos, length, index - 1, index + 1});
    pos += length;
  }
  symbols.back().next = -1;

  std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue;
  auto try_add = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const size_t length = symbols[left].length + symbols[right].length;
    const int32_t id = find_token(std::string_view(escaped).substr(symbols[left].offset, length));
    if (id < 0) return;
    queue.push({scores_[id], left, right, length});
  };
  for (int32_t i = 1; i < static_cast<int32_t>(symbols.size()); ++i) try_add(i - 1, i);

  while (!queue.empty()) {
    const Bigram bigram = queue.top();
    queue.pop();
    Symbol& left = symbols[bigram.left];
    Symbol& right = symbols[bigram.right];
    // Stale: one side was merged away or grew since this pair was queued.
    if (left.length == 0 || right.length == 0 || left.length + right.length != bigram.length) continue;
    left.length += right.length;
    right.length = 0;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = bigram.left;
    try_add(left.prev, bigram.left);
    try_add(bigram.left, left.next);
  }

  for (int32_t i = 0; i != -1; i = symbols[i].next) {
    const std::string_view piece = std::string_view(escaped).substr(symbols[i].offset, symbols[i].length);
    const int32_t id = find_token(piece);
    if (id >= 0) {
      out.push_back(id);
      continue;
    }
    // Only single chars reach here (a merge always makes a token): fall back to their bytes.
    for (const char c : piece) {
      const int32_t byte_id = byte_tokens_[static_cast<uint8_t>(c)];
      if (byte_id >= 0) {
        out.push_back(byte_id);
      } else if (unk_id_ >= 0) {
        out.push_back(unk_id_);
      }
    }
  }
}

}  // namespace helix
