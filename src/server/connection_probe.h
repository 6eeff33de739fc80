// ConnectionProbe: tells a handler whether the client of the request it serves has gone away, so that a
// generation nobody will read is cancelled and its KV blocks freed at once.
//
// cpp-httplib 0.11 gives a handler neither the socket nor Request::is_connection_closed (added in later
// versions), and a dead peer is otherwise noticed only when a write fails, which a non-streamed response never
// attempts before the generation ends. The request does carry both ends' addresses, so the probe finds the
// connection's socket among the process's descriptors by matching them (the socket stays open, owned by the
// worker thread running the handler, until the handler returns), and polls it without reading: end of stream
// or an error means the client closed the connection.
#pragma once

#include <optional>

#include <httplib.h>

namespace helix::server {

class ConnectionProbe {
 public:
  // The probe of the connection `req` arrived on; nullopt when its socket cannot be found (no /proc).
  static std::optional<ConnectionProbe> for_request(const httplib::Request& req);

  // True once the peer has closed or reset the connection (a client that half-closes its side after sending
  // the request counts as gone too). Never blocks, never consumes data.
  bool peer_closed() const;

  int fd() const { return fd_; }

 private:
  explicit ConnectionProbe(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace helix::server
