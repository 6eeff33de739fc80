// The web UI (files, content types, client-side routing, no escape from the folder) and /docs.
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "http_test_util.h"
#include "server/static_files.h"
#include "test_util.h"

namespace helix {
namespace {

namespace fs = std::filesystem;

void write_file(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

// A built web UI in a temp folder, beside a file it must never serve.
class WebUiServer : public ::testing::Test {
 protected:
  WebUiServer() {
    write_file(dir_.path() / "secret.txt", "top secret");
    write_file(web_ / "index.html", "<!doctype html><title>helix ui</title>");
    write_file(web_ / "assets" / "app-1234.js", "console.log('app')");
    write_file(web_ / "assets" / "app-1234.css", "body{}");
    write_file(web_ / "logo.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>");
    write_file(web_ / "icon.png", std::string("\x89PNG\r\n\x1a\n", 8));
    write_file(web_ / "manifest.json", "{}");
    fs::create_symlink(dir_.path() / "secret.txt", web_ / "link.txt");
    server::HttpServerOptions options;
    options.web_dir = web_.string();
    server_ = std::make_unique<test::TestServer>(options);
  }

  httplib::Result get(const std::string& path) { return server_->client().Get(path.c_str()); }

  test::TempDir dir_;
  fs::path web_ = dir_.path() / "web";
  std::unique_ptr<test::TestServer> server_;
};

TEST_F(WebUiServer, ServesFilesWithTheirContentTypes) {
  struct Case {
    const char* path;
    const char* type;
  };
  for (const Case& c : {Case{"/assets/app-1234.js", "text/javascript; charset=utf-8"},
                        Case{"/assets/app-1234.css", "text/css; charset=utf-8"},
                        Case{"/logo.svg", "image/svg+xml"}, Case{"/icon.png", "image/png"},
                        Case{"/manifest.json", "application/json"},
                        Case{"/index.html", "text/html; charset=utf-8"}}) {
    auto res = get(c.path);
    ASSERT_TRUE(res) << c.path;
    EXPECT_EQ(res->status, 200) << c.path;
    EXPECT_EQ(res->get_header_value("Content-Type"), c.type) << c.path;
  }
  auto png = get("/icon.png");
  ASSERT_TRUE(png);
  EXPECT_EQ(png->body, std::string("\x89PNG\r\n\x1a\n", 8));  // bytes intact
}

TEST_F(WebUiServer, RootAndClientRoutesGetIndexHtml) {
  for (const char* path : {"/", "/comparison", "/comparison/llama-2-7b", "/settings/"}) {
    auto res = get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 200) << path;
    EXPECT_EQ(res->body, "<!doctype html><title>helix ui</title>") << path;
    EXPECT_EQ(res->get_header_value("Content-Type"), "text/html; charset=utf-8") << path;
  }
}

TEST_F(WebUiServer, MissingFileWithExtensionIs404) {
  auto res = get("/assets/missing.js");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_TRUE(test::parse_json(res->body).contains("error"));
}

TEST_F(WebUiServer, ApiNamespacesNeverFallBackToTheUi) {
  auto res = get("/compare/memoryx");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
}

TEST_F(WebUiServer, TraversalIsRefused) {
  for (const char* path : {"/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt",
                           "/assets/..%2f..%2fsecret.txt", "/assets/%2e%2e%2f%2e%2e%2fsecret.txt", "/..",
                           "/./index.html", "/..%5csecret.txt", "/x%00.js", "/../secret"}) {
    auto res = get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 400) << path;
    EXPECT_EQ(res->body.find("top secret"), std::string::npos) << path;
  }
}

TEST_F(WebUiServer, SymlinkOutOfTheFolderIsNotFollowed) {
  auto res = get("/link.txt");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_EQ(res->body.find("top secret"), std::string::npos);
}

TEST(WebUiNotBuilt, RootExplainsHowToBuild) {
  test::TempDir dir;
  server::HttpServerOptions options;
  options.web_dir = (dir.path() / "dist").string();
  test::TestServer server(options);
  for (const char* path : {"/", "/comparison"}) {
    auto res = server.client().Get(path);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->get_header_value("Content-Type"), "text/html; charset=utf-8");
    EXPECT_NE(res->body.find("not built"), std::string::npos);
    EXPECT_NE(res->body.find("make"), std::string::npos);
    EXPECT_NE(res->body.find("href=\"/docs\""), std::string::npos);
  }
  auto asset = server.client().Get("/assets/app.js");
  ASSERT_TRUE(asset);
  EXPECT_EQ(asset->status, 404);
}

TEST(SwaggerDocs, ServesItsPageAndThePackageFiles) {
  test::TempDir dir;
  write_file(dir.path() / "swagger-ui-bundle.js", "/* bundle */");
  write_file(dir.path() / "swagger-ui.css", "/* css */");
  server::HttpServerOptions options;
  options.swagger_dir = dir.path().string();
  test::TestServer server(options);
  for (const char* path : {"/docs", "/docs/", "/docs/index.html"}) {
    auto page = server.client().Get(path);
    ASSERT_TRUE(page) << path;
    EXPECT_EQ(page->status, 200) << path;
    EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
    EXPECT_NE(page->body.find("url: \"/openapi.json\""), std::string::npos);
    EXPECT_NE(page->body.find("/docs/swagger-ui-bundle.js"), std::string::npos);
    EXPECT_EQ(page->body.find("https://"), std::string::npos) << "no CDN";
  }
  auto js = server.client().Get("/docs/swagger-ui-bundle.js");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->status, 200);
  EXPECT_EQ(js->body, "/* bundle */");
  EXPECT_EQ(js->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
  auto css = server.client().Get("/docs/swagger-ui.css");
  ASSERT_TRUE(css);
  EXPECT_EQ(css->get_header_value("Content-Type"), "text/css; charset=utf-8");
  auto missing = server.client().Get("/docs/nothing.js");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  auto escape = server.client().Get("/docs/../../etc/passwd");
  ASSERT_TRUE(escape);
  EXPECT_EQ(escape->status, 400);
}

TEST(SwaggerDocs, MissingPackageIs503SayingRunMake) {
  test::TempDir dir;
  server::HttpServerOptions options;
  options.swagger_dir = (dir.path() / "node_modules" / "swagger-ui-dist").string();
  test::TestServer server(options);
  for (const char* path : {"/docs", "/docs/swagger-ui-bundle.js"}) {
    auto res = server.client().Get(path);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 503);
    const std::string message = test::parse_json(res->body)["error"]["message"];
    EXPECT_NE(message.find("run `make`"), std::string::npos) << message;
  }
}

TEST(SwaggerDocs, TheInstalledPackageIsServed) {
  // The real swagger-ui-dist from web/node_modules (installed by `make`).
  const server::HttpServerOptions defaults;
  if (!fs::exists(fs::path(defaults.swagger_dir) / "swagger-ui-bundle.js"))
    GTEST_SKIP() << defaults.swagger_dir << " not installed: run make";
  test::TestServer server;
  for (const char* path : {"/docs/swagger-ui-bundle.js", "/docs/swagger-ui-standalone-preset.js",
                           "/docs/swagger-ui.css"}) {
    auto res = server.client().Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 200) << path;
    EXPECT_GT(res->body.size(), 1000u) << path;
  }
}

TEST(StaticFiles, ContentTypesAndExtensions) {
  EXPECT_EQ(server::content_type_for("a/b.JS"), "text/javascript; charset=utf-8");
  EXPECT_EQ(server::content_type_for("x.woff2"), "font/woff2");
  EXPECT_EQ(server::content_type_for("Makefile"), "application/octet-stream");
  EXPECT_EQ(server::content_type_for("x.unknown"), "application/octet-stream");
  EXPECT_TRUE(server::has_file_extension("/assets/app.js"));
  EXPECT_FALSE(server::has_file_extension("/comparison"));
  EXPECT_FALSE(server::has_file_extension("/v1.2/x"));
  EXPECT_FALSE(server::has_file_extension("/.hidden"));
  EXPECT_FALSE(server::has_file_extension("/"));
}

TEST(StaticFiles, ResolveUnderRefusesEscapes) {
  EXPECT_EQ(*server::resolve_under("/srv/web", "/a/b.js"), fs::path("/srv/web/a/b.js"));
  EXPECT_EQ(*server::resolve_under("/srv/web", "/"), fs::path("/srv/web"));
  EXPECT_EQ(*server::resolve_under("/srv/web", "//a//b"), fs::path("/srv/web/a/b"));
  for (const char* bad : {"/..", "/a/../b", "/./a", "..", "/a\\b"}) {
    auto r = server::resolve_under("/srv/web", bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().param, "path");
  }
  EXPECT_FALSE(server::resolve_under("/srv/web", std::string_view("/a\0b", 4)));
}

}  // namespace
}  // namespace helix
