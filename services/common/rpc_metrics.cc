#include "services/common/rpc_metrics.h"

#include "absl/strings/str_cat.h"
#include "prometheus/histogram.h"

namespace thingtank {
namespace {

constexpr const char* kCodeNames[17] = {
    "OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound",
    "AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
    "Aborted", "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss",
    "Unauthenticated"};

}  // namespace

RpcMetrics::RpcMetrics(prometheus::Registry* registry)
    : started_(prometheus::BuildCounter()
                   .Name("grpc_server_started_total")
                   .Help("RPCs started on the server.")
                   .Register(*registry)),
      handled_(prometheus::BuildCounter()
                   .Name("grpc_server_handled_total")
                   .Help("RPCs completed on the server, by status code.")
                   .Register(*registry)),
      seconds_(prometheus::BuildHistogram()
                   .Name("grpc_server_handling_seconds")
                   .Help("Time from receiving an RPC to sending its status.")
                   .Register(*registry)),
      fallbacks_(prometheus::BuildCounter()
                     .Name("thingtank_rpc_fast_path_fallbacks_total")
                     .Help("Calls tried on the gRPC reactor thread that had to wait (a lock held, "
                           "data not in memory, a write that would stall) and went to the "
                           "service's executor.")
                     .Register(*registry)) {}

void RpcMetrics::Method::FellBack() {
  prometheus::Counter* counter = fallbacks_.load(std::memory_order_acquire);
  if (counter == nullptr) {
    absl::MutexLock lock(&owner_->mu_);
    counter = &owner_->fallbacks_.Add({{"grpc_service", labels_.at("grpc_service")},
                                       {"grpc_method", labels_.at("grpc_method")}});
    fallbacks_.store(counter, std::memory_order_release);
  }
  counter->Increment();
}

RpcMetrics::Method* RpcMetrics::ForMethod(const std::string& full_method, const char* type) {
  absl::MutexLock lock(&mu_);
  auto& slot = methods_[full_method];
  if (slot) return slot.get();
  // "/pkg.Service/Method" -> service, method.
  const size_t slash = full_method.find('/', 1);
  const std::string service = full_method.substr(1, slash - 1);
  const std::string method = slash == std::string::npos ? "" : full_method.substr(slash + 1);
  const std::map<std::string, std::string> labels = {
      {"grpc_service", service}, {"grpc_method", method}, {"grpc_type", type}};
  slot = std::make_unique<Method>();
  slot->owner_ = this;
  slot->labels_ = labels;
  slot->started_ = &started_.Add(labels);
  slot->seconds_ = &seconds_.Add(
      labels, prometheus::Histogram::BucketBoundaries{0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                                      0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                      1, 2.5, 5, 10, 25});
  return slot.get();
}

void RpcMetrics::Initialize(const google::protobuf::ServiceDescriptor* service) {
  for (int i = 0; i < service->method_count(); ++i) {
    const google::protobuf::MethodDescriptor* m = service->method(i);
    const char* type = m->client_streaming()
                           ? (m->server_streaming() ? "bidi_stream" : "client_stream")
                           : (m->server_streaming() ? "server_stream" : "unary");
    Method* method = ForMethod(absl::StrCat("/", service->full_name(), "/", m->name()), type);
    for (int code = 0; code < 17; ++code) method->HandledCounter(code);
  }
}

void RpcMetrics::Method::Handled(grpc::StatusCode code, absl::Duration elapsed) {
  const int index = (code >= 0 && code < 17) ? code : 2;
  HandledCounter(index)->Increment();
  seconds_->Observe(absl::ToDoubleSeconds(elapsed));
}

prometheus::Counter* RpcMetrics::Method::HandledCounter(int index) {
  prometheus::Counter* counter = handled_[index].load(std::memory_order_acquire);
  if (counter == nullptr) {
    absl::MutexLock lock(&owner_->mu_);
    auto with_code = labels_;
    with_code["grpc_code"] = kCodeNames[index];
    counter = &owner_->handled_.Add(with_code);  // Add returns the existing series if any.
    handled_[index].store(counter, std::memory_order_release);
  }
  return counter;
}

}  // namespace thingtank
