// OpenAI-compatible routes: POST /v1/completions, POST /v1/chat/completions, GET /v1/models[/{id}].
//
// Status codes: 400 for every invalid body (OpenAI's convention: unparsable JSON, wrong types, values out of
// range, missing prompt or messages, unsupported fields), with the field in `param`; a prompt that leaves no
// room in the context, or asks for more tokens than the context holds, is 400 with code
// "context_length_exceeded" (OpenAI's code) and the limit in the message. 413 for a body over the server's
// limit, 404 with code "model_not_found" for an unknown model id on GET /v1/models/{id}, 500 when the engine
// fails a request, 503 when the engine no longer accepts requests or cancelled this one (shutdown). A request
// the engine can never hold (more blocks than the pool) is its 400, with the engine's message. The `model`
// field of a request is not checked: one model is served and any name reaches it.
//
// A client that disconnects cancels its request: streamed responses notice on a failed write or on the
// connection probe between tokens, non-streamed ones on the probe while they wait.
#include <ctime>
#include <memory>
#include <random>

#include <fmt/format.h>

#include "engine/serving_engine.h"
#include "server/api_error.h"
#include "server/connection_probe.h"
#include "server/generation_run.h"
#include "server/openai_request.h"
#include "server/openai_response.h"
#include "server/routes.h"
#include "server/sse.h"

namespace helix::server {

namespace {

constexpr int kStatusClientClosed = 499;  // nginx's code for "client closed the request", for the request log
constexpr int64_t kCompletionDefaultMaxTokens = 16;  // OpenAI's default for /v1/completions

struct Prepared {
  std::vector<int32_t> prompt;
  RequestParams params;
};

uint64_t random_seed() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng();
}

class OpenAiApi {
 public:
  OpenAiApi(ServingEngine& engine, ServingRoutesOptions options)
      : engine_(engine), options_(std::move(options)), created_(std::time(nullptr)) {
    model_name_ = options_.served_model_name.empty() ? engine_.model_name() : options_.served_model_name;
  }

  void generate(ApiKind kind, const httplib::Request& req, httplib::Response& res) {
    auto parsed = parse_openai_request(kind, req.body, engine_.tokenizer().vocab_size());
    if (!parsed) return send_error(res, kStatusBadRequest, parsed.error());
    std::string code;
    auto prepared = prepare(*parsed, code);
    if (!prepared) return send_error_code(res, kStatusBadRequest, prepared.error(), code);
    auto handle = engine_.submit(prepared->params);
    // The engine names the limit a request can never fit (param set); without a param it refuses for its own
    // reasons (stopped): not the client's fault.
    if (!handle)
      return send_error(res, handle.error().param.empty() ? kStatusUnavailable : kStatusBadRequest, handle.error());

    ResponseMeta meta{kind, new_response_id(kind), static_cast<int64_t>(std::time(nullptr)), model_name_};
    auto run = std::make_unique<GenerationRun>(std::move(*handle), engine_.tokenizer(), prepared->prompt,
                                               parsed->n, parsed->stop);
    if (parsed->stream) return stream(req, res, std::move(meta), std::move(run), *parsed);
    respond(req, res, meta, *run);
  }

  void list_models(const httplib::Request&, httplib::Response& res) {
    send_json(res, {{"object", "list"}, {"data", nlohmann::json::array({model_json()})}});
  }

  void get_model(const httplib::Request& req, httplib::Response& res) {
    const std::string id = req.matches.size() > 1 ? req.matches[1].str() : "";
    if (id != model_name_)
      return send_error_code(res, kStatusNotFound,
                             Error{fmt::format("model {} does not exist (this server serves {})", id, model_name_),
                                   "model"},
                             "model_not_found");
    send_json(res, model_json());
  }

 private:
  nlohmann::json model_json() const {
    return {{"id", model_name_},
            {"object", "model"},
            {"created", created_},
            {"owned_by", "helix"},
            {"max_model_len", engine_.max_seq_len()}};
  }

  Result<std::vector<int32_t>> tokenize(const OpenAiRequest& r) const {
    const Tokenizer& tok = engine_.tokenizer();
    std::vector<int32_t> ids;
    if (r.kind == ApiKind::Completion) {
      if (r.prompt_is_ids) return r.prompt_ids;
      ids = tok.encode(r.prompt_text, tok.add_bos_default());
    } else {
      if (!options_.chat) return make_error("messages: this model has no chat template; use /v1/completions",
                                            "messages");
      auto text = options_.chat(r.messages, /*add_generation_prompt=*/true);
      if (!text) return Unexpected{Error{text.error().message, "messages"}};
      // Templates that write BOS themselves (Llama 2/3, zephyr) must not get a second one.
      const bool has_bos = tok.bos_id() >= 0 && text->starts_with(tok.token_text(tok.bos_id()));
      ids = tok.encode(*text, tok.add_bos_default() && !has_bos, /*parse_special=*/true);
    }
    if (ids.empty() && tok.bos_id() >= 0) ids.push_back(tok.bos_id());  // an empty prompt starts from BOS
    if (ids.empty())
      return make_error(fmt::format("{}: empty after tokenization", r.kind == ApiKind::Chat ? "messages" : "prompt"),
                        r.kind == ApiKind::Chat ? "messages" : "prompt");
    return ids;
  }

  // Tokenizes and checks the request against the context (the engine checks the pool). A context overflow
  // sets `code` to OpenAI's "context_length_exceeded".
  Result<Prepared> prepare(const OpenAiRequest& r, std::string& code) const {
    const std::string prompt_param = r.kind == ApiKind::Chat ? "messages" : "prompt";
    auto ids = tokenize(r);
    if (!ids) return Unexpected{ids.error()};
    const int64_t context = engine_.max_seq_len();
    const int64_t prompt_tokens = static_cast<int64_t>(ids->size());
    if (prompt_tokens >= context) {
      code = "context_length_exceeded";
      return make_error(fmt::format("This model's maximum context length is {} tokens; the {} has {} tokens, "
                                    "leaving no room to generate. Shorten the {}.",
                                    context, prompt_param, prompt_tokens, prompt_param),
                        prompt_param);
    }
    if (r.max_tokens && prompt_tokens + *r.max_tokens > context) {
      code = "context_length_exceeded";
      return make_error(fmt::format("This model's maximum context length is {} tokens. However, you requested {} "
                                    "tokens ({} in the {}, {} for the completion). Reduce the length of the {} or "
                                    "max_tokens.",
                                    context, prompt_tokens + *r.max_tokens, prompt_tokens, prompt_param,
                                    *r.max_tokens, prompt_param),
                        "max_tokens");
    }
    Prepared p;
    p.params.prompt = *ids;
    p.prompt = std::move(*ids);
    const int64_t room = context - prompt_tokens;
    p.params.max_tokens =
        r.max_tokens ? *r.max_tokens
                     : (r.kind == ApiKind::Completion ? std::min(kCompletionDefaultMaxTokens, room) : room);
    p.params.sampling = r.sampling;
    if (!r.seed_given) p.params.sampling.seed = random_seed();
    p.params.n = r.n;
    p.params.ignore_eos = r.ignore_eos;
    return p;
  }

  void respond(const httplib::Request& req, httplib::Response& res, const ResponseMeta& meta, GenerationRun& run) {
    InFlight::Scope in_flight(*options_.generations);
    const auto probe = ConnectionProbe::for_request(req);
    while (!run.done()) {
      run.poll(options_.poll_interval);
      if (!run.done() && probe && probe->peer_closed()) {
        run.cancel();
        res.status = kStatusClientClosed;
        return;
      }
    }
    if (run.error()) return send_error(res, kStatusInternalError, "generation failed: " + *run.error());
    const auto results = run.results();
    for (const ChoiceResult& c : results)
      if (c.finish_reason == "abort")
        return send_error(res, kStatusUnavailable, "the request was cancelled: the server is shutting down");
    send_json(res, full_response(meta, results, run.usage()));
  }

  // The state a streamed response carries from one content-provider call to the next.
  struct Stream {
    Stream(InFlight& in_flight, ResponseMeta m, std::unique_ptr<GenerationRun> r, bool usage, int32_t choices,
           std::optional<ConnectionProbe> p, std::chrono::milliseconds interval)
        : scope(in_flight), meta(std::move(m)), run(std::move(r)), include_usage(usage), n(choices), probe(p),
          poll_interval(interval) {}
    InFlight::Scope scope;
    ResponseMeta meta;
    std::unique_ptr<GenerationRun> run;
    bool include_usage;
    int32_t n;
    std::optional<ConnectionProbe> probe;
    std::chrono::milliseconds poll_interval;
    bool started = false;

    // One call of cpp-httplib's content provider: false ends the response (client gone).
    bool pump(httplib::DataSink& sink) {
      std::string out;
      if (!started) {
        started = true;
        // Chat streams open each choice with the assistant role, as OpenAI does.
        if (meta.kind == ApiKind::Chat)
          for (int32_t i = 0; i < n; ++i) out += sse_data(stream_chunk(meta, i, "", std::nullopt, true, include_usage));
      }
      for (const ChoiceDelta& d : run->poll(poll_interval)) {
        if (!d.text.empty()) out += sse_data(stream_chunk(meta, d.index, d.text, std::nullopt, false, include_usage));
        if (d.finish_reason && *d.finish_reason != "error")
          out += sse_data(stream_chunk(meta, d.index, "", d.finish_reason, false, include_usage));
      }
      if (run->done()) {
        if (run->error()) {
          out += sse_data(api_error_json("generation failed: " + *run->error(), "", kStatusInternalError));
        } else if (include_usage) {
          out += sse_data(usage_chunk(meta, run->usage()));
        }
        out += sse_done();
      }
      if (probe && probe->peer_closed()) return gone();
      if (!out.empty() && !sink.write(out.data(), out.size())) return gone();
      if (run->done()) sink.done();
      return true;
    }

    bool gone() {
      run->cancel();
      return false;
    }
  };

  void stream(const httplib::Request& req, httplib::Response& res, ResponseMeta meta,
              std::unique_ptr<GenerationRun> run, const OpenAiRequest& r) {
    auto state = std::make_shared<Stream>(*options_.generations, std::move(meta), std::move(run), r.include_usage,
                                          r.n, ConnectionProbe::for_request(req), options_.poll_interval);
    set_sse_headers(res);
    res.set_chunked_content_provider(
        kSseContentType, [state](size_t, httplib::DataSink& sink) { return state->pump(sink); },
        [state](bool success) {
          if (!success) state->run->cancel();
        });
  }

  ServingEngine& engine_;
  ServingRoutesOptions options_;
  std::string model_name_;
  int64_t created_;
};

}  // namespace

void add_openai_routes(HttpServer& server, ServingEngine& engine, const ServingRoutesOptions& options) {
  auto api = std::make_shared<OpenAiApi>(engine, options);
  server.add_route(HttpMethod::Post, "/v1/completions", [api](const httplib::Request& req, httplib::Response& res) {
    api->generate(ApiKind::Completion, req, res);
  });
  server.add_route(HttpMethod::Post, "/v1/chat/completions",
                   [api](const httplib::Request& req, httplib::Response& res) {
                     api->generate(ApiKind::Chat, req, res);
                   });
  server.add_route(HttpMethod::Get, "/v1/models",
                   [api](const httplib::Request& req, httplib::Response& res) { api->list_models(req, res); });
  server.add_route(HttpMethod::Get, "/v1/models/(.+)",
                   [api](const httplib::Request& req, httplib::Response& res) { api->get_model(req, res); });
}

}  // namespace helix::server
