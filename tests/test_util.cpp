#include "test_util.h"

#include <gtest/gtest.h>

#include "model/tokenizer_for_model.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <random>

#include <sys/wait.h>
#include <unistd.h>

namespace helix::test {

std::string shared_path(const std::string& relative) {
  const char* env = std::getenv("HELIX_SHARED_DIR");
  const std::string root = env != nullptr ? env : HELIX_SHARED_DIR;
  return root + "/" + relative;
}

LoadedModel load_model(const std::string& path) {
  LoadedModel out;
  auto file = open_model_file(path);
  if (!file) {
    ADD_FAILURE() << path << ": " << file.error().message;
    return out;
  }
  auto tok = tokenizer_for_model(*file);
  if (!tok) {
    ADD_FAILURE() << path << ": " << tok.error().message;
    return out;
  }
  auto model = Transformer::from_file(std::move(*file));
  if (!model) {
    ADD_FAILURE() << path << ": " << model.error().message;
    return out;
  }
  out.model = std::move(*model);
  out.tokenizer = std::move(*tok);
  return out;
}

CommandRun run_helix(const std::string& args, bool merge_stderr) {
  const std::string cmd = std::string(HELIX_BINARY) + " " + args + (merge_stderr ? " 2>&1" : " 2>/dev/null");
  CommandRun r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  path_ = std::filesystem::temp_directory_path() /
          ("helix-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
           std::to_string(std::random_device{}()));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace helix::test
