#include "server/request_log.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "server/query_params.h"

namespace helix::server {

std::string log_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20 || c >= 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += ch;
    }
  }
  return out;
}

std::string request_log_line(const httplib::Request& req, const httplib::Response& res, double duration_ms) {
  // A streamed body (content provider) has no string body; its length is known up front or not at all.
  const size_t bytes = res.body.empty() ? res.content_length_ : res.body.size();
  return fmt::format("http method={} path=\"{}\" query=\"{}\" status={} bytes={} duration_ms={:.2f} remote={}:{}",
                     log_escape(req.method), log_escape(req.path), log_escape(query_of_target(req.target)),
                     res.status, bytes, duration_ms, log_escape(req.remote_addr), req.remote_port);
}

void log_request(const httplib::Request& req, const httplib::Response& res, double duration_ms) {
  spdlog::info("{}", request_log_line(req, res, duration_ms));
}

}  // namespace helix::server
