// `helix serve -m stories260K.gguf` as a real process: it logs its capacity, answers the OpenAI routes, and on
// SIGTERM stops the engine first, so a stream in flight still ends with its last chunk and [DONE], then exits 0.
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "helix_process.h"
#include "serving_test_util.h"
#include "test_util.h"

namespace helix {
namespace {

using nlohmann::json;

TEST(ServeModelBinary, ServesTheModelAndEndsStreamsOnSigterm) {
  test::TempDir dir;
  const std::string log = dir.file("serve.log");
  const int port = test::free_port();
  const pid_t pid = test::spawn_helix({"serve", "--host", "127.0.0.1", "--port", std::to_string(port), "-m",
                                       test::shared_path("models/stories260K/stories260K.gguf"), "--num-blocks",
                                       "64", "-t", "1", "--served-model-name", "tiny"},
                                      log);
  ASSERT_GT(pid, 0);
  if (!test::wait_healthy(port, std::chrono::seconds(60))) {
    kill(pid, SIGKILL);
    test::wait_exit(pid, std::chrono::seconds(5));
    FAIL() << "no /health answer; log:\n" << test::read_all(log);
  }
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(30);
  auto res = client.Get("/v1/models");
  ASSERT_TRUE(res);
  EXPECT_EQ(test::parse_json(res->body)["data"][0]["id"], "tiny");
  res = client.Post("/v1/completions", R"({"prompt": "", "max_tokens": 8, "temperature": 0})", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(test::parse_json(res->body)["choices"][0]["text"], "Once upon a time, there was a");

  // More than the context (2048) holds: refused at once.
  res = client.Post("/v1/completions", R"({"prompt": "", "max_tokens": 5000})", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(test::parse_json(res->body)["error"]["code"], "context_length_exceeded");

  // A long stream, cut by SIGTERM after its first chunk.
  std::string body;
  std::atomic<bool> started{false};
  std::thread streamer([&] {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(30);
    httplib::Request req;
    req.method = "POST";
    req.path = "/v1/completions";
    req.body = json({{"prompt", ""}, {"max_tokens", 500}, {"ignore_eos", true}, {"stream", true}}).dump();
    req.set_header("Content-Type", "application/json");
    req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
      body.append(data, len);
      started = true;
      return true;
    };
    c.send(req);
  });
  while (!started) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  streamer.join();
  const int status = test::wait_exit(pid, std::chrono::seconds(30));
  if (status == -1) kill(pid, SIGKILL);
  ASSERT_NE(status, -1) << "still running after SIGTERM; log:\n" << test::read_all(log);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);

  // The stream ended properly: a finish reason (abort if the stop came first, length if generation did), [DONE].
  const auto events = test::openai_stream_events(body);
  ASSERT_FALSE(events.empty());
  const json last = events.back()["choices"][0]["finish_reason"];
  EXPECT_TRUE(last == "abort" || last == "length") << last;

  const std::string text = test::read_all(log);
  EXPECT_NE(text.find("kv cache (paged): 64 blocks of 16 tokens"), std::string::npos) << text;
  EXPECT_NE(text.find("served as 'tiny'"), std::string::npos) << text;
  EXPECT_NE(text.find("OpenAI API http://127.0.0.1:" + std::to_string(port) + "/v1"), std::string::npos) << text;
  EXPECT_NE(text.find("received SIGTERM"), std::string::npos) << text;
  EXPECT_NE(text.find("server stopped"), std::string::npos) << text;
}

TEST(ServeModelBinary, BadFlagsAreOneLineErrors) {
  test::TempDir dir;
  const std::string log = dir.file("serve.log");
  const pid_t pid = test::spawn_helix({"serve", "--port", "0", "-m",
                                       test::shared_path("models/stories260K/stories260K.gguf"), "--kv-cache",
                                       "striped"},
                                      log);
  const int status = test::wait_exit(pid, std::chrono::seconds(30));
  ASSERT_NE(status, -1);
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_EQ(test::read_all(log), "helix: error: --kv-cache: 'striped' is not paged or contiguous\n");
}

}  // namespace
}  // namespace helix
