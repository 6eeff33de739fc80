// The server's other routes and shared behaviour: /health, /models/presets, /openapi.json, 404/405 JSON
// errors, CORS, and routes added from outside (as the serving engine will).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "http_test_util.h"
#include "model/model_shape.h"
#include "test_util.h"

namespace helix {
namespace {

using nlohmann::json;

TEST(HttpRoutes, HealthSaysOkAndVersion) {
  test::TestServer server;
  auto res = server.client().Get("/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  const json j = test::parse_json(res->body);
  EXPECT_EQ(j["status"], "ok");
  EXPECT_EQ(j["version"], HELIX_VERSION);
  EXPECT_EQ(j["model_loaded"], false);  // no engine: /v1 and /kv/* are not served
}

TEST(HttpRoutes, HeadIsAnsweredLikeGet) {
  test::TestServer server;
  auto res = server.client().Head("/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_TRUE(res->body.empty());
}

TEST(HttpRoutes, PresetsListEveryShape) {
  test::TestServer server;
  auto res = server.client().Get("/models/presets");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  const json j = test::parse_json(res->body);
  EXPECT_EQ(j["default"], "tinyllama-1.1b");
  ASSERT_EQ(j["presets"].size(), model_presets().size());
  for (const json& p : j["presets"]) {
    EXPECT_TRUE(p["name"].is_string());
    EXPECT_TRUE(p["description"].is_string());
    for (const char* f : {"n_layers", "n_heads", "n_kv_heads", "head_dim", "hidden_dim", "ffn_dim", "vocab_size",
                          "context_length", "kv_bytes_per_token", "parameter_count"})
      EXPECT_TRUE(p["shape"][f].is_number_integer()) << p["name"] << " " << f;
    EXPECT_TRUE(p["shape"]["uses_gqa"].is_boolean());
    EXPECT_EQ(p["shape"]["kv_dtype"], "f16");
  }
  const auto tiny = std::find_if(j["presets"].begin(), j["presets"].end(),
                                 [](const json& p) { return p["name"] == "tinyllama-1.1b"; });
  ASSERT_NE(tiny, j["presets"].end());
  const json& s = (*tiny)["shape"];
  EXPECT_EQ(s["kv_bytes_per_token"], 22528);  // 22 * 2 * 4 * 64 * 2
  EXPECT_EQ(s["n_layers"], 22);
  EXPECT_EQ(s["n_kv_heads"], 4);
  EXPECT_EQ(s["uses_gqa"], true);
  EXPECT_EQ(s["rms_norm_eps"], 1e-5);
  // Embedding 32000 * 2048 = 65,536,000 (twice: untied classifier); per layer attention
  // 2048*2048*2 + 2048*256*2 = 9,437,184, FFN 3 * 2048 * 5632 = 34,603,008, norms 4096; 22 layers =
  // 968,974,336; + final norm 2048 -> 1,100,048,384.
  EXPECT_EQ(s["parameter_count"], 1100048384);
  const auto llama2 = std::find_if(j["presets"].begin(), j["presets"].end(),
                                   [](const json& p) { return p["name"] == "llama-2-7b"; });
  ASSERT_NE(llama2, j["presets"].end());
  EXPECT_EQ((*llama2)["shape"]["uses_gqa"], false);
  EXPECT_EQ((*llama2)["shape"]["kv_bytes_per_token"], 524288);  // 32 * 2 * 32 * 128 * 2
}

TEST(HttpRoutes, OpenApiDescribesCompareMemory) {
  test::TestServer server;
  auto res = server.client().Get("/openapi.json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  const json spec = test::parse_json(res->body);
  EXPECT_EQ(spec["openapi"], "3.0.3");
  for (const char* path : {"/compare/memory", "/models/presets", "/health", "/openapi.json", "/docs"})
    EXPECT_TRUE(spec["paths"].contains(path)) << path;

  const json& op = spec["paths"]["/compare/memory"]["get"];
  std::set<std::string> names;
  for (const json& p : op["parameters"]) {
    names.insert(p["name"].get<std::string>());
    EXPECT_EQ(p["in"], "query");
    EXPECT_TRUE(p["schema"].contains("type")) << p["name"];
  }
  for (const char* p : {"model", "sequence_length", "max_seq_len", "block_size", "num_blocks", "batch_size",
                        "kv_dtype", "source"})
    EXPECT_TRUE(names.count(p)) << p;
  for (const char* status : {"200", "400", "422"}) EXPECT_TRUE(op["responses"].contains(status)) << status;
  EXPECT_NE(op["description"].get<std::string>().find("MiB"), std::string::npos);

  // The declared schema matches what the route returns: same fields, same JSON types.
  const json& schema = spec["components"]["schemas"]["MemoryComparison"]["properties"];
  auto body = server.client().Get("/compare/memory");
  ASSERT_TRUE(body);
  const json actual = test::parse_json(body->body);
  EXPECT_EQ(schema.size(), actual.size());
  for (const auto& [name, value] : actual.items()) {
    ASSERT_TRUE(schema.contains(name)) << name;
    const std::string type = schema[name]["type"];
    const bool type_matches = type == "integer" ? value.is_number_integer()
                              : type == "number"  ? value.is_number()
                              : type == "string"  ? value.is_string()
                                                  : false;
    EXPECT_TRUE(type_matches) << name << " is declared " << type;
  }
  EXPECT_TRUE(spec["components"]["schemas"]["Error"]["properties"].contains("error"));
}

TEST(HttpRoutes, UnknownApiRouteIs404Json) {
  test::TestServer server;
  for (const char* path : {"/compare/nothing", "/models/presets/extra", "/health/x", "/v1/chat/completions",
                           "/kv/blocks", "/metrics"}) {
    auto res = server.client().Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 404) << path;
    EXPECT_EQ(res->get_header_value("Content-Type"), "application/json") << path;
    EXPECT_TRUE(test::parse_json(res->body)["error"]["message"].is_string()) << path;
  }
  for (const char* path : {"/chat/completions", "/comparison", "/"}) {
    auto post = server.client().Post(path, "{}", "application/json");
    ASSERT_TRUE(post) << path;
    EXPECT_EQ(post->status, 404) << path;
    EXPECT_EQ(test::parse_json(post->body)["error"]["message"], std::string("no route for POST ") + path);
  }
}

TEST(HttpRoutes, WrongMethodIs405JsonWithAllow) {
  test::TestServer server;
  auto res = server.client().Post("/compare/memory", "{}", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 405);
  EXPECT_EQ(res->get_header_value("Allow"), "GET, HEAD, OPTIONS");
  EXPECT_EQ(test::parse_json(res->body)["error"]["type"], "invalid_request_error");
  auto del = server.client().Delete("/health");
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 405);
}

TEST(HttpRoutes, RoutesAddedLaterGetTheSameTreatment) {
  // What the serving engine does: its own routes, with captures, under its own namespace.
  test::TestServer server({}, [](server::HttpServer& s) {
    s.add_route(server::HttpMethod::Post, "/v1/echo/(\\w+)", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(json{{"name", req.matches[1].str()}, {"body", req.body}}.dump(), "application/json");
    });
  });
  auto c = server.client();
  auto res = c.Post("/v1/echo/abc", "hello", "text/plain");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(test::parse_json(res->body), (json{{"name", "abc"}, {"body", "hello"}}));
  auto get = c.Get("/v1/echo/abc");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 405);
  EXPECT_EQ(get->get_header_value("Allow"), "POST, OPTIONS");
  auto missing = c.Post("/v1/other", "", "text/plain");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
}

TEST(HttpRoutes, ThrowingHandlerIs500Json) {
  test::TestServer server({}, [](server::HttpServer& s) {
    s.add_route(server::HttpMethod::Get, "/v1/boom", [](const httplib::Request&, httplib::Response&) {
      throw std::runtime_error("kaboom");
    });
  });
  auto res = server.client().Get("/v1/boom");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 500);
  const json j = test::parse_json(res->body);
  EXPECT_EQ(j["error"]["type"], "server_error");
  EXPECT_NE(j["error"]["message"].get<std::string>().find("kaboom"), std::string::npos);
}

TEST(HttpRoutes, OversizedTargetIs414Json) {
  test::TestServer server;
  auto res = server.client().Get(("/compare/memory?model=" + std::string(20000, 'x')).c_str());
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 414);
  EXPECT_TRUE(test::parse_json(res->body).contains("error"));
}

TEST(HttpCors, DevServerOriginIsEchoedOnSuccessAndErrors) {
  test::TestServer server;
  const httplib::Headers from_vite = {{"Origin", "http://localhost:5173"}};
  for (const char* path : {"/compare/memory", "/compare/memory?block_size=0", "/nope/x", "/health"}) {
    auto res = server.client().Get(path, from_vite);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->get_header_value("Access-Control-Allow-Origin"), "http://localhost:5173") << path;
    EXPECT_EQ(res->get_header_value("Vary"), "Origin") << path;
  }
  auto other = server.client().Get("/health", {{"Origin", "http://127.0.0.1:5173"}});
  ASSERT_TRUE(other);
  EXPECT_EQ(other->get_header_value("Access-Control-Allow-Origin"), "http://127.0.0.1:5173");
}

TEST(HttpCors, SameOriginIsAllowed) {
  test::TestServer server;
  auto res = server.client().Get("/health", {{"Origin", server.origin()}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->get_header_value("Access-Control-Allow-Origin"), server.origin());
}

TEST(HttpCors, DisallowedOriginGetsNoGrant) {
  test::TestServer server;
  for (const char* origin : {"http://evil.example", "http://localhost:5174", "null", "http://localhost:5173.evil"}) {
    auto res = server.client().Get("/compare/memory", {{"Origin", origin}});
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);  // CORS is the browser's to enforce; the answer just carries no grant
    EXPECT_FALSE(res->has_header("Access-Control-Allow-Origin")) << origin;
  }
  auto none = server.client().Get("/health");
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_header("Access-Control-Allow-Origin"));
}

TEST(HttpCors, PreflightIs204WithMethodsHeadersAndMaxAge) {
  test::TestServer server;
  auto res = server.client().Options("/compare/memory", {{"Origin", "http://localhost:5173"},
                                                         {"Access-Control-Request-Method", "GET"},
                                                         {"Access-Control-Request-Headers", "content-type, x-stainless-os"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 204);
  EXPECT_EQ(res->get_header_value("Access-Control-Allow-Origin"), "http://localhost:5173");
  EXPECT_EQ(res->get_header_value("Access-Control-Allow-Methods"), "GET, HEAD, OPTIONS");
  EXPECT_EQ(res->get_header_value("Access-Control-Allow-Headers"), "content-type, x-stainless-os");
  EXPECT_EQ(res->get_header_value("Access-Control-Max-Age"), "7200");
  EXPECT_TRUE(res->body.empty());

  // Any path, routed or not.
  auto anywhere = server.client().Options("/v1/chat/completions", {{"Origin", "http://localhost:5173"}});
  ASSERT_TRUE(anywhere);
  EXPECT_EQ(anywhere->status, 204);
  EXPECT_FALSE(anywhere->get_header_value("Access-Control-Allow-Headers").empty());

  auto evil = server.client().Options("/compare/memory", {{"Origin", "http://evil.example"},
                                                          {"Access-Control-Request-Method", "GET"}});
  ASSERT_TRUE(evil);
  EXPECT_EQ(evil->status, 204);
  EXPECT_FALSE(evil->has_header("Access-Control-Allow-Origin"));
}

TEST(HttpCors, ConfiguredOriginsReplaceTheDefaults) {
  server::HttpServerOptions options;
  options.cors_origins = {"https://app.example/"};
  test::TestServer server(options);
  auto app = server.client().Get("/health", {{"Origin", "https://app.example"}});
  ASSERT_TRUE(app);
  EXPECT_EQ(app->get_header_value("Access-Control-Allow-Origin"), "https://app.example");
  auto vite = server.client().Get("/health", {{"Origin", "http://localhost:5173"}});
  ASSERT_TRUE(vite);
  EXPECT_FALSE(vite->has_header("Access-Control-Allow-Origin"));
}

TEST(HttpCors, StarAllowsAnyOrigin) {
  server::HttpServerOptions options;
  options.cors_origins = {"*"};
  test::TestServer server(options);
  auto res = server.client().Get("/health", {{"Origin", "http://anything.example"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->get_header_value("Access-Control-Allow-Origin"), "*");
}

TEST(HttpServerLifecycle, StopBeforeRunReturnsAtOnce) {
  server::HttpServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  server::HttpServer s(options);
  ASSERT_TRUE(s.bind());
  EXPECT_GT(s.port(), 0);
  s.stop();
  EXPECT_TRUE(s.run());  // returns instead of serving forever
}

TEST(HttpServerLifecycle, StopFinishesRequestsInFlight) {
  std::atomic<bool> entered{false};
  auto server = std::make_unique<test::TestServer>(server::HttpServerOptions{}, [&](server::HttpServer& s) {
    s.add_route(server::HttpMethod::Get, "/v1/slow", [&](const httplib::Request&, httplib::Response& res) {
      entered = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      res.set_content("done", "text/plain");
    });
  });
  auto client = server->client();
  std::thread request([&] {
    auto res = client.Get("/v1/slow");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, "done");
  });
  while (!entered) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  server.reset();  // stop() and join: returns only after the slow request was answered
  request.join();
  // New connections are refused once stopped.
  EXPECT_FALSE(client.Get("/health"));
}

TEST(HttpServerLifecycle, BusyPortIsAnErrorNamingTheAddress) {
  test::TestServer first;
  server::HttpServerOptions options;
  options.host = "127.0.0.1";
  options.port = first.port();
  server::HttpServer second(options);
  auto bound = second.bind();
  ASSERT_FALSE(bound);
  EXPECT_NE(bound.error().message.find("127.0.0.1:" + std::to_string(first.port())), std::string::npos);
  EXPECT_NE(bound.error().message.find("address already in use"), std::string::npos) << bound.error().message;
}

}  // namespace
}  // namespace helix
