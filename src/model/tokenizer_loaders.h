// Tokenizer loaders: each reads one file format into a TokenizerSpec and builds a Tokenizer. Errors name
// the file and what is wrong with it (a truncated token, a merge of unknown tokens, ...).
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "model/tokenizer.h"

namespace helix {

class GgufFile;
struct SyntheticVocab;

// llama2.c tokenizer .bin (tok512.bin, tokenizer.bin): int32 max_token_length, then per token a float32
// score, an int32 byte length and the bytes. SentencePiece pieces with '▁' written as ' ', BOS and EOS
// as "\n<s>\n" and "\n</s>\n"; both are turned back into SentencePiece's form. The file does not store
// the token count, so tokens are read to the end; expected_vocab_size > 0 (the checkpoint's) checks it.
Result<Tokenizer> load_llama2c_tokenizer(const std::string& path, int32_t expected_vocab_size = 0);

// Hugging Face tokenizer.json with a byte-level BPE model (GPT-2, Llama 3, SmolLM2). The pre-tokenizer
// is read from the file (Sequence, Digits, ByteLevel, Split with the GPT-2 or Llama 3 regex); anything
// else is refused by name. BOS/EOS ids come from a config.json beside the file when there is one, else
// from the added tokens' names; BOS is added by default only when the post-processor's template does.
Result<Tokenizer> load_hf_tokenizer(const std::string& path);

// GGUF metadata: tokenizer.ggml.model "llama" (SentencePiece) or "gpt2" (byte-level BPE, pre-tokenizer
// from tokenizer.ggml.pre: default/gpt-2, llama-bpe, smollm and a few aliases), tokens, scores,
// token_type, merges, bos/eos/unk/eot/eom ids, add_bos_token, add_space_prefix.
Result<Tokenizer> load_gguf_tokenizer(const GgufFile& file);

// Any of the above by content: a GGUF file (magic "GGUF"), a .json file, else a llama2.c .bin
// (expected_vocab_size as for load_llama2c_tokenizer; for the others it must match when > 0).
Result<Tokenizer> load_tokenizer_file(const std::string& path, int32_t expected_vocab_size = 0);

// The SentencePiece tokenizer of a synthetic vocabulary (models generated with random weights).
Result<Tokenizer> synthetic_tokenizer(const SyntheticVocab& vocab);

}  // namespace helix
