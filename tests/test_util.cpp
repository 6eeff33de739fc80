#include "test_util.h"

#include <atomic>
#include <cstdlib>
#include <random>

#include <unistd.h>

namespace helix::test {

std::string shared_path(const std::string& relative) {
  const char* env = std::getenv("HELIX_SHARED_DIR");
  const std::string root = env != nullptr ? env : HELIX_SHARED_DIR;
  return root + "/" + relative;
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
