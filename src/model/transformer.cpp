#include "model/transformer.h"

#include <algorithm>

#include "kernels/dequantize.h"
#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "kernels/thread_pool.h"

namespace helix {
namespace {

// A prompt's queries are attended in runs of at least this many (a run rereads the sequence's K/V).
constexpr int64_t kMinAttentionRun = 16;

// Cuts queries [0, rows) of a prompt that starts at position `start` into at most `runs` consecutive runs of
// about equal work (query i reads start + i + 1 positions) and calls emit(first, count) for each.
template <typename Emit>
void split_prompt_queries(int64_t start, int64_t rows, int64_t runs, Emit&& emit) {
  const double total = static_cast<double>(rows) * static_cast<double>(2 * start + rows + 1) / 2;
  int64_t first = 0, made = 0;
  double work = 0;
  for (int64_t i = 0; i < rows; ++i) {
    work += static_cast<double>(start + i + 1);
    if (i + 1 == rows || work >= total * static_cast<double>(made + 1) / static_cast<double>(runs)) {
      emit(first, i + 1 - first);
      first = i + 1;
      ++made;
    }
  }
}

// Runs fn(row_begin, row_end) over rows [0, n): on the calling thread for a few rows (decode: a dispatch would
// cost more than the work), else in one piece per thread. For the per-row ops between the matmuls (norms,
// SwiGLU, residual adds), which otherwise leave the other threads waiting in a prompt or a large batch.
constexpr int64_t kParallelOpRows = 4;

template <typename Fn>
void for_rows(ThreadPool& pool, int64_t n, Fn&& fn) {
  if (n < kParallelOpRows || pool.size() == 1) return fn(int64_t{0}, n);
  const int64_t parts = std::min<int64_t>(pool.size(), n);
  pool.parallel_for(parts, [&](int64_t p, int) { fn(n * p / parts, n * (p + 1) / parts); });
}

}  // namespace

Result<std::unique_ptr<Transformer>> Transformer::load(const std::string& path, const LoadOptions& options) {
  auto file = open_model_file(path);
  HELIX_TRY(file);
  return from_file(std::move(*file), options);
}

Result<std::unique_ptr<Transformer>> Transformer::from_file(ModelFile file, const LoadOptions& options) {
  HELIX_TRY(file.shape.validate());
  auto weights = bind_weights(file);
  if (!weights) return with_context(file.path, weights.error());
  std::unique_ptr<Transformer> model(new Transformer(std::move(file), std::move(*weights)));
  if (options.prepack) {
    ThreadPool pool(options.threads);
    auto prepacked = PrepackedWeights::build(model->weights_, active_isa(), pool, model->file_.keepalive.get());
    if (!prepacked) return with_context(model->file_.path, prepacked.error());
    model->prepacked_ = std::move(*prepacked);
  }
  return model;
}

void Transformer::reserve(int64_t n) {
  const ModelShape& s = shape();
  const auto grow = [](std::vector<float>& v, int64_t size) {
    if (static_cast<int64_t>(v.size()) < size) v.resize(size);
  };
  const int64_t q_dim = s.n_heads * s.head_dim;
  const int64_t kv_dim = s.n_kv_heads * s.head_dim;
  grow(x_, n * s.hidden_dim);
  grow(xb_, n * std::max(s.hidden_dim, q_dim));
  grow(q_, n * q_dim);
  grow(k_, n * kv_dim);
  grow(v_, n * kv_dim);
  grow(attn_, n * q_dim);
  grow(gate_, n * s.ffn_dim);
  grow(up_, n * s.ffn_dim);
  grow(out_, n * s.hidden_dim);
  if (static_cast<int64_t>(pos_.size()) < n) pos_.resize(n);
  grow(rope_cos_, n * s.head_dim / 2);
  grow(rope_sin_, n * s.head_dim / 2);
}

int64_t Transformer::forward(std::span<const SequenceStep> batch, std::span<const PagedKv> kv_layers,
                             ThreadPool& pool, std::vector<float>& logits) {
  const ModelShape& s = shape();
  const Weights& w = weights_;
  const int64_t hidden = s.hidden_dim, q_dim = s.n_heads * s.head_dim, kv_dim = s.n_kv_heads * s.head_dim;
  HELIX_CHECK(static_cast<int64_t>(kv_layers.size()) == s.n_layers, "{} KV layer views for {} layers",
              kv_layers.size(), s.n_layers);

  int64_t n = 0;
  for (const SequenceStep& seq : batch) {
    HELIX_CHECK(!seq.tokens.empty(), "a sequence in the batch has no new tokens");
    const int64_t end = seq.start_pos + static_cast<int64_t>(seq.tokens.size());
    const int64_t covered = static_cast<int64_t>(seq.block_table.size()) * kv_layers[0].block_size;
    HELIX_CHECK(end <= covered, "block table covers {} positions, step needs {}", covered, end);
    n += static_cast<int64_t>(seq.tokens.size());
  }
  reserve(n);

  // Token embeddings (a row lookup, dequantized), and each row's position.
  {
    int64_t row = 0;
    for (const SequenceStep& seq : batch)
      for (size_t i = 0; i < seq.tokens.size(); ++i, ++row) {
        const int32_t token = seq.tokens[i];
        HELIX_CHECK(token >= 0 && token < s.vocab_size, "token id {} outside the vocabulary of {}", token,
                    s.vocab_size);
        dequantize_row(w.token_embedding.dtype, row_data(w.token_embedding, token), &x_[row * hidden], hidden);
        pos_[row] = seq.start_pos + static_cast<int64_t>(i);
      }
  }
  const int64_t half = s.head_dim / 2;
  for (int64_t r = 0; r < n; ++r)
    rope_angles(s.head_dim, pos_[r], s.rope_freq_base, &rope_cos_[r * half], &rope_sin_[r * half]);

  for (int64_t l = 0; l < s.n_layers; ++l) {
    const LayerWeights& lw = w.layers[l];
    const PagedKv& kv = kv_layers[l];

    // Attention: norm, the q/k/v projections for every token at once, RoPE, K/V into the pool.
    for_rows(pool, n, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) rmsnorm(&xb_[r * hidden], &x_[r * hidden], lw.attn_norm, hidden, s.rms_norm_eps);
    });
    const MatmulOutput qkv[] = {{&lw.wq, q_.data()}, {&lw.wk, k_.data()}, {&lw.wv, v_.data()}};
    matmul_shared_input(qkv, xb_.data(), n, pool);
    for_rows(pool, n, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        rope_apply(&q_[r * q_dim], s.n_heads, s.head_dim, &rope_cos_[r * half], &rope_sin_[r * half]);
        rope_apply(&k_[r * kv_dim], s.n_kv_heads, s.head_dim, &rope_cos_[r * half], &rope_sin_[r * half]);
      }
    });
    {
      int64_t row = 0;
      for (const SequenceStep& seq : batch)
        for (size_t i = 0; i < seq.tokens.size(); ++i, ++row) {
          const int64_t p = pos_[row];
          store_kv_token(kv, seq.block_table[p / kv.block_size], static_cast<int32_t>(p % kv.block_size),
                         &k_[row * kv_dim], &v_[row * kv_dim]);
        }
    }
    // Each sequence attends over its own blocks, in parallel. A decoding sequence (one query) is split by KV
    // head, each task taking that head's group of query heads; a prompt is split into runs of consecutive
    // queries of about equal work. Either way one sequence's attention is shared by the threads, and every
    // query's numbers are the same as unsplit (queries and heads are independent).
    {
      struct AttentionTask {
        size_t seq;
        int64_t first_row;  // in the batch
        int64_t query;      // index of first_row's query within its sequence
        int64_t rows;
        int32_t kv_head;    // -1: every head
      };
      thread_local std::vector<AttentionTask> caller_tasks;
      std::vector<AttentionTask>& tasks = caller_tasks;  // workers reach the caller's vector through this
      tasks.clear();
      int64_t row = 0;
      for (size_t b = 0; b < batch.size(); ++b) {
        const int64_t rows = static_cast<int64_t>(batch[b].tokens.size());
        if (rows == 1) {
          for (int32_t g = 0; g < kv.n_kv_heads; ++g) tasks.push_back({b, row, 0, 1, g});
        } else {
          const int64_t runs = std::min<int64_t>(2 * pool.size(), (rows + kMinAttentionRun - 1) / kMinAttentionRun);
          split_prompt_queries(batch[b].start_pos, rows, runs, [&](int64_t first, int64_t count) {
            tasks.push_back({b, row + first, first, count, -1});
          });
        }
        row += rows;
      }
      const int64_t group = s.n_heads / s.n_kv_heads * s.head_dim;  // query values per KV head, one token
      pool.parallel_for(static_cast<int64_t>(tasks.size()), [&](int64_t t, int) {
        const AttentionTask& task = tasks[t];
        const SequenceStep& seq = batch[task.seq];
        AttentionQueries queries;
        queries.n_queries = static_cast<int32_t>(task.rows);
        queries.first_pos = seq.start_pos + task.query;
        if (task.kv_head < 0) {
          queries.q = std::span<const float>(&q_[task.first_row * q_dim], task.rows * q_dim);
          queries.n_heads = static_cast<int32_t>(s.n_heads);
          paged_attention(queries, kv, seq.block_table,
                          std::span<float>(&attn_[task.first_row * q_dim], task.rows * q_dim));
          return;
        }
        PagedKv head = kv;
        head.k += task.kv_head * kv.head_stride_bytes;
        head.v += task.kv_head * kv.head_stride_bytes;
        head.n_kv_heads = 1;
        const int64_t at = task.first_row * q_dim + task.kv_head * group;
        queries.q = std::span<const float>(&q_[at], group);
        queries.n_heads = static_cast<int32_t>(s.n_heads / s.n_kv_heads);
        paged_attention(queries, head, seq.block_table, std::span<float>(&attn_[at], group));
      });
    }
    matmul(lw.wo, attn_.data(), n, out_.data(), pool);
    // Residual add, then the feed-forward's norm.
    for_rows(pool, n, [&](int64_t r0, int64_t r1) {
      add_inplace(&x_[r0 * hidden], &out_[r0 * hidden], (r1 - r0) * hidden);
      for (int64_t r = r0; r < r1; ++r) rmsnorm(&xb_[r * hidden], &x_[r * hidden], lw.ffn_norm, hidden, s.rms_norm_eps);
    });

    // Feed-forward: SwiGLU, down projection, residual.
    const MatmulOutput gate_up[] = {{&lw.w_gate, gate_.data()}, {&lw.w_up, up_.data()}};
    matmul_shared_input(gate_up, xb_.data(), n, pool);
    for_rows(pool, n, [&](int64_t r0, int64_t r1) {
      swiglu(&gate_[r0 * s.ffn_dim], &gate_[r0 * s.ffn_dim], &up_[r0 * s.ffn_dim], (r1 - r0) * s.ffn_dim);
    });
    matmul(lw.w_down, gate_.data(), n, out_.data(), pool);
    for_rows(pool, n, [&](int64_t r0, int64_t r1) {
      add_inplace(&x_[r0 * hidden], &out_[r0 * hidden], (r1 - r0) * hidden);
    });
  }

  // Final norm and classifier, only for the rows whose logits are wanted.
  int64_t m = 0;
  {
    int64_t row = 0;
    for (const SequenceStep& seq : batch) {
      const int64_t rows = static_cast<int64_t>(seq.tokens.size());
      for (int64_t i = seq.all_logits ? 0 : rows - 1; i < rows; ++i, ++m)
        rmsnorm(&xb_[m * hidden], &x_[(row + i) * hidden], w.output_norm, hidden, s.rms_norm_eps);
      row += rows;
    }
  }
  logits.resize(m * s.vocab_size);
  matmul(w.classifier, xb_.data(), m, logits.data(), pool);
  return m;
}

}  // namespace helix
