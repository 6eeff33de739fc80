// A draft model can only propose for a target that reads its token ids the same way: the same vocabulary
// size and, when both files come with a tokenizer, the same text for every id. Anything else would verify
// ids that mean different words, so it is refused up front.
#pragma once

#include <string>

#include "common/result.h"
#include "model/model_file.h"
#include "model/tokenizer.h"

namespace helix {

// Errors (param "draft_model") name both files and, for a text mismatch, the first differing id and both
// texts. A tokenizer pointer may be null (that file has none): only the sizes are compared then.
Status compare_vocabularies(const std::string& target_path, int64_t target_vocab, const Tokenizer* target_tokenizer,
                            const std::string& draft_path, int64_t draft_vocab, const Tokenizer* draft_tokenizer);

// The same for two model files, each with the tokenizer tokenizer_for_model finds for it (a GGUF's own, a
// llama2.c checkpoint's tok<N>.bin beside it, or the explicit path when not empty).
Status check_draft_vocabulary(const ModelFile& target, const ModelFile& draft,
                              const std::string& target_tokenizer_path = {},
                              const std::string& draft_tokenizer_path = {});

}  // namespace helix
