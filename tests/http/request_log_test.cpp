// The per-request log line: every field, and client bytes that cannot break or forge a line.
#include "server/request_log.h"

#include <gtest/gtest.h>

namespace helix::server {
namespace {

TEST(RequestLog, LineHasEveryField) {
  httplib::Request req;
  req.method = "GET";
  req.path = "/compare/memory";
  req.target = "/compare/memory?batch_size=4";
  req.remote_addr = "127.0.0.1";
  req.remote_port = 5000;
  httplib::Response res;
  res.status = 200;
  res.body = std::string(812, 'x');
  EXPECT_EQ(request_log_line(req, res, 0.414),
            "http method=GET path=\"/compare/memory\" query=\"batch_size=4\" status=200 bytes=812 "
            "duration_ms=0.41 remote=127.0.0.1:5000");
}

TEST(RequestLog, EscapesQuotesControlAndNonAscii) {
  EXPECT_EQ(log_escape("a\"b\\c\nd\xff"), "a\\\"b\\\\c\\x0ad\\xff");
}

}  // namespace
}  // namespace helix::server
