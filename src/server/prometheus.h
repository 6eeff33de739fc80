// Prometheus text exposition format (version 0.0.4): one "# HELP" and "# TYPE" line per metric family, then
// its samples; histograms as cumulative _bucket{le="..."} series ending in le="+Inf", then _sum and _count.
// /metrics renders the engine's counters with it (all names start with helix_).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/serving_engine.h"

namespace helix::server {

inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

using Labels = std::vector<std::pair<std::string, std::string>>;

class PrometheusWriter {
 public:
  void gauge(std::string_view name, std::string_view help, double value);
  // `name` must end in _total (the format's rule for counters).
  void counter(std::string_view name, std::string_view help, double value);
  // One family, one sample per label set.
  void counter_family(std::string_view name, std::string_view help, const std::vector<std::pair<Labels, double>>& samples);
  void histogram(std::string_view name, std::string_view help, const Histogram& h);

  const std::string& text() const { return text_; }

 private:
  void family(std::string_view name, std::string_view help, std::string_view type);
  void sample(std::string_view name, const Labels& labels, double value);

  std::string text_;
};

// A sample value as the format writes it: integers without a decimal point, +Inf/-Inf/NaN spelt out.
std::string prometheus_number(double value);
// A label value with \, " and newline escaped.
std::string prometheus_escape(std::string_view value);

// The /metrics page for the engine's figures, and the same figures as JSON.
std::string metrics_prometheus_text(const EngineMetrics& m);
nlohmann::json metrics_json(const EngineMetrics& m);

}  // namespace helix::server
