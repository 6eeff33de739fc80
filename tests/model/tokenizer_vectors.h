// Reading llama.cpp's tokenizer test vectors (.inp / .out beside a vocab) for the tokenizer tests.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace helix::test {

struct TokenizerVector {
  std::string input;
  std::vector<int32_t> ids;
};

inline std::string read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// `.inp`: inputs each followed by "\n__ggml_vocab_test__\n"; `.out`: one line of ids per input.
// An empty result means the files could not be read or do not pair up (tests check the count).
inline std::vector<TokenizerVector> read_tokenizer_vectors(const std::string& inp_path) {
  const std::string separator = "\n__ggml_vocab_test__\n";
  const std::string inputs = read_file_bytes(inp_path);
  std::string outputs = read_file_bytes(inp_path.substr(0, inp_path.size() - 4) + ".out");
  std::vector<TokenizerVector> cases;
  size_t pos = 0;
  while (pos < inputs.size()) {
    const size_t end = inputs.find(separator, pos);
    if (end == std::string::npos) return {};
    cases.push_back({inputs.substr(pos, end - pos), {}});
    pos = end + separator.size();
  }
  std::istringstream lines(outputs);
  std::string line;
  size_t index = 0;
  while (std::getline(lines, line)) {
    if (index >= cases.size()) return {};
    std::istringstream ids(line);
    int32_t id = 0;
    while (ids >> id) cases[index].ids.push_back(id);
    ++index;
  }
  if (index != cases.size()) return {};
  return cases;
}

}  // namespace helix::test
