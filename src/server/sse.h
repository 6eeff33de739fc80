// Server-sent events (text/event-stream): the framing of the streamed /v1 responses and of /kv/events.
// An event is "data: <one line>\n\n"; a line starting with ':' is a comment clients ignore (keep-alive).
#pragma once

#include <string>
#include <string_view>

#include <httplib.h>
#include <nlohmann/json.hpp>

namespace helix::server {

// "data: {json}\n\n". JSON never contains a raw newline; invalid UTF-8 in strings becomes U+FFFD.
std::string sse_data(const nlohmann::json& body);
// OpenAI's end of stream: "data: [DONE]\n\n".
std::string sse_done();
// ": text\n\n" (text must hold no newline).
std::string sse_comment(std::string_view text);

// Headers every event stream sends: no caching, no proxy buffering.
void set_sse_headers(httplib::Response& res);
inline constexpr const char* kSseContentType = "text/event-stream";

}  // namespace helix::server
