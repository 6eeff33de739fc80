// `helix serve` as a real process: it answers, logs each request, and stops cleanly on SIGTERM / SIGINT;
// a busy port is a one-line error and exit 1.
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <string>

#include <gtest/gtest.h>
#include <httplib.h>

#include "helix_process.h"
#include "test_util.h"

namespace helix {
namespace {

using test::free_port;
using test::Listener;
using test::read_all;
using test::spawn_helix;
using test::wait_exit;
using test::wait_healthy;

void check_graceful_stop(int signal_number, const char* signal_name) {
  test::TempDir dir;
  const std::string log = dir.file("serve.log");
  const int port = free_port();
  const pid_t pid = spawn_helix({"serve", "--host", "127.0.0.1", "--port", std::to_string(port)}, log);
  ASSERT_GT(pid, 0);
  // Generous: under AddressSanitizer start-up is slow.
  if (!wait_healthy(port, std::chrono::seconds(30))) {
    kill(pid, SIGKILL);
    wait_exit(pid, std::chrono::seconds(5));
    FAIL() << "no /health answer; log:\n" << read_all(log);
  }
  httplib::Client client("127.0.0.1", port);
  auto res = client.Get("/compare/memory?batch_size=2");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);

  ASSERT_EQ(kill(pid, signal_number), 0);
  const int status = wait_exit(pid, std::chrono::seconds(30));
  if (status == -1) kill(pid, SIGKILL);
  ASSERT_NE(status, -1) << "still running after " << signal_name << "; log:\n" << read_all(log);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0);

  const std::string text = read_all(log);
  EXPECT_NE(text.find("listening on http://127.0.0.1:" + std::to_string(port)), std::string::npos) << text;
  EXPECT_NE(text.find("http method=GET path=\"/health\" query=\"\" status=200"), std::string::npos) << text;
  EXPECT_NE(text.find("http method=GET path=\"/compare/memory\" query=\"batch_size=2\" status=200 bytes="),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("duration_ms="), std::string::npos) << text;
  EXPECT_NE(text.find("remote=127.0.0.1:"), std::string::npos) << text;
  EXPECT_NE(text.find(std::string("received ") + signal_name), std::string::npos) << text;
  EXPECT_NE(text.find("server stopped"), std::string::npos) << text;
}

TEST(ServeBinary, AnswersLogsAndStopsOnSigterm) { check_graceful_stop(SIGTERM, "SIGTERM"); }

TEST(ServeBinary, StopsOnSigint) { check_graceful_stop(SIGINT, "SIGINT"); }

TEST(ServeBinary, BusyPortIsOneLineAndExit1) {
  test::TempDir dir;
  const std::string log = dir.file("serve.log");
  Listener busy;
  const pid_t pid = spawn_helix({"serve", "--host", "127.0.0.1", "--port", std::to_string(busy.port())}, log);
  const int status = wait_exit(pid, std::chrono::seconds(30));
  if (status == -1) kill(pid, SIGKILL);
  ASSERT_NE(status, -1) << "it served on a busy port; log:\n" << read_all(log);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  const std::string text = read_all(log);
  EXPECT_EQ(text, "helix: error: cannot listen on 127.0.0.1:" + std::to_string(busy.port()) +
                      ": address already in use (is another server running on this port?)\n");
}

}  // namespace
}  // namespace helix
