// Tokenizer from GGUF metadata (tokenizer.ggml.*), with llama.cpp's defaults where a key is absent.
#include <fstream>

#include "model/gguf_reader.h"
#include "model/tokenizer_loaders.h"

namespace helix {

namespace {

// An optional token id: absent, negative or 0xFFFFFFFF (GGUF's "none" as uint32) mean none.
Result<int32_t> optional_id(const GgufFile& file, std::string_view key, int32_t fallback) {
  if (!file.has(key)) return fallback;
  auto value = file.get_int(key);
  if (!value) return Unexpected{value.error()};
  if (*value < 0 || *value == 0xFFFFFFFFLL) return -1;
  if (*value > INT32_MAX) return errorf("{}: {} = {} is not a token id", file.path(), key, *value);
  return static_cast<int32_t>(*value);
}

Result<bool> optional_bool(const GgufFile& file, std::string_view key, bool fallback) {
  if (!file.has(key)) return fallback;
  return file.get_bool(key);
}

// tokenizer.ggml.pre -> pre-tokenizer steps (llama.cpp's names).
Status set_pre_tokenizer(const GgufFile& file, TokenizerSpec& spec) {
  std::string pre = "default";
  if (file.has("tokenizer.ggml.pre")) {
    auto value = file.get_string("tokenizer.ggml.pre");
    if (!value) return Unexpected{value.error()};
    pre = std::string(*value);
  }
  if (pre == "default" || pre == "gpt-2") {
    spec.pre_tokenizer = {PreTokenizerStep::kGpt2Regex};
  } else if (pre == "llama-bpe" || pre == "llama3") {
    spec.pre_tokenizer = {PreTokenizerStep::kLlama3Regex};
    spec.ignore_merges = true;
    spec.add_bos = true;
  } else if (pre == "smollm" || pre == "starcoder" || pre == "refact") {
    // llama.cpp's "\p{N}" split before the GPT-2 regex: every numeric char alone.
    spec.pre_tokenizer = {PreTokenizerStep::kDigitsIndividual, PreTokenizerStep::kGpt2Regex};
  } else {
    return errorf("{}: tokenizer.ggml.pre \"{}\" is not supported (default, gpt-2, llama-bpe, smollm)", file.path(), pre);
  }
  return {};
}

}  // namespace

Result<Tokenizer> load_gguf_tokenizer(const GgufFile& file) {
  const std::string& path = file.path();
  auto model = file.get_string("tokenizer.ggml.model");
  if (!model) return Unexpected{model.error()};
  TokenizerSpec spec;
  spec.source = path;
  if (*model == "llama") {
    spec.kind = TokenizerKind::kSentencePiece;
    spec.add_bos = true;
  } else if (*model == "gpt2") {
    spec.kind = TokenizerKind::kByteLevelBpe;
    spec.add_space_prefix = false;
    HELIX_TRY(set_pre_tokenizer(file, spec));
  } else {
    return errorf("{}: tokenizer.ggml.model \"{}\" is not supported (llama or gpt2)", path, *model);
  }

  auto tokens = file.get_string_array("tokenizer.ggml.tokens");
  if (!tokens) return Unexpected{tokens.error()};
  spec.tokens.assign(tokens->begin(), tokens->end());
  if (file.has("tokenizer.ggml.scores")) {
    auto scores = file.get_float_array("tokenizer.ggml.scores");
    if (!scores) return Unexpected{scores.error()};
    spec.scores = std::move(*scores);
  }
  if (file.has("tokenizer.ggml.token_type")) {
    auto types = file.get_int_array("tokenizer.ggml.token_type");
    if (!types) return Unexpected{types.error()};
    spec.types.reserve(types->size());
    for (size_t i = 0; i < types->size(); ++i) {
      const int64_t type = (*types)[i];
      if (type < 1 || type > 6) return errorf("{}: tokenizer.ggml.token_type[{}] = {} is not a token type", path, i, type);
      spec.types.push_back(static_cast<TokenType>(type));
    }
  }
  if (spec.kind == TokenizerKind::kByteLevelBpe) {
    auto merges = file.get_string_array("tokenizer.ggml.merges");
    if (!merges) return Unexpected{merges.error()};
    spec.merges.reserve(merges->size());
    for (size_t i = 0; i < merges->size(); ++i) {
      const std::string_view merge = (*merges)[i];
      // Split at the first space after the first char, as llama.cpp does.
      const size_t space = merge.size() > 1 ? merge.find(' ', 1) : std::string_view::npos;
      if (space == std::string_view::npos) {
        return errorf("{}: tokenizer.ggml.merges[{}] \"{}\": expected two tokens separated by a space", path, i, merge);
      }
      spec.merges.emplace_back(std::string(merge.substr(0, space)), std::string(merge.substr(space + 1)));
    }
  }

  const bool spm = spec.kind == TokenizerKind::kSentencePiece;
  auto bos = optional_id(file, "tokenizer.ggml.bos_token_id", spm ? 1 : -1);
  auto eos = optional_id(file, "tokenizer.ggml.eos_token_id", spm ? 2 : -1);
  auto unk = optional_id(file, "tokenizer.ggml.unknown_token_id", spm ? 0 : -1);
  auto eot = optional_id(file, "tokenizer.ggml.eot_token_id", -1);
  auto eom = optional_id(file, "tokenizer.ggml.eom_token_id", -1);
  for (const auto* id : {&bos, &eos, &unk, &eot, &eom}) {
    if (!*id) return Unexpected{id->error()};
  }
  spec.bos_id = *bos;
  spec.eos_id = *eos;
  spec.unk_id = *unk;
  if (*eot >= 0) spec.eog_ids.push_back(*eot);
  if (*eom >= 0) spec.eog_ids.push_back(*eom);
  auto add_bos = optional_bool(file, "tokenizer.ggml.add_bos_token", spec.add_bos);
  if (!add_bos) return Unexpected{add_bos.error()};
  spec.add_bos = *add_bos;
  if (spm) {
    auto prefix = optional_bool(file, "tokenizer.ggml.add_space_prefix", true);
    if (!prefix) return Unexpected{prefix.error()};
    spec.add_space_prefix = *prefix;
  }
  return Tokenizer::create(std::move(spec));
}

Result<Tokenizer> load_tokenizer_file(const std::string& path, int32_t expected_vocab_size) {
  char magic[4] = {};
  std::ifstream(path, std::ios::binary).read(magic, sizeof(magic));
  Result<Tokenizer> tokenizer = make_error("");
  if (std::string_view(magic, sizeof(magic)) == "GGUF") {
    auto file = GgufFile::open(path);
    if (!file) return Unexpected{file.error()};
    tokenizer = load_gguf_tokenizer(*file);
  } else if (path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0) {
    tokenizer = load_hf_tokenizer(path);
  } else {
    return load_llama2c_tokenizer(path, expected_vocab_size);
  }
  if (tokenizer && expected_vocab_size > 0 && tokenizer->vocab_size() != expected_vocab_size) {
    return errorf("{}: {} tokens, the model expects {}", path, tokenizer->vocab_size(), expected_vocab_size);
  }
  return tokenizer;
}

}  // namespace helix
