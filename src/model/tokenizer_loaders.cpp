// Loaders of the llama2.c .bin and Hugging Face tokenizer.json formats (GGUF: tokenizer_gguf.cpp).
#include "model/tokenizer_loaders.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/mapped_file.h"
#include "model/synthetic_vocab.h"

namespace helix {

namespace {

using nlohmann::json;

constexpr std::string_view kSpaceMarker = "\xE2\x96\x81";  // '▁'

// The regexes of Split pre-tokenizers that have a hand-written splitter.
constexpr std::string_view kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
constexpr std::string_view kLlama3Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

template <typename T>
T read_le(const uint8_t* p) {
  T value;
  std::memcpy(&value, p, sizeof(T));
  return value;
}

Result<std::string> read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return errorf("{}: cannot open", path);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return errorf("{}: read error", path);
  return buffer.str();
}

// A JSON value's kind in words, for messages.
std::string kind_of(const json& value) { return value.type_name(); }

const json* member(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

bool bool_member(const json& object, const char* key, bool fallback) {
  const json* value = member(object, key);
  return value != nullptr && value->is_boolean() ? value->get<bool>() : fallback;
}

// Appends the steps of one pre_tokenizer node; `byte_level` is set when a ByteLevel step is seen.
Status parse_pre_tokenizer(const json& node, const std::string& where, TokenizerSpec& spec, bool& byte_level) {
  const json* type = member(node, "type");
  if (type == nullptr || !type->is_string()) return errorf("{}: missing \"type\"", where);
  const std::string name = type->get<std::string>();
  if (name == "Sequence") {
    const json* steps = member(node, "pretokenizers");
    if (steps == nullptr || !steps->is_array()) return errorf("{}.pretokenizers: missing or not an array", where);
    for (size_t i = 0; i < steps->size(); ++i) {
      HELIX_TRY(parse_pre_tokenizer((*steps)[i], fmt::format("{}.pretokenizers[{}]", where, i), spec, byte_level));
    }
    return {};
  }
  if (name == "Digits") {
    spec.pre_tokenizer.push_back(bool_member(node, "individual_digits", false) ? PreTokenizerStep::kDigitsIndividual
                                                                                : PreTokenizerStep::kDigitsContiguous);
    return {};
  }
  if (name == "ByteLevel") {
    // Hugging Face prepends the space to every piece earlier steps made; only the whole-text case is
    // implemented, so refuse the other rather than differ.
    const bool prefix_space = bool_member(node, "add_prefix_space", true);
    if (prefix_space && !spec.pre_tokenizer.empty()) {
      return errorf("{}: ByteLevel with add_prefix_space after other pre-tokenizers is not supported", where);
    }
    byte_level = true;
    spec.byte_level_prefix_space = prefix_space;
    if (bool_member(node, "use_regex", true)) spec.pre_tokenizer.push_back(PreTokenizerStep::kGpt2Regex);
    return {};
  }
  if (name == "Split") {
    const json* pattern = member(node, "pattern");
    const json* regex = pattern != nullptr ? member(*pattern, "Regex") : nullptr;
    if (regex == nullptr || !regex->is_string()) return errorf("{}.pattern: only {{\"Regex\": ...}} patterns are supported", where);
    const json* behavior = member(node, "behavior");
    if (behavior == nullptr || !behavior->is_string() || behavior->get<std::string>() != "Isolated" ||
        bool_member(node, "invert", false)) {
      return errorf("{}: only behavior \"Isolated\" without invert is supported", where);
    }
    const std::string text = regex->get<std::string>();
    if (text == kGpt2Pattern) {
      spec.pre_tokenizer.push_back(PreTokenizerStep::kGpt2Regex);
    } else if (text == kLlama3Pattern) {
      spec.pre_tokenizer.push_back(PreTokenizerStep::kLlama3Regex);
    } else {
      return errorf("{}.pattern.Regex: no splitter for this regex: {}", where, text);
    }
    return {};
  }
  return errorf("{}: pre-tokenizer type \"{}\" is not supported", where, name);
}

// The BOS token of a TemplateProcessing post-processor that starts with a special token, or "".
std::string template_bos(const json& node) {
  const json* type = member(node, "type");
  if (type == nullptr || !type->is_string()) return {};
  if (type->get<std::string>() == "Sequence") {
    const json* list = member(node, "processors");
    if (list == nullptr || !list->is_array()) return {};
    for (const json& item : *list) {
      if (std::string bos = template_bos(item); !bos.empty()) return bos;
    }
    return {};
  }
  if (type->get<std::string>() != "TemplateProcessing") return {};
  const json* single = member(node, "single");
  if (single == nullptr || !single->is_array() || single->empty()) return {};
  const json* special = member((*single)[0], "SpecialToken");
  const json* id = special != nullptr ? member(*special, "id") : nullptr;
  return id != nullptr && id->is_string() ? id->get<std::string>() : std::string();
}

// bos_token_id / eos_token_id from the model's config.json beside tokenizer.json, when present.
void read_config_ids(const std::string& tokenizer_path, TokenizerSpec& spec) {
  const auto config_path = std::filesystem::path(tokenizer_path).parent_path() / "config.json";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(config_path, ec)) return;
  auto text = read_text_file(config_path.string());
  if (!text) return;
  const json config = json::parse(*text, nullptr, false);
  if (config.is_discarded() || !config.is_object()) return;
  const auto n = static_cast<int64_t>(spec.tokens.size());
  auto valid = [&](const json& v) { return v.is_number_integer() && v.get<int64_t>() >= 0 && v.get<int64_t>() < n; };
  if (const json* bos = member(config, "bos_token_id"); bos != nullptr && valid(*bos)) {
    spec.bos_id = bos->get<int32_t>();
  }
  if (const json* eos = member(config, "eos_token_id"); eos != nullptr) {
    if (valid(*eos)) spec.eos_id = eos->get<int32_t>();
    if (eos->is_array()) {
      for (const json& id : *eos) {
        if (!valid(id)) continue;
        if (spec.eos_id < 0) spec.eos_id = id.get<int32_t>();
        spec.eog_ids.push_back(id.get<int32_t>());
      }
    }
  }
}

}  // namespace

Result<Tokenizer> load_llama2c_tokenizer(const std::string& path, int32_t expected_vocab_size) {
  auto file = MappedFile::open(path);
  if (!file) return Unexpected{file.error()};
  const uint8_t* data = (*file)->data();
  const size_t size = (*file)->size();
  if (size < 4) return errorf("{}: truncated: {} bytes, less than the 4-byte header", path, size);
  const auto max_token_length = read_le<int32_t>(data);
  if (max_token_length <= 0) return errorf("{}: max_token_length is {}, must be > 0", path, max_token_length);

  TokenizerSpec spec;
  spec.source = path;
  spec.kind = TokenizerKind::kSentencePiece;
  spec.add_bos = true;
  spec.add_space_prefix = true;
  size_t offset = 4;
  while (offset < size) {
    const size_t index = spec.tokens.size();
    if (size - offset < 8) {
      return errorf("{}: token {}: truncated at byte {}: needs 8 header bytes, {} left", path, index, offset, size - offset);
    }
    const auto score = read_le<float>(data + offset);
    const auto length = read_le<int32_t>(data + offset + 4);
    offset += 8;
    if (length < 0 || length > max_token_length) {
      return errorf("{}: token {}: length {} is outside 0..max_token_length ({})", path, index, length, max_token_length);
    }
    if (size - offset < static_cast<size_t>(length)) {
      return errorf("{}: token {}: truncated at byte {}: needs {} bytes, {} left", path, index, offset, length, size - offset);
    }
    std::string_view text(reinterpret_cast<const char*>(data + offset), static_cast<size_t>(length));
    offset += static_cast<size_t>(length);
    if (text == "\n<s>\n") {
      spec.bos_id = static_cast<int32_t>(index);
      spec.tokens.emplace_back("<s>");
    } else if (text == "\n</s>\n") {
      spec.eos_id = static_cast<int32_t>(index);
      spec.tokens.emplace_back("</s>");
    } else {
      // SentencePiece never has a raw space in a piece, so every space here was a '▁'.
      std::string piece;
      for (const char c : text) {
        if (c == ' ') {
          piece.append(kSpaceMarker);
        } else {
          piece += c;
        }
      }
      spec.tokens.push_back(std::move(piece));
    }
    spec.scores.push_back(score);
  }
  if (spec.tokens.empty()) return errorf("{}: no tokens after the header", path);
  if (expected_vocab_size > 0 && spec.tokens.size() != static_cast<size_t>(expected_vocab_size)) {
    return errorf("{}: {} tokens, the model expects {}", path, spec.tokens.size(), expected_vocab_size);
  }
  // llama2.c's fixed ids when the file does not mark them.
  const auto n = static_cast<int32_t>(spec.tokens.size());
  if (spec.bos_id < 0 && n > 1) spec.bos_id = 1;
  if (spec.eos_id < 0 && n > 2) spec.eos_id = 2;
  if (spec.tokens[0] == "<unk>") spec.unk_id = 0;
  return Tokenizer::create(std::move(spec));
}

Result<Tokenizer> load_hf_tokenizer(const std::string& path) {
  auto text = read_text_file(path);
  if (!text) return Unexpected{text.error()};
  const json root = json::parse(*text, nullptr, false);
  if (root.is_discarded()) return errorf("{}: not valid JSON", path);
  if (!root.is_object()) return errorf("{}: expected a JSON object, got {}", path, kind_of(root));

  const json* model = member(root, "model");
  if (model == nullptr || !model->is_object()) return errorf("{}: \"model\" is missing", path);
  if (const json* type = member(*model, "type"); type != nullptr && (!type->is_string() || type->get<std::string>() != "BPE")) {
    return errorf("{}: model.type {} is not supported (only BPE)", path, type->dump());
  }
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (const json* value = member(*model, key); value != nullptr && !(value->is_string() && value->get<std::string>().empty())) {
      return errorf("{}: model.{} is not supported", path, key);
    }
  }
  const json* vocab = member(*model, "vocab");
  if (vocab == nullptr || !vocab->is_object()) return errorf("{}: model.vocab is missing or not an object", path);
  const json* merges = member(*model, "merges");
  if (merges == nullptr || !merges->is_array()) return errorf("{}: model.merges is missing or not an array", path);

  TokenizerSpec spec;
  spec.source = path;
  spec.kind = TokenizerKind::kByteLevelBpe;
  spec.add_space_prefix = false;
  spec.ignore_merges = bool_member(*model, "ignore_merges", false);

  // Ids are dense from 0; added tokens may extend the vocab past model.vocab.
  constexpr int64_t kMaxTokens = 1 << 24;
  std::vector<std::pair<int64_t, std::string>> entries;
  entries.reserve(vocab->size());
  for (const auto& [token, id] : vocab->items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= kMaxTokens) {
      return errorf("{}: model.vocab[\"{}\"]: id {} is not an integer in 0..{}", path, token, id.dump(), kMaxTokens - 1);
    }
    entries.emplace_back(id.get<int64_t>(), token);
  }
  const json* added = member(root, "added_tokens");
  if (added != nullptr && !added->is_array()) return errorf("{}: added_tokens is not an array", path);
  struct Added {
    int64_t id;
    std::string content;
    bool special;
  };
  std::vector<Added> added_tokens;
  if (added != nullptr) {
    for (size_t i = 0; i < added->size(); ++i) {
      const json& item = (*added)[i];
      const json* id = member(item, "id");
      const json* content = member(item, "content");
      if (id == nullptr || !id->is_number_integer() || id->get<int64_t>() < 0 || id->get<int64_t>() >= kMaxTokens ||
          content == nullptr || !content->is_string() || content->get<std::string>().empty()) {
        return errorf("{}: added_tokens[{}]: needs an integer \"id\" and a non-empty \"content\"", path, i);
      }
      added_tokens.push_back({id->get<int64_t>(), content->get<std::string>(), bool_member(item, "special", false)});
    }
  }
  int64_t n = 0;
  for (const auto& entry : entries) n = std::max(n, entry.first + 1);
  for (const Added& a : added_tokens) n = std::max(n, a.id + 1);
  if (n == 0) return errorf("{}: model.vocab is empty", path);
  spec.tokens.resize(static_cast<size_t>(n));
  std::vector<bool> present(static_cast<size_t>(n), false);
  for (auto& [id, token] : entries) {
    if (present[id]) return errorf("{}: model.vocab: id {} is used twice", path, id);
    present[id] = true;
    spec.tokens[id] = std::move(token);
  }
  spec.types.assign(static_cast<size_t>(n), TokenType::Normal);
  for (size_t i = 0; i < added_tokens.size(); ++i) {
    const Added& a = added_tokens[i];
    if (present[a.id] && spec.tokens[a.id] != a.content) {
      return errorf("{}: added_tokens[{}]: id {} is \"{}\" but model.vocab has \"{}\" there", path, i, a.id, a.content,
                    spec.tokens[a.id]);
    }
    present[a.id] = true;
    spec.tokens[a.id] = a.content;
    spec.types[a.id] = a.special ? TokenType::Control : TokenType::UserDefined;
  }
  for (int64_t id = 0; id < n; ++id) {
    if (!present[id]) return errorf("{}: model.vocab: no token has id {} (ids must be dense)", path, id);
  }

  spec.merges.reserve(merges->size());
  for (size_t i = 0; i < merges->size(); ++i) {
    const json& merge = (*merges)[i];
    if (merge.is_string()) {
      // "left right": exactly one space, as the Hugging Face loader requires.
      const std::string& line = merge.get_ref<const std::string&>();
      const size_t space = line.find(' ');
      if (space == std::string::npos || space == 0 || space + 1 == line.size() || line.find(' ', space + 1) != std::string::npos) {
        return errorf("{}: model.merges[{}] \"{}\": expected two tokens separated by one space", path, i, line);
      }
      spec.merges.emplace_back(line.substr(0, space), line.substr(space + 1));
    } else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() && merge[1].is_string()) {
      spec.merges.emplace_back(merge[0].get<std::string>(), merge[1].get<std::string>());
    } else {
      return errorf("{}: model.merges[{}]: expected \"a b\" or [\"a\", \"b\"], got {}", path, i, merge.dump());
    }
  }

  if (const json* normalizer = member(root, "normalizer"); normalizer != nullptr) {
    return errorf("{}: normalizer {} is not supported", path, normalizer->dump().substr(0, 80));
  }
  bool byte_level = false;
  if (const json* pre = member(root, "pre_tokenizer"); pre != nullptr) {
    if (auto parsed = parse_pre_tokenizer(*pre, "pre_tokenizer", spec, byte_level); !parsed) {
      return with_context(path, parsed.error());
    }
  }
  if (!byte_level) return errorf("{}: pre_tokenizer has no ByteLevel step: only byte-level BPE is supported", path);

  if (const json* unk = member(*model, "unk_token"); unk != nullptr && unk->is_string()) {
    for (size_t id = 0; id < spec.tokens.size(); ++id) {
      if (spec.tokens[id] == unk->get<std::string>()) spec.unk_id = static_cast<int32_t>(id);
    }
  }
  if (const json* post = member(root, "post_processor"); post != nullptr) {
    const std::string bos = template_bos(*post);
    for (size_t id = 0; !bos.empty() && id < spec.tokens.size(); ++id) {
      if (spec.tokens[id] == bos) {
        spec.bos_id = static_cast<int32_t>(id);
        spec.add_bos = true;
      }
    }
  }
  read_config_ids(path, spec);
  if (spec.eos_id < 0) {
    for (const char* name : {"<|endoftext|>", "<|end_of_text|>", "</s>"}) {
      for (size_t id = 0; spec.eos_id < 0 && id < spec.tokens.size(); ++id) {
        if (spec.types[id] == TokenType::Control && spec.tokens[id] == name) spec.eos_id = static_cast<int32_t>(id);
      }
    }
  }
  return Tokenizer::create(std::move(spec));
}

Result<Tokenizer> synthetic_tokenizer(const SyntheticVocab& vocab) {
  TokenizerSpec spec;
  spec.source = "synthetic vocabulary";
  spec.kind = TokenizerKind::kSentencePiece;
  spec.tokens = vocab.tokens;
  spec.scores = vocab.scores;
  spec.types.reserve(vocab.token_types.size());
  for (const int32_t type : vocab.token_types) {
    if (type < 1 || type > 6) return errorf("synthetic vocabulary: {} is not a token type", type);
    spec.types.push_back(static_cast<TokenType>(type));
  }
  spec.bos_id = vocab.bos_id;
  spec.eos_id = vocab.eos_id;
  spec.unk_id = vocab.unk_id;
  spec.add_bos = true;
  return Tokenizer::create(std::move(spec));
}

}  // namespace helix
