#include "server/prometheus.h"

#include <cmath>

#include <fmt/format.h>

namespace helix::server {

std::string prometheus_number(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 1e15) return fmt::format("{}", static_cast<int64_t>(value));
  return fmt::format("{}", value);  // shortest round-trip form
}

std::string prometheus_escape(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

void PrometheusWriter::family(std::string_view name, std::string_view help, std::string_view type) {
  text_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void PrometheusWriter::sample(std::string_view name, const Labels& labels, double value) {
  text_ += name;
  if (!labels.empty()) {
    text_ += '{';
    for (size_t i = 0; i < labels.size(); ++i)
      text_ += fmt::format("{}{}=\"{}\"", i ? "," : "", labels[i].first, prometheus_escape(labels[i].second));
    text_ += '}';
  }
  text_ += ' ';
  text_ += prometheus_number(value);
  text_ += '\n';
}

void PrometheusWriter::gauge(std::string_view name, std::string_view help, double value) {
  family(name, help, "gauge");
  sample(name, {}, value);
}

void PrometheusWriter::counter(std::string_view name, std::string_view help, double value) {
  family(name, help, "counter");
  sample(name, {}, value);
}

void PrometheusWriter::counter_family(std::string_view name, std::string_view help,
                                      const std::vector<std::pair<Labels, double>>& samples) {
  family(name, help, "counter");
  for (const auto& [labels, value] : samples) sample(name, labels, value);
}

void PrometheusWriter::histogram(std::string_view name, std::string_view help, const Histogram& h) {
  family(name, help, "histogram");
  const std::string bucket = fmt::format("{}_bucket", name);
  for (size_t i = 0; i < h.upper_bounds.size(); ++i)
    sample(bucket, {{"le", prometheus_number(h.upper_bounds[i])}}, i < h.counts.size() ? h.counts[i] : h.count);
  sample(bucket, {{"le", "+Inf"}}, static_cast<double>(h.count));
  sample(fmt::format("{}_sum", name), {}, h.sum);
  sample(fmt::format("{}_count", name), {}, static_cast<double>(h.count));
}

namespace {

// Reasons the engine may not have hit yet still get a zero series, so dashboards see the family.
const char* const kPreemptionReasons[] = {"kv_cache_full"};

std::vector<std::pair<Labels, double>> preemption_samples(const EngineMetrics& m) {
  std::map<std::string, uint64_t> by_reason = m.preemptions_by_reason;
  for (const char* reason : kPreemptionReasons) by_reason.try_emplace(reason, 0);
  std::vector<std::pair<Labels, double>> out;
  for (const auto& [reason, count] : by_reason) out.push_back({{{"reason", reason}}, static_cast<double>(count)});
  return out;
}

std::vector<std::pair<Labels, double>> accepted_per_step_samples(const EngineMetrics& m) {
  std::vector<std::pair<Labels, double>> out;
  for (size_t n = 0; n < m.spec_accepted_histogram.size(); ++n)
    out.push_back({{{"accepted", std::to_string(n)}}, static_cast<double>(m.spec_accepted_histogram[n])});
  return out;
}

nlohmann::json histogram_json(const Histogram& h) {
  nlohmann::json buckets = nlohmann::json::array();
  for (size_t i = 0; i < h.upper_bounds.size(); ++i)
    buckets.push_back({{"le", h.upper_bounds[i]}, {"count", i < h.counts.size() ? h.counts[i] : h.count}});
  return {{"buckets", buckets}, {"count", h.count}, {"sum", h.sum}};
}

}  // namespace

std::string metrics_prometheus_text(const EngineMetrics& m) {
  PrometheusWriter w;
  w.gauge("helix_sequences_running", "Sequences in the running batch (a request with n choices counts n).",
          m.running);
  w.gauge("helix_sequences_waiting", "Sequences queued for admission (preempted ones included).", m.waiting);
  w.gauge("helix_kv_blocks_used", "KV cache blocks held by sequences.", m.kv_blocks_used);
  w.gauge("helix_kv_blocks_total", "KV cache blocks in the pool.", m.kv_blocks_total);
  w.gauge("helix_kv_usage_ratio", "Used KV cache blocks over pool blocks (0..1).", m.kv_usage);
  w.counter_family("helix_preemptions_total", "Sequences preempted (blocks taken back), by reason.",
                   preemption_samples(m));
  w.counter("helix_prefix_cache_queried_tokens_total", "Prompt tokens looked up in the prefix cache.",
            static_cast<double>(m.prefix_queries_tokens));
  w.counter("helix_prefix_cache_hit_tokens_total", "Prompt tokens served from cached prefix blocks.",
            static_cast<double>(m.prefix_hits_tokens));
  w.counter("helix_prompt_tokens_total", "Prompt tokens processed.", static_cast<double>(m.prompt_tokens_total));
  w.counter("helix_generation_tokens_total", "Tokens generated.", static_cast<double>(m.generation_tokens_total));
  w.counter_family("helix_requests_total", "Requests that left the engine, by outcome.",
                   {{{{"outcome", "finished"}}, static_cast<double>(m.requests_finished_total)},
                    {{{"outcome", "cancelled"}}, static_cast<double>(m.requests_cancelled_total)},
                    {{{"outcome", "rejected"}}, static_cast<double>(m.requests_rejected_total)}});
  w.counter("helix_spec_proposed_tokens_total", "Speculative draft tokens the target verified.",
            static_cast<double>(m.spec_proposed_total));
  w.counter("helix_spec_accepted_tokens_total", "Speculative draft tokens accepted and emitted.",
            static_cast<double>(m.spec_accepted_total));
  w.counter("helix_spec_verify_steps_total", "Sequence steps that verified at least one draft token.",
            static_cast<double>(m.spec_verify_steps_total));
  w.counter_family("helix_spec_accepted_per_step_total", "Verification steps by the number of drafts they kept.",
                   accepted_per_step_samples(m));
  w.gauge("helix_draft_kv_blocks_used", "Draft model KV cache blocks held by sequences (0 without a draft model).",
          m.draft_kv_blocks_used);
  w.gauge("helix_draft_kv_blocks_total", "Draft model KV cache blocks in its pool (0 without a draft model).",
          m.draft_kv_blocks_total);
  w.histogram("helix_time_to_first_token_seconds", "Time from submission to a request's first token.",
              m.time_to_first_token);
  w.histogram("helix_time_per_output_token_seconds", "Time between consecutive generated tokens of a request.",
              m.time_per_output_token);
  w.histogram("helix_request_latency_seconds", "Time from submission to a request's end.", m.request_latency);
  return w.text();
}

nlohmann::json metrics_json(const EngineMetrics& m) {
  nlohmann::json preemptions = nlohmann::json::object();
  for (const char* reason : kPreemptionReasons) preemptions[reason] = 0;
  for (const auto& [reason, count] : m.preemptions_by_reason) preemptions[reason] = count;
  return {{"sequences_running", m.running},
          {"sequences_waiting", m.waiting},
          {"kv_blocks_used", m.kv_blocks_used},
          {"kv_blocks_total", m.kv_blocks_total},
          {"kv_usage_ratio", m.kv_usage},
          {"preemptions_total", preemptions},
          {"prefix_cache_queried_tokens_total", m.prefix_queries_tokens},
          {"prefix_cache_hit_tokens_total", m.prefix_hits_tokens},
          {"prompt_tokens_total", m.prompt_tokens_total},
          {"generation_tokens_total", m.generation_tokens_total},
          {"requests_total",
           {{"finished", m.requests_finished_total},
            {"cancelled", m.requests_cancelled_total},
            {"rejected", m.requests_rejected_total}}},
          {"spec_proposed_tokens_total", m.spec_proposed_total},
          {"spec_accepted_tokens_total", m.spec_accepted_total},
          {"spec_verify_steps_total", m.spec_verify_steps_total},
          {"spec_accepted_per_step", m.spec_accepted_histogram},
          {"draft_kv_blocks_used", m.draft_kv_blocks_used},
          {"draft_kv_blocks_total", m.draft_kv_blocks_total},
          {"time_to_first_token_seconds", histogram_json(m.time_to_first_token)},
          {"time_per_output_token_seconds", histogram_json(m.time_per_output_token)},
          {"request_latency_seconds", histogram_json(m.request_latency)}};
}

}  // namespace helix::server
