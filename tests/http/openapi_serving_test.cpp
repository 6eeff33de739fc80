// The OpenAPI document describes every serving route, and every $ref in it points at a defined component.
#include <functional>
#include <string>

#include <gtest/gtest.h>

#include "server/openapi.h"

namespace helix::server {
namespace {

using nlohmann::json;

TEST(OpenApiServing, EveryServingRouteIsDocumented) {
  const json doc = openapi_document();
  const std::vector<std::pair<std::string, std::string>> routes = {
      {"/v1/completions", "post"}, {"/v1/chat/completions", "post"}, {"/v1/models", "get"},
      {"/v1/models/{model}", "get"}, {"/metrics", "get"},           {"/kv/blocks", "get"},
      {"/kv/events", "get"}};
  for (const auto& [path, method] : routes) {
    ASSERT_TRUE(doc["paths"].contains(path)) << path;
    const json& op = doc["paths"][path][method];
    ASSERT_TRUE(op.is_object()) << method << " " << path;
    EXPECT_TRUE(op["summary"].is_string()) << path;
    EXPECT_TRUE(op["operationId"].is_string()) << path;
    EXPECT_TRUE(op["responses"].contains("200")) << path;
  }
  for (const char* path : {"/v1/completions", "/v1/chat/completions"}) {
    const json& responses = doc["paths"][path]["post"]["responses"];
    for (const char* status : {"400", "413", "500"}) EXPECT_TRUE(responses.contains(status)) << path << " " << status;
    EXPECT_TRUE(responses["200"]["content"].contains("text/event-stream")) << path;
  }
  const json& completion_props = doc["components"]["schemas"]["CompletionRequest"]["properties"];
  for (const char* f : {"prompt", "max_tokens", "temperature", "top_p", "n", "stop", "seed", "stream",
                        "stream_options", "top_k", "min_p", "repetition_penalty", "ignore_eos"})
    EXPECT_TRUE(completion_props.contains(f)) << f;
  EXPECT_TRUE(doc["components"]["schemas"]["ChatCompletionRequest"]["properties"].contains("max_completion_tokens"));
}

TEST(OpenApiServing, EveryReferenceResolves) {
  const json doc = openapi_document();
  int refs = 0;
  std::function<void(const json&)> walk = [&](const json& node) {
    if (node.is_object()) {
      if (node.contains("$ref")) {
        const std::string r = node["$ref"];
        ++refs;
        ASSERT_EQ(r.rfind("#/", 0), 0u) << r;
        EXPECT_TRUE(doc.contains(json::json_pointer(r.substr(1)))) << "dangling " << r;
      }
      for (const auto& [k, v] : node.items()) walk(v);
    } else if (node.is_array()) {
      for (const auto& v : node) walk(v);
    }
  };
  walk(doc);
  EXPECT_GT(refs, 20);
}

}  // namespace
}  // namespace helix::server
