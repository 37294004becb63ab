#include "services/common/async_client.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/proto_buffer_reader.h"
#include "grpcpp/support/proto_buffer_writer.h"
#include "services/common/grpc_status.h"

namespace thingtank {
namespace {

constexpr const char* kCodeNames[17] = {
    "OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound",
    "AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
    "Aborted", "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss",
    "Unauthenticated"};

// The RetryInfo delay of a status's details, if it has one.
std::optional<absl::Duration> RetryInfoDelay(const grpc::Status& status) {
  if (status.error_details().empty()) return std::nullopt;
  google::rpc::Status details;
  if (!details.ParseFromString(status.error_details())) return std::nullopt;
  for (const auto& any : details.details()) {
    google::rpc::RetryInfo retry;
    if (any.UnpackTo(&retry)) {
      return absl::Seconds(retry.retry_delay().seconds()) +
             absl::Nanoseconds(retry.retry_delay().nanos());
    }
  }
  return std::nullopt;
}

}  // namespace

// One call, across its attempts. Fields after `series` change under mu_ only.
struct AsyncClient::Pending {
  CallId id = 0;
  ScopeId scope = 0;
  std::string method;
  grpc::ByteBuffer request;  // serialized once, sent by every attempt
  google::protobuf::Message* response = nullptr;
  Done done;
  absl::Time deadline;  // wall time: gRPC deadlines are real time
  absl::Time start;     // wall time, for the latency metric
  Series* series = nullptr;
  int attempts = 0;
  std::unique_ptr<grpc::ClientContext> context;  // the attempt in flight
  grpc::ByteBuffer reply;
  std::optional<Clock::TimerId> backoff;  // the timer of the next attempt
  bool cancelled = false;                 // by Cancel: no further attempt
};

AsyncClient::AsyncClient(std::shared_ptr<grpc::Channel> channel, Clock* clock,
                         prometheus::Registry* registry, Options options)
    : stub_(std::move(channel)), clock_(clock), options_(options), random_(std::random_device()()) {
  if (registry == nullptr) return;
  // Families merge by name: every client of the process shares them.
  started_ = &prometheus::BuildCounter()
                  .Name("grpc_client_started_total")
                  .Help("RPCs started by ThingTank's service-to-service clients.")
                  .Register(*registry);
  handled_ = &prometheus::BuildCounter()
                  .Name("grpc_client_handled_total")
                  .Help("RPCs completed by ThingTank's service-to-service clients, by status code "
                        "(after retries).")
                  .Register(*registry);
  seconds_ = &prometheus::BuildHistogram()
                  .Name("grpc_client_handling_seconds")
                  .Help("Time from starting an RPC to its final status, retries included.")
                  .Register(*registry);
  retries_ = &prometheus::BuildCounter()
                  .Name("thingtank_client_retries_total")
                  .Help("Attempts of service-to-service RPCs repeated after UNAVAILABLE or "
                        "RESOURCE_EXHAUSTED.")
                  .Register(*registry);
}

AsyncClient::~AsyncClient() { Shutdown(); }

AsyncClient::Series* AsyncClient::SeriesFor(const std::string& method) {
  if (started_ == nullptr) return nullptr;
  auto& slot = series_[method];
  if (slot == nullptr) {
    const size_t slash = method.find('/', 1);
    slot = std::make_unique<Series>();
    slot->labels = {{"grpc_service", method.substr(1, slash == std::string::npos ? 0 : slash - 1)},
                    {"grpc_method", slash == std::string::npos ? method : method.substr(slash + 1)},
                    {"grpc_type", "unary"}};
    slot->started = &started_->Add(slot->labels);
    slot->retries = &retries_->Add(slot->labels);
    slot->seconds = &seconds_->Add(
        slot->labels, prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                              0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                                              2.5, 5, 10, 30});
  }
  return slot.get();
}

AsyncClient::CallId AsyncClient::Call(const std::string& method,
                                      const google::protobuf::Message& request,
                                      google::protobuf::Message* response, Done done,
                                      absl::Duration deadline, ScopeId scope) {
  auto call = std::make_shared<Pending>();
  call->method = method;
  call->response = response;
  call->done = std::move(done);
  call->start = absl::Now();
  call->deadline = call->start + (deadline > absl::ZeroDuration() ? deadline : options_.deadline);
  std::string bytes;
  if (!request.SerializeToString(&bytes)) {
    call->done(absl::InvalidArgumentError(absl::StrCat(method, ": cannot serialize the request")));
    return 0;
  }
  grpc::Slice slice(std::move(bytes));
  call->request = grpc::ByteBuffer(&slice, 1);
  absl::Status refused;
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) {
      refused = absl::UnavailableError(absl::StrCat(method, ": the client is shut down"));
    } else if (cancelled_scopes_.count(scope) > 0) {
      refused = absl::CancelledError(absl::StrCat(method, ": cancelled"));
    } else {
      call->id = next_id_++;
      call->scope = scope;
      call->series = SeriesFor(method);
      ++busy_;
      calls_[call->id] = call;
    }
  }
  if (!refused.ok()) {
    call->done(std::move(refused));  // outside the lock: `done` may call again
    return 0;
  }
  const CallId id = call->id;
  if (call->series != nullptr) call->series->started->Increment();
  Attempt(std::move(call));
  return id;
}

AsyncClient::ScopeId AsyncClient::NewScope() {
  absl::MutexLock lock(&mu_);
  return next_scope_++;
}

void AsyncClient::CancelScope(ScopeId scope) {
  std::vector<CallId> ids;
  {
    absl::MutexLock lock(&mu_);
    cancelled_scopes_.insert(scope);
    for (const auto& [id, call] : calls_) {
      if (call->scope == scope) ids.push_back(id);
    }
  }
  for (CallId id : ids) Cancel(id);
}

void AsyncClient::Cancel(CallId id) {
  std::shared_ptr<Pending> call;
  bool in_backoff = false;
  grpc::ClientContext* in_flight = nullptr;  // stays: no attempt starts once cancelled
  {
    absl::MutexLock lock(&mu_);
    auto it = calls_.find(id);
    if (it == calls_.end()) return;
    call = it->second;
    call->cancelled = true;
    in_backoff = call->backoff.has_value() && clock_->Cancel(*call->backoff);
    if (in_backoff) call->backoff.reset();
    if (!in_backoff) in_flight = call->context.get();
  }
  // Outside the lock: a cancelled call's callback takes it.
  if (in_backoff) {
    Complete(call, absl::CancelledError(absl::StrCat(call->method, ": cancelled")));
  } else if (in_flight != nullptr) {
    in_flight->TryCancel();
  }
}

void AsyncClient::Attempt(std::shared_ptr<Pending> call) {
  grpc::ClientContext* context = nullptr;
  bool cancelled = false;
  {
    absl::MutexLock lock(&mu_);
    call->backoff.reset();
    cancelled = call->cancelled;
    if (!shut_down_ && !cancelled) {
      ++call->attempts;
      call->context = std::make_unique<grpc::ClientContext>();
      call->context->set_deadline(absl::ToChronoTime(call->deadline));
      context = call->context.get();
    }
  }
  if (context == nullptr) {
    Complete(call, absl::CancelledError(absl::StrCat(
                       call->method, cancelled ? ": cancelled" : ": the client shut down")));
    return;
  }
  stub_.UnaryCall(context, call->method, grpc::StubOptions(), &call->request, &call->reply,
                  [this, call](grpc::Status status) { Finished(call, status); });
}

std::optional<absl::Duration> AsyncClient::RetryDelay(const Pending& call,
                                                      const grpc::Status& status) {
  const std::optional<absl::Duration> server_delay = RetryInfoDelay(status);
  const bool retryable = status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                         (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED &&
                          server_delay.has_value());
  if (!retryable || call.attempts >= options_.max_attempts) return std::nullopt;
  absl::Duration delay = std::min(
      options_.max_backoff,
      options_.initial_backoff * std::pow(options_.backoff_multiplier, call.attempts - 1));
  {
    absl::MutexLock lock(&mu_);
    std::uniform_real_distribution<double> factor(1.0 - options_.jitter, 1.0 + options_.jitter);
    delay *= factor(random_);
  }
  if (server_delay.has_value()) delay = std::max(delay, *server_delay);
  // No attempt that the deadline would end before it could begin.
  if (absl::Now() + delay >= call.deadline) return std::nullopt;
  return delay;
}

void AsyncClient::Finished(std::shared_ptr<Pending> call, const grpc::Status& status) {
  if (status.ok()) {
    grpc::ProtoBufferReader reader(&call->reply);
    if (!call->response->ParseFromZeroCopyStream(&reader)) {
      Complete(call, absl::InternalError(
                         absl::StrCat(call->method, ": the response does not parse")));
      return;
    }
    Complete(call, absl::OkStatus());
    return;
  }
  const std::optional<absl::Duration> delay = RetryDelay(*call, status);
  if (delay.has_value()) {
    absl::MutexLock lock(&mu_);
    if (!shut_down_ && !call->cancelled) {
      if (call->series != nullptr) call->series->retries->Increment();
      // Under mu_: Shutdown sees either no timer yet or this one.
      call->backoff = clock_->RunAfter(*delay, [this, call] { Attempt(call); });
      return;
    }
  }
  Complete(call, FromGrpcStatus(status));
}

void AsyncClient::CountHandled(const Pending& call, grpc::StatusCode code) {
  if (call.series == nullptr) return;
  auto labels = call.series->labels;
  labels["grpc_code"] = kCodeNames[code >= 0 && code < 17 ? code : 2];
  handled_->Add(labels).Increment();
  call.series->seconds->Observe(absl::ToDoubleSeconds(absl::Now() - call.start));
}

void AsyncClient::Complete(const std::shared_ptr<Pending>& call, absl::Status status) {
  // absl and gRPC share the numbering of codes.
  CountHandled(*call, static_cast<grpc::StatusCode>(status.code()));
  call->done(std::move(status));
  absl::MutexLock lock(&mu_);
  calls_.erase(call->id);
  --busy_;
}

void AsyncClient::Shutdown() {
  std::vector<std::shared_ptr<Pending>> waiting, in_flight;
  {
    absl::MutexLock lock(&mu_);
    shut_down_ = true;
    for (auto& [id, call] : calls_) {
      if (call->backoff.has_value()) {
        // A backoff that has not fired never will: complete it here.
        if (clock_->Cancel(*call->backoff)) waiting.push_back(call);
      } else if (call->context != nullptr) {
        in_flight.push_back(call);  // no new attempt starts now: its context stays
      }
    }
  }
  // Outside the lock: a cancelled call's callback takes it.
  for (auto& call : in_flight) call->context->TryCancel();
  for (auto& call : waiting) {
    Complete(call, absl::CancelledError(absl::StrCat(call->method, ": the client shut down")));
  }
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(+[](int* busy) { return *busy == 0; }, &busy_));
}

}  // namespace thingtank
