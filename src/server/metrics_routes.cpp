// GET /metrics: the engine's gauges, counters and latency histograms in Prometheus' text format, or the same
// figures as JSON when the client asks for it (Accept: application/json).
#include "engine/serving_engine.h"
#include "server/api_error.h"
#include "server/prometheus.h"
#include "server/routes.h"

namespace helix::server {

void add_metrics_routes(HttpServer& server, ServingEngine& engine) {
  server.add_route(HttpMethod::Get, "/metrics", [&engine](const httplib::Request& req, httplib::Response& res) {
    const EngineMetrics m = engine.metrics();
    if (req.get_header_value("Accept").find("application/json") != std::string::npos)
      return send_json(res, metrics_json(m));
    res.set_content(metrics_prometheus_text(m), kPrometheusContentType);
  });
}

}  // namespace helix::server
