#include "server/static_files.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <iterator>
#include <utility>

#include <fmt/format.h>

#include "server/api_error.h"

namespace helix::server {

namespace fs = std::filesystem;

namespace {

constexpr std::array<std::pair<std::string_view, std::string_view>, 17> kContentTypes = {{
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".map", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".jpeg", "image/jpeg"},
    {".gif", "image/gif"},
    {".webp", "image/webp"},
    {".ico", "image/x-icon"},
    {".woff", "font/woff"},
    {".woff2", "font/woff2"},
    {".txt", "text/plain; charset=utf-8"},
    {".wasm", "application/wasm"},
}};

constexpr const char* kNotBuiltPage = R"(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Helix</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 4em auto">
<h1>Helix</h1>
<p>The web UI is not built: <code>{}</code> has no <code>index.html</code>.
Run <code>make</code> (or <code>make web</code>) in the repository to build it, or pass <code>--web-dir</code>.</p>
<p>The API is up: see <a href="/docs">/docs</a> (Swagger UI) or <a href="/openapi.json">/openapi.json</a>.</p>
</body></html>
)";

std::string html_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace

std::string content_type_for(std::string_view file_name) {
  const size_t dot = file_name.rfind('.');
  if (dot == std::string_view::npos) return "application/octet-stream";
  std::string ext(file_name.substr(dot));
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& [e, type] : kContentTypes)
    if (e == ext) return std::string(type);
  return "application/octet-stream";
}

bool has_file_extension(std::string_view url_path) {
  const size_t slash = url_path.rfind('/');
  const std::string_view last = slash == std::string_view::npos ? url_path : url_path.substr(slash + 1);
  const size_t dot = last.rfind('.');
  return dot != std::string_view::npos && dot > 0 && dot + 1 < last.size();
}

Result<fs::path> resolve_under(const fs::path& root, std::string_view url_path) {
  // The path arrives percent-decoded, so "%2e%2e" is already "..": one check covers both spellings.
  if (url_path.find('\0') != std::string_view::npos || url_path.find('\\') != std::string_view::npos)
    return make_error("path: NUL bytes and backslashes are not allowed", "path");
  fs::path out = root;
  size_t pos = 0;
  while (pos <= url_path.size()) {
    const size_t slash = url_path.find('/', pos);
    const std::string_view segment =
        url_path.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
    if (segment == "." || segment == "..")
      return make_error("path: '.' and '..' segments are not allowed", "path");
    if (!segment.empty()) out /= std::string(segment);
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
  }
  return out;
}

bool is_file_inside(const fs::path& root, const fs::path& file) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) return false;
  const fs::path real_root = fs::canonical(root, ec);
  if (ec) return false;
  const fs::path real_file = fs::canonical(file, ec);
  if (ec) return false;
  // Component-wise prefix test: /srv/web must not admit /srv/web2/x.
  auto [root_end, file_it] = std::mismatch(real_root.begin(), real_root.end(), real_file.begin(), real_file.end());
  return root_end == real_root.end();
}

bool send_file(const fs::path& file, httplib::Response& res) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return false;
  std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return false;
  res.status = 200;
  res.set_content(std::move(body), content_type_for(file.filename().string()));
  return true;
}

bool WebUi::is_built() const {
  std::error_code ec;
  return fs::is_regular_file(root_ / "index.html", ec);
}

void WebUi::serve(const httplib::Request& req, httplib::Response& res) const {
  auto file = resolve_under(root_, req.path);
  if (!file) return send_error(res, kStatusBadRequest, file.error());
  // Checked per request, so `make web` while the server runs is picked up without a restart.
  if (!is_built()) {
    if (has_file_extension(req.path)) return send_error(res, kStatusNotFound, "no such file: " + req.path, "path");
    res.status = 200;
    res.set_content(fmt::format(kNotBuiltPage, html_escape(root_.string())), "text/html; charset=utf-8");
    return;
  }
  if (is_file_inside(root_, *file) && send_file(*file, res)) return;
  if (has_file_extension(req.path)) return send_error(res, kStatusNotFound, "no such file: " + req.path, "path");
  // A client-side route: the app's router reads the URL once index.html has loaded.
  if (!send_file(root_ / "index.html", res))
    return send_error(res, kStatusInternalError, "cannot read " + (root_ / "index.html").string());
  res.set_header("Cache-Control", "no-cache");
}

}  // namespace helix::server
