// Helpers shared by the tests: paths into ../shared, temporary files, running the helix binary.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "model/tokenizer.h"
#include "model/transformer.h"

namespace helix::test {

// A path under the shared data folder (../shared beside the checkout).
std::string shared_path(const std::string& relative);

// A model file loaded with its tokenizer; a failure is reported to the running test (both are then empty).
struct LoadedModel {
  std::unique_ptr<Transformer> model;
  std::optional<Tokenizer> tokenizer;
};
LoadedModel load_model(const std::string& path);

// The `helix` binary run with `args` (a shell command line), to the end.
struct CommandRun {
  int exit_code = -1;
  std::string out;  // stdout, or stdout + stderr with merge_stderr
};
CommandRun run_helix(const std::string& args, bool merge_stderr = false);

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
