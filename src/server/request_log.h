// One structured log line per HTTP request (spdlog, info level):
//   http method=GET path=/compare/memory query="batch_size=4" status=200 bytes=812 duration_ms=0.41 remote=127.0.0.1:51234
#pragma once

#include <string>
#include <string_view>

#include <httplib.h>

namespace helix::server {

// Makes a client-supplied string safe for one log line: quotes, backslashes, control and non-ASCII bytes
// become escapes, so a request cannot forge or break log lines.
std::string log_escape(std::string_view text);

std::string request_log_line(const httplib::Request& req, const httplib::Response& res, double duration_ms);

void log_request(const httplib::Request& req, const httplib::Response& res, double duration_ms);

}  // namespace helix::server
