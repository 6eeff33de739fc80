// Error bodies in OpenAI's shape, so any OpenAI client reads them:
//   {"error": {"message": "...", "type": "invalid_request_error", "param": "sequence_length", "code": null}}
// Status convention: 400 = the request is malformed (unparsable value, unknown or repeated parameter),
// 422 = well-formed but invalid (out of range, unknown model), 404/405 = no such route / method.
// The OpenAI routes (/v1/*) answer 400 for every invalid body, as OpenAI does (see openai_request.h).
#pragma once

#include <string>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "common/result.h"

namespace helix::server {

inline constexpr int kStatusBadRequest = 400;
inline constexpr int kStatusNotFound = 404;
inline constexpr int kStatusMethodNotAllowed = 405;
inline constexpr int kStatusPayloadTooLarge = 413;
inline constexpr int kStatusUnprocessable = 422;
inline constexpr int kStatusInternalError = 500;
inline constexpr int kStatusUnavailable = 503;

// "invalid_request_error" for 4xx, "server_error" for 5xx.
std::string error_type_for_status(int status);

// The body; an empty param or code becomes null.
nlohmann::json api_error_json(const std::string& message, const std::string& param, int status,
                              const std::string& code = {});

// Writes `body` as the response with `status`. Invalid UTF-8 (echoed from a request) is replaced, never thrown.
void send_json(httplib::Response& res, const nlohmann::json& body, int status = 200);

// Writes an error body with `status`; the Error's param becomes the body's param.
void send_error(httplib::Response& res, int status, const Error& error);
void send_error(httplib::Response& res, int status, const std::string& message, const std::string& param = {});
// With OpenAI's machine-readable `code` ("context_length_exceeded").
void send_error_code(httplib::Response& res, int status, const Error& error, const std::string& code);

}  // namespace helix::server
