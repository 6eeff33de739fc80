// Counters and histograms behind EngineMetrics (serving_engine.h): the bucket bounds, and the recording the
// engine thread does (under its lock) as requests are admitted, stream tokens, finish or are preempted.
#pragma once

#include <string>
#include <vector>

#include "engine/serving_engine.h"

namespace helix {

// Bounds in seconds, ascending (Prometheus adds +Inf).
const std::vector<double>& ttft_buckets_seconds();
const std::vector<double>& tpot_buckets_seconds();
const std::vector<double>& latency_buckets_seconds();

Histogram make_histogram(const std::vector<double>& upper_bounds);
// Adds one observation: every bucket whose bound is >= value counts it (cumulative).
void observe(Histogram& histogram, double value);
// The q-quantile (0..1) estimated from the buckets, Prometheus' histogram_quantile (linear within a bucket).
double histogram_quantile(const Histogram& histogram, double q);

class EngineMetricsRecorder {
 public:
  EngineMetricsRecorder();

  void preempted(const std::string& reason) { ++m_.preemptions_by_reason[reason]; }
  void prefix_lookup(int64_t queried_tokens, int64_t hit_tokens);
  void prompt_admitted(int64_t prompt_tokens) { m_.prompt_tokens_total += static_cast<uint64_t>(prompt_tokens); }
  void generated(int64_t tokens) { m_.generation_tokens_total += static_cast<uint64_t>(tokens); }
  void first_token(double seconds_since_submit) { observe(m_.time_to_first_token, seconds_since_submit); }
  void inter_token(double seconds) { observe(m_.time_per_output_token, seconds); }
  void request_finished(double latency_seconds);
  void request_cancelled() { ++m_.requests_cancelled_total; }
  void request_rejected() { ++m_.requests_rejected_total; }
  void verification(int32_t proposed, int32_t accepted);

  // The counters with the gauges filled in.
  EngineMetrics snapshot(int64_t running, int64_t waiting, int64_t blocks_used, int64_t blocks_total) const;

 private:
  EngineMetrics m_;
};

}  // namespace helix
