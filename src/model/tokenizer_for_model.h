// Finds the tokenizer that belongs to a model file: a GGUF carries its own; a llama2.c checkpoint needs a
// tokenizer .bin, given explicitly or found beside it (tok<vocab>.bin, tokenizer.bin).
#pragma once

#include <string>

#include "common/result.h"
#include "model/model_file.h"
#include "model/tokenizer.h"

namespace helix {

Result<Tokenizer> tokenizer_for_model(const ModelFile& file, const std::string& tokenizer_path = {});

}  // namespace helix
