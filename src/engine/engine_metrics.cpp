#include "engine/engine_metrics.h"

#include <algorithm>

namespace helix {

const std::vector<double>& ttft_buckets_seconds() {
  static const std::vector<double> b = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5,
                                        0.75,  1.0,   2.5,  5.0,  7.5,  10.0, 20.0, 40.0, 80.0};
  return b;
}

const std::vector<double>& tpot_buckets_seconds() {
  static const std::vector<double> b = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15,
                                        0.2,   0.3,    0.4,   0.5,  0.75,  1.0,  2.5,   5.0, 10.0};
  return b;
}

const std::vector<double>& latency_buckets_seconds() {
  static const std::vector<double> b = {0.01, 0.05, 0.1, 0.3, 0.5,  0.8,  1.0,  1.5,  2.0,  2.5,  5.0,
                                        10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 300.0, 600.0};
  return b;
}

Histogram make_histogram(const std::vector<double>& upper_bounds) {
  Histogram h;
  h.upper_bounds = upper_bounds;
  h.counts.assign(upper_bounds.size(), 0);
  return h;
}

void observe(Histogram& h, double value) {
  // Bounds ascend, so the buckets counting `value` are a suffix.
  const auto first = std::lower_bound(h.upper_bounds.begin(), h.upper_bounds.end(), value);
  for (size_t i = static_cast<size_t>(first - h.upper_bounds.begin()); i < h.counts.size(); ++i) ++h.counts[i];
  ++h.count;
  h.sum += value;
}

double histogram_quantile(const Histogram& h, double q) {
  if (h.count == 0) return 0.0;
  const double rank = q * static_cast<double>(h.count);
  uint64_t below = 0;
  double lower = 0.0;
  for (size_t i = 0; i < h.counts.size(); ++i) {
    if (static_cast<double>(h.counts[i]) >= rank) {
      const uint64_t in_bucket = h.counts[i] - below;
      if (in_bucket == 0) return h.upper_bounds[i];
      return lower + (h.upper_bounds[i] - lower) * (rank - static_cast<double>(below)) / static_cast<double>(in_bucket);
    }
    below = h.counts[i];
    lower = h.upper_bounds[i];
  }
  return h.upper_bounds.empty() ? 0.0 : h.upper_bounds.back();  // in the +Inf bucket
}

EngineMetricsRecorder::EngineMetricsRecorder() {
  m_.time_to_first_token = make_histogram(ttft_buckets_seconds());
  m_.time_per_output_token = make_histogram(tpot_buckets_seconds());
  m_.request_latency = make_histogram(latency_buckets_seconds());
}

void EngineMetricsRecorder::prefix_lookup(int64_t queried_tokens, int64_t hit_tokens) {
  m_.prefix_queries_tokens += static_cast<uint64_t>(queried_tokens);
  m_.prefix_hits_tokens += static_cast<uint64_t>(hit_tokens);
}

void EngineMetricsRecorder::request_finished(double latency_seconds) {
  ++m_.requests_finished_total;
  observe(m_.request_latency, latency_seconds);
}

void EngineMetricsRecorder::verification(int32_t proposed, int32_t accepted) {
  m_.spec_proposed_total += static_cast<uint64_t>(proposed);
  m_.spec_accepted_total += static_cast<uint64_t>(accepted);
  ++m_.spec_verify_steps_total;
  auto& h = m_.spec_accepted_histogram;
  if (h.size() <= static_cast<size_t>(accepted)) h.resize(static_cast<size_t>(accepted) + 1, 0);
  ++h[static_cast<size_t>(accepted)];
}

EngineMetrics EngineMetricsRecorder::snapshot(int64_t running, int64_t waiting, int64_t blocks_used,
                                              int64_t blocks_total) const {
  EngineMetrics m = m_;
  m.running = running;
  m.waiting = waiting;
  m.kv_blocks_used = blocks_used;
  m.kv_blocks_total = blocks_total;
  m.kv_usage = blocks_total > 0 ? static_cast<double>(blocks_used) / static_cast<double>(blocks_total) : 0.0;
  return m;
}

}  // namespace helix
