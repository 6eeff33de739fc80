// The serving routes (/v1, /metrics, /kv) over a FakeEngine on a loopback port, and helpers to read SSE bodies.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fake_engine.h"
#include "http_test_util.h"
#include "server/routes.h"

namespace helix::test {

// A chat renderer for tests: "<|role|>\ncontent\n" per message, then "<|assistant|>\n".
inline server::ChatRenderer test_chat_renderer() {
  return [](const std::vector<server::ChatTurn>& messages, bool add_generation_prompt) -> Result<std::string> {
    std::string out;
    for (const auto& m : messages) out += "<|" + m.role + "|>\n" + m.content + "\n";
    if (add_generation_prompt) out += "<|assistant|>\n";
    return out;
  };
}

class FakeServing {
 public:
  explicit FakeServing(FakeScript script, server::ServingRoutesOptions options = default_options(),
                       server::HttpServerOptions http = {}, int64_t max_seq_len = 512)
      : engine_(std::make_unique<FakeEngine>(std::move(script), max_seq_len)),
        options_(std::move(options)),
        server_(std::move(http),
                [this](server::HttpServer& s) { server::add_serving_routes(s, *engine_, options_); },
                engine_.get()) {}

  static server::ServingRoutesOptions default_options() {
    server::ServingRoutesOptions o;
    o.chat = test_chat_renderer();
    o.poll_interval = std::chrono::milliseconds(10);
    return o;
  }

  FakeEngine& engine() { return *engine_; }
  TestServer& server() { return server_; }
  httplib::Client client() const { return server_.client(); }
  const server::ServingRoutesOptions& options() const { return options_; }

 private:
  std::unique_ptr<FakeEngine> engine_;  // outlives the server, which is stopped first
  server::ServingRoutesOptions options_;
  TestServer server_;
};

// A body of server-sent events, checked line by line: every event is "data: ..." lines or ": comment" lines,
// events end with an empty line, and the body ends with one.
struct SseBody {
  std::vector<std::string> data;      // each event's data, in order
  std::vector<std::string> comments;  // comment texts
};

inline SseBody parse_sse(const std::string& body) {
  SseBody out;
  EXPECT_TRUE(body.size() >= 2 && body.compare(body.size() - 2, 2, "\n\n") == 0) << "SSE body must end with a blank line";
  size_t pos = 0;
  while (pos < body.size()) {
    const size_t end = body.find("\n\n", pos);
    if (end == std::string::npos) {
      ADD_FAILURE() << "unterminated event: " << body.substr(pos);
      break;
    }
    const std::string event = body.substr(pos, end - pos);
    pos = end + 2;
    if (event.rfind(": ", 0) == 0) {
      EXPECT_EQ(event.find('\n'), std::string::npos) << "comment event with several lines: " << event;
      out.comments.push_back(event.substr(2));
      continue;
    }
    EXPECT_EQ(event.rfind("data: ", 0), 0u) << "not a data event: " << event;
    EXPECT_EQ(event.find('\n'), std::string::npos) << "event with several lines: " << event;
    out.data.push_back(event.substr(6));
  }
  return out;
}

// The JSON events of an OpenAI stream: all but the final "[DONE]", which must be there, once, last.
inline std::vector<nlohmann::json> openai_stream_events(const std::string& body) {
  const SseBody sse = parse_sse(body);
  EXPECT_TRUE(sse.comments.empty()) << "OpenAI streams carry no comments";
  std::vector<nlohmann::json> out;
  if (sse.data.empty() || sse.data.back() != "[DONE]") {
    ADD_FAILURE() << "stream does not end with data: [DONE]:\n" << body;
    return out;
  }
  for (size_t i = 0; i + 1 < sse.data.size(); ++i) {
    EXPECT_NE(sse.data[i], "[DONE]") << "[DONE] before the end";
    out.push_back(parse_json(sse.data[i]));
  }
  return out;
}

// Reads /kv/events on its own connection, collecting data lines and comments until told to stop.
class EventReader {
 public:
  explicit EventReader(httplib::Client client) : client_(std::move(client)) {
    client_.set_read_timeout(10);
    thread_ = std::thread([this] {
      client_.Get("/kv/events", [this](const char* data, size_t len) {
        std::lock_guard lock(mutex_);
        raw_.append(data, len);
        return !stop_;
      });
    });
  }
  ~EventReader() { close(); }
  void close() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    if (thread_.joinable()) {
      client_.stop();
      thread_.join();
    }
  }
  std::string raw() {
    std::lock_guard lock(mutex_);
    return raw_;
  }
  // Waits until the raw stream contains `text`.
  bool wait_for(const std::string& text, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (raw().find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return false;
  }

 private:
  httplib::Client client_;
  std::thread thread_;
  std::mutex mutex_;
  std::string raw_;
  bool stop_ = false;
};

}  // namespace helix::test
