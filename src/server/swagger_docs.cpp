#include "server/swagger_docs.h"

#include <fmt/format.h>

#include "server/api_error.h"
#include "server/static_files.h"

namespace helix::server {

namespace fs = std::filesystem;

std::string SwaggerDocs::index_html(const std::string& spec_url) {
  return fmt::format(R"(<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Helix API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/swagger-ui-standalone-preset.js"></script>
  <script>
    window.ui = SwaggerUIBundle({{
      url: "{}",
      dom_id: "#swagger-ui",
      deepLinking: true,
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
      layout: "StandaloneLayout"
    }});
  </script>
</body>
</html>
)",
                     spec_url);
}

bool SwaggerDocs::is_installed() const {
  std::error_code ec;
  return fs::is_regular_file(dir_ / "swagger-ui-bundle.js", ec);
}

void SwaggerDocs::serve(const httplib::Request& req, httplib::Response& res) const {
  if (!is_installed()) {
    return send_error(res, kStatusUnavailable,
                      fmt::format("Swagger UI is not installed ({} has no swagger-ui-bundle.js): run `make` to "
                                  "install the web packages, or pass --swagger-dir",
                                  dir_.string()));
  }
  const std::string& path = req.path;
  if (path == "/docs" || path == "/docs/" || path == "/docs/index.html") {
    res.status = 200;
    res.set_content(index_html("/openapi.json"), "text/html; charset=utf-8");
    return;
  }
  // Only "/docs/..." reaches here (the route's pattern).
  auto file = resolve_under(dir_, std::string_view(path).substr(std::string_view("/docs").size()));
  if (!file) return send_error(res, kStatusBadRequest, file.error());
  if (is_file_inside(dir_, *file) && send_file(*file, res)) return;
  send_error(res, kStatusNotFound, "no such file: " + path, "path");
}

}  // namespace helix::server
