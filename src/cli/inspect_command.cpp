// helix inspect FILE: what a model file holds (format, shape, KV bytes, tensors, metadata), as text or JSON.
#include <fmt/format.h>

#include <map>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "model/gguf_reader.h"
#include "model/model_file.h"
#include "server/model_json.h"

namespace helix::cli {
namespace {

struct InspectOptions {
  std::string path;
  bool tensors = false;
  bool json = false;
};

struct TensorRow {
  std::string name;
  std::string type;
  std::vector<int64_t> dims;
  int64_t n_elements = 0;
  int64_t n_bytes = 0;
  std::optional<uint64_t> offset;  // within the GGUF data section
};

// One view of what is printed, whichever way the file was opened.
struct Report {
  std::string path;
  int64_t file_bytes = 0;
  std::string format;
  uint32_t version = 0;
  std::optional<ModelShape> shape;
  std::string shape_error;  // why there is no shape (e.g. a GGUF of another architecture)
  std::vector<TensorRow> tensors;
  std::optional<ModelFile> model;
  std::optional<GgufFile> gguf_only;  // a GGUF whose shape Helix cannot read is still inspectable

  const GgufFile* gguf() const {
    if (model && model->gguf) return &*model->gguf;
    return gguf_only ? &*gguf_only : nullptr;
  }
};

constexpr size_t kShortString = 48;

std::string printable(std::string_view s, size_t max_chars) {
  std::string out;
  for (char c : s.substr(0, max_chars)) {
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (static_cast<unsigned char>(c) < 0x20) out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    else out += c;
  }
  if (s.size() > max_chars) out += fmt::format("... ({} bytes)", s.size());
  return out;
}

std::string scalar_text(const GgufValue& v) {
  switch (v.type) {
    case GgufType::FLOAT32: return fmt::format("{}", static_cast<float>(v.float_value));
    case GgufType::FLOAT64: return fmt::format("{}", v.float_value);
    case GgufType::BOOL: return v.bool_value ? "true" : "false";
    case GgufType::UINT64: return fmt::format("{}", v.uint_value);
    case GgufType::STRING: return printable(v.string_value, kShortString);
    case GgufType::ARRAY: return fmt::format("[{} x {}]", gguf_type_name(v.array_type), v.array_size);
    default: return fmt::format("{}", v.int_value);
  }
}

nlohmann::ordered_json value_json(const GgufValue& v) {
  switch (v.type) {
    case GgufType::FLOAT32: return static_cast<float>(v.float_value);
    case GgufType::FLOAT64: return v.float_value;
    case GgufType::BOOL: return v.bool_value;
    case GgufType::UINT64: return v.uint_value;
    case GgufType::STRING: return std::string(v.string_value);
    case GgufType::ARRAY:
      return {{"type", "array"}, {"element_type", gguf_type_name(v.array_type)}, {"count", v.array_size}};
    default: return v.int_value;
  }
}

int64_t parameter_count(const Report& r) {
  int64_t n = 0;
  for (const auto& t : r.tensors) n += t.n_elements;
  return n;
}

std::map<std::string, int64_t> bytes_by_type(const Report& r) {
  std::map<std::string, int64_t> out;
  for (const auto& t : r.tensors) out[t.type] += t.n_bytes;
  return out;
}

Report make_report(const std::string& path) {
  Report r;
  r.path = path;
  auto model = open_model_file(path);
  if (model) {
    r.model = std::move(*model);
    r.shape = r.model->shape;
    r.format = std::string(format_name(r.model->format));
    r.version = r.model->version();
    r.file_bytes = r.model->file_bytes;
  } else {
    auto gguf = GgufFile::open(path);
    if (!gguf) fail(model.error());
    r.gguf_only = std::move(*gguf);
    r.shape_error = model.error().message;
  }
  if (const GgufFile* g = r.gguf()) {
    // The GGUF table, so tensors of types Helix cannot compute with are listed too.
    r.format = "gguf";
    r.version = g->version();
    r.file_bytes = static_cast<int64_t>(g->file_size());
    for (const GgufTensorInfo& t : g->tensors())
      r.tensors.push_back(TensorRow{t.name, ggml_type_name(t.ggml_type), t.dims, t.n_elements, t.n_bytes, t.offset});
  } else {
    for (const TensorView& t : r.model->tensors)
      r.tensors.push_back(TensorRow{t.name, std::string(dtype_name(t.dtype)), t.dims, t.n_elements(), t.n_bytes, {}});
  }
  return r;
}

std::string format_title(const Report& r) {
  if (r.format == "gguf") return fmt::format("GGUF v{}", r.version);
  return fmt::format("llama2.c v{} (fp32 checkpoint)", r.version);
}

void print_text(const Report& r, bool list_tensors) {
  fmt::print("file: {} ({} bytes)\n", r.path, r.file_bytes);
  fmt::print("format: {}\n", format_title(r));
  if (r.shape) {
    const ModelShape& s = *r.shape;
    fmt::print("shape: {}\n", s.name);
    fmt::print("  layers {}, heads {}, kv heads {}{}, head_dim {}, hidden {}, ffn {}, vocab {}, context {}\n",
               s.n_layers, s.n_heads, s.n_kv_heads, s.uses_gqa() ? " (GQA)" : "", s.head_dim, s.hidden_dim,
               s.ffn_dim, s.vocab_size, s.context_length);
    // A vocab-only GGUF has no output.weight to tell, so "tied" there is only the reader's default.
    const bool unknown_tie = r.gguf() && r.tensors.empty();
    fmt::print("  rope base {}, rms eps {}, tied embeddings: {}\n", s.rope_freq_base, s.rms_norm_eps,
               unknown_tie ? "unknown (no tensors)" : (s.tied_embeddings ? "yes" : "no"));
    ModelShape f16 = s;
    f16.kv_dtype = DType::F16;
    fmt::print("KV cache: {} B per token at f16\n", f16.kv_bytes_per_token());
  } else {
    fmt::print("shape: unavailable: {}\n", r.shape_error);
  }
  if (!r.tensors.empty())
    fmt::print("parameters: {}\n", parameter_count(r));
  else if (r.shape)
    fmt::print("parameters: {} (from the shape, embeddings tied; the file has no tensors)\n",
               r.shape->parameter_count());
  std::string by_type;
  for (const auto& [type, bytes] : bytes_by_type(r))
    by_type += fmt::format("{}{}: {} B", by_type.empty() ? "" : ", ", type, bytes);
  fmt::print("tensors: {}{}\n", r.tensors.size(), by_type.empty() ? "" : " (" + by_type + ")");
  if (r.gguf()) {
    fmt::print("metadata: {} keys\n", r.gguf()->metadata().size());
    for (const auto& e : r.gguf()->metadata())
      fmt::print("  {:<40} {}\n", printable(e.key, 64), scalar_text(e.value));
  } else {
    fmt::print("metadata: none (a llama2.c checkpoint has only its header)\n");
  }
  if (list_tensors) {
    fmt::print("\n  {:<32} {:<8} {:<20} {:>14}\n", "name", "type", "dims", "bytes");
    for (const auto& t : r.tensors)
      fmt::print("  {:<32} {:<8} {:<20} {:>14}\n", t.name, t.type, fmt::format("[{}]", fmt::join(t.dims, ", ")),
                 t.n_bytes);
  }
}

nlohmann::ordered_json report_json(const Report& r, bool list_tensors) {
  nlohmann::ordered_json j;
  j["path"] = r.path;
  j["file_bytes"] = r.file_bytes;
  j["format"] = r.format;
  j["version"] = r.version;
  if (r.shape) {
    const ModelShape& s = *r.shape;
    j["shape"] = nlohmann::ordered_json(server::model_shape_json(s));
    ModelShape f16 = s;
    f16.kv_dtype = DType::F16;
    j["kv_bytes_per_token_f16"] = f16.kv_bytes_per_token();
  } else {
    j["shape"] = nullptr;
    j["shape_error"] = r.shape_error;
  }
  const bool from_tensors = !r.tensors.empty();
  j["parameter_count"] = from_tensors ? parameter_count(r) : (r.shape ? r.shape->parameter_count() : 0);
  j["parameter_count_source"] = from_tensors ? "tensors" : "shape";
  j["tensor_count"] = r.tensors.size();
  j["bytes_by_type"] = bytes_by_type(r);
  nlohmann::ordered_json meta = nlohmann::ordered_json::object();
  if (r.gguf())
    for (const auto& e : r.gguf()->metadata()) meta[e.key] = value_json(e.value);
  j["metadata"] = meta;
  if (list_tensors) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& t : r.tensors) {
      nlohmann::ordered_json row = {{"name", t.name}, {"type", t.type}, {"dims", t.dims}, {"bytes", t.n_bytes}};
      if (t.offset) row["offset"] = *t.offset;
      list.push_back(row);
    }
    j["tensors"] = list;
  }
  return j;
}

}  // namespace

void add_inspect_command(CLI::App& app) {
  auto opts = std::make_shared<InspectOptions>();
  CLI::App* cmd = app.add_subcommand("inspect", "Show a model file's format, shape, tensors and metadata");
  cmd->add_option("file", opts->path, "GGUF file or llama2.c checkpoint")->required();
  cmd->add_flag("--tensors", opts->tensors, "List every tensor (name, type, dims, bytes)");
  cmd->add_flag("--json", opts->json, "Print JSON instead of text");
  cmd->callback([opts] {
    const Report r = make_report(opts->path);
    if (opts->json)
      fmt::print("{}\n", report_json(r, opts->tensors)
                              .dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
    else
      print_text(r, opts->tensors);
  });
}

}  // namespace helix::cli
