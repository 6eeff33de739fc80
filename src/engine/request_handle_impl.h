// RequestHandleImpl: the client's handle on a submitted request. It shares the request's state with the
// engine; dropping the last handle cancels the request (a client that goes away stops its generation).
#pragma once

#include <memory>

#include "engine/request.h"
#include "engine/serving_engine.h"

namespace helix {

class RequestHandleImpl final : public RequestHandle {
 public:
  explicit RequestHandleImpl(std::shared_ptr<RequestState> state) : state_(std::move(state)) {}
  ~RequestHandleImpl() override { state_->cancel(); }
  RequestHandleImpl(const RequestHandleImpl&) = delete;
  RequestHandleImpl& operator=(const RequestHandleImpl&) = delete;

  uint64_t id() const override { return state_->id(); }
  bool next(TokenEvent& event, std::chrono::milliseconds timeout) override { return state_->next(event, timeout); }
  bool finished() const override { return state_->finished(); }
  void cancel() override { state_->cancel(); }
  RequestUsage usage() const override { return state_->usage(); }

 private:
  std::shared_ptr<RequestState> state_;
};

}  // namespace helix
