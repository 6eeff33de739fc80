#include "model/tokenizer_for_model.h"

#include <filesystem>

#include <fmt/format.h>

#include "model/tokenizer_loaders.h"

namespace helix {

Result<Tokenizer> tokenizer_for_model(const ModelFile& file, const std::string& tokenizer_path) {
  const auto vocab = static_cast<int32_t>(file.shape.vocab_size);
  Result<Tokenizer> tok = make_error("no tokenizer");
  if (!tokenizer_path.empty()) {
    tok = load_tokenizer_file(tokenizer_path, vocab);
  } else if (file.gguf.has_value()) {
    tok = load_gguf_tokenizer(*file.gguf);
  } else {
    namespace fs = std::filesystem;
    const fs::path dir = fs::path(file.path).parent_path();
    std::string tried;
    for (const std::string& name : {fmt::format("tok{}.bin", vocab), std::string("tokenizer.bin")}) {
      const fs::path candidate = dir / name;
      tried += (tried.empty() ? "" : ", ") + candidate.string();
      if (fs::exists(candidate)) return load_llama2c_tokenizer(candidate.string(), vocab);
    }
    return errorf("{}: a llama2.c checkpoint has no tokenizer inside; none found beside it ({}); pass --tokenizer FILE",
                  file.path, tried);
  }
  if (!tok) return Unexpected{tok.error()};
  if (tok->vocab_size() != vocab)
    return errorf("tokenizer has {} tokens, the model's vocabulary has {}", tok->vocab_size(), vocab);
  return tok;
}

}  // namespace helix
