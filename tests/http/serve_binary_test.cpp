// `helix serve` as a real process: it answers, logs each request, and stops cleanly on SIGTERM / SIGINT;
// a busy port is a one-line error and exit 1.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>

#include "test_util.h"

namespace helix {
namespace {

// A loopback socket listening on a free port, kept open while the object lives.
class Listener {
 public:
  Listener() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(fd_, 1), 0);
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~Listener() { close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

int free_port() { return Listener().port(); }

// Runs `helix ARGS...` with stdout and stderr going to `log_path`.
pid_t spawn_helix(const std::vector<std::string>& args, const std::string& log_path) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    std::vector<char*> argv;
    std::string binary = HELIX_BINARY;
    argv.push_back(binary.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

// Waits up to `timeout` for the process to exit; its wait status, or -1 if it is still running.
int wait_exit(pid_t pid, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

bool wait_healthy(int port, std::chrono::seconds timeout) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(1);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto res = client.Get("/health");
    if (res && res->status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

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
