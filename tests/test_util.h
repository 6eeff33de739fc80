// Helpers shared by the tests: paths into ../shared and temporary files.
#pragma once

#include <filesystem>
#include <string>

namespace helix::test {

// A path under the shared data folder (../shared beside the checkout).
std::string shared_path(const std::string& relative);

// A fresh temporary directory for one test, removed when the object goes out of scope.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::filesystem::path path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace helix::test
