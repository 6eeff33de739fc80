// GET /docs: Swagger UI for /openapi.json, served from the swagger-ui-dist npm package on disk (no CDN).
// The package's own index.html points at a demo API, so /docs gets a page of ours; /docs/<file> gets
// the package's files (swagger-ui-bundle.js, swagger-ui.css, ...).
#pragma once

#include <filesystem>
#include <string>

#include <httplib.h>

namespace helix::server {

class SwaggerDocs {
 public:
  explicit SwaggerDocs(std::filesystem::path dir) : dir_(std::move(dir)) {}

  // Answers /docs, /docs/ and /docs/<file>; 503 with how to install it when the package is missing.
  void serve(const httplib::Request& req, httplib::Response& res) const;

  bool is_installed() const;
  const std::filesystem::path& dir() const { return dir_; }

  // The page that starts Swagger UI on `spec_url`.
  static std::string index_html(const std::string& spec_url);

 private:
  std::filesystem::path dir_;
};

}  // namespace helix::server
