#include "server/api_error.h"

namespace helix::server {

std::string error_type_for_status(int status) {
  return status >= 500 ? "server_error" : "invalid_request_error";
}

nlohmann::json api_error_json(const std::string& message, const std::string& param, int status,
                              const std::string& code) {
  nlohmann::json error;
  error["message"] = message;
  error["type"] = error_type_for_status(status);
  error["param"] = param.empty() ? nlohmann::json(nullptr) : nlohmann::json(param);
  error["code"] = code.empty() ? nlohmann::json(nullptr) : nlohmann::json(code);
  return {{"error", std::move(error)}};
}

void send_json(httplib::Response& res, const nlohmann::json& body, int status) {
  res.status = status;
  // Messages may echo request bytes that are not UTF-8; dump() would throw on them.
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

void send_error(httplib::Response& res, int status, const Error& error) {
  send_json(res, api_error_json(error.message, error.param, status), status);
}

void send_error(httplib::Response& res, int status, const std::string& message, const std::string& param) {
  send_json(res, api_error_json(message, param, status), status);
}

void send_error_code(httplib::Response& res, int status, const Error& error, const std::string& code) {
  send_json(res, api_error_json(error.message, error.param, status, code), status);
}

}  // namespace helix::server
