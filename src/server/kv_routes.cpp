// GET /kv/blocks: the KV cache's block map now, with a "draft" section (the draft model's own pool: size, used,
// per-sequence blocks) when the server runs a draft model for speculative decoding. GET /kv/events: KV events as they happen, as server-sent events
// (`data: {"index", "type", "seq", "blocks", "timestamp"}`), with a keep-alive comment when idle and a
// {"type": "dropped", "count"} event when the client fell more than its queue behind. A client's subscription
// ends when it disconnects.
#include <memory>

#include "engine/serving_engine.h"
#include "server/api_error.h"
#include "server/connection_probe.h"
#include "server/kv_event_queue.h"
#include "server/kv_json.h"
#include "server/routes.h"
#include "server/sse.h"

namespace helix::server {

namespace {

struct KvEventStream {
  KvEventStream(ServingEngine& e, size_t capacity, std::chrono::milliseconds keepalive_interval,
                std::chrono::milliseconds poll, std::optional<ConnectionProbe> p)
      : engine(e), queue(std::make_shared<KvEventQueue>(capacity)), keepalive(keepalive_interval),
        poll_interval(poll), probe(p) {
    // The callback holds the queue, not this stream: it may still run once after unsubscribe returns.
    subscription = engine.subscribe_kv_events([q = queue](const KvEvent& ev) { q->push(ev); });
  }
  ~KvEventStream() { engine.unsubscribe_kv_events(subscription); }

  bool pump(httplib::DataSink& sink) {
    std::string out;
    if (!started) {
      started = true;
      out += sse_comment("connected");  // lets a client know the subscription is live before any event
    }
    std::vector<TimedKvEvent> events;
    const uint64_t dropped = queue->pop_all(events, poll_interval);
    const auto now = std::chrono::steady_clock::now();
    if (dropped > 0) {
      const int64_t ts = events.empty() ? 0 : events.front().timestamp_ms;
      out += sse_data({{"index", next_index}, {"type", "dropped"}, {"count", dropped}, {"timestamp", ts}});
      next_index += dropped;
    }
    for (const TimedKvEvent& e : events) out += sse_data(kv_event_json(e.event, next_index++, e.timestamp_ms));
    if (out.empty() && now - last_write >= keepalive) out = sse_comment("keep-alive");
    if (probe && probe->peer_closed()) return false;
    if (out.empty()) return true;
    last_write = now;
    return sink.write(out.data(), out.size());
  }

  ServingEngine& engine;
  std::shared_ptr<KvEventQueue> queue;
  std::chrono::milliseconds keepalive;
  std::chrono::milliseconds poll_interval;
  std::optional<ConnectionProbe> probe;
  uint64_t subscription = 0;
  uint64_t next_index = 0;
  bool started = false;
  std::chrono::steady_clock::time_point last_write = std::chrono::steady_clock::now();
};

}  // namespace

void add_kv_routes(HttpServer& server, ServingEngine& engine, const ServingRoutesOptions& options) {
  server.add_route(HttpMethod::Get, "/kv/blocks", [&engine](const httplib::Request&, httplib::Response& res) {
    nlohmann::json body = kv_snapshot_json(engine.kv_snapshot());
    if (auto draft = engine.draft_kv_snapshot()) body["draft"] = draft_kv_json(*draft);
    send_json(res, body);
  });
  const size_t capacity = options.kv_events_queue;
  const auto keepalive = options.kv_events_keepalive;
  const auto poll = options.poll_interval;
  server.add_route(HttpMethod::Get, "/kv/events",
                   [&engine, capacity, keepalive, poll](const httplib::Request& req, httplib::Response& res) {
                     auto stream = std::make_shared<KvEventStream>(engine, capacity, keepalive, poll,
                                                                   ConnectionProbe::for_request(req));
                     set_sse_headers(res);
                     res.set_chunked_content_provider(
                         kSseContentType,
                         [stream](size_t, httplib::DataSink& sink) { return stream->pump(sink); });
                   });
}

}  // namespace helix::server
