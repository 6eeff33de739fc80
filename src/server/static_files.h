// Files served from disk: the built web UI (web/dist) with client-side routing, and the assets of the
// Swagger UI page. Every request path is checked so nothing outside the served folder can be read.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include <httplib.h>

#include "common/result.h"

namespace helix::server {

// "text/javascript; charset=utf-8" for "a/b.js", ...; application/octet-stream when unknown.
std::string content_type_for(std::string_view file_name);

// Whether the last segment of a URL path names a file ("/assets/app.js" yes, "/comparison" no).
bool has_file_extension(std::string_view url_path);

// Maps a decoded URL path ("/assets/app.js") to a path under `root`. Refuses "." and ".." segments,
// backslashes and NUL bytes (param "path"); the result is lexically inside root.
Result<std::filesystem::path> resolve_under(const std::filesystem::path& root, std::string_view url_path);

// Whether `file` is a regular file whose real location (symlinks followed) is inside `root`.
bool is_file_inside(const std::filesystem::path& root, const std::filesystem::path& file);

// Reads `file` into the response with its content type. False (response untouched) if it cannot be read.
bool send_file(const std::filesystem::path& file, httplib::Response& res);

// The built web UI. A path naming a file gets that file; any other path gets index.html, so the
// single-page app's own routes (/comparison) survive a reload. Without a build, a page says how to make one.
class WebUi {
 public:
  explicit WebUi(std::filesystem::path root) : root_(std::move(root)) {}

  // Answers a GET or HEAD for a path that is not an API route.
  void serve(const httplib::Request& req, httplib::Response& res) const;

  bool is_built() const;
  const std::filesystem::path& root() const { return root_; }

 private:
  std::filesystem::path root_;
};

}  // namespace helix::server
