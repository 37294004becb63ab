#pragma once

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/support/status_code_enum.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace thingtank {

// The standard gRPC server metrics (names of go-grpc-prometheus):
// grpc_server_started_total, grpc_server_handled_total{grpc_code} and
// grpc_server_handling_seconds, labelled grpc_service, grpc_method, grpc_type.
// Methods are a bounded set (our protos), so the label sets stay bounded.
// Thread-safe.
class RpcMetrics {
 public:
  explicit RpcMetrics(prometheus::Registry* registry);

  // The series of one method, resolved once and cached.
  class Method {
   public:
    void Started() { started_->Increment(); }
    void Handled(grpc::StatusCode code, absl::Duration elapsed);
    // A call tried on the reactor thread went to the executor instead.
    void FellBack();

   private:
    friend class RpcMetrics;
    prometheus::Counter* HandledCounter(int code_index);

    RpcMetrics* owner_ = nullptr;
    std::map<std::string, std::string> labels_;
    prometheus::Counter* started_ = nullptr;
    // Created by Initialize(), else on first use of each code.
    std::array<std::atomic<prometheus::Counter*>, 17> handled_{};
    prometheus::Histogram* seconds_ = nullptr;
    std::atomic<prometheus::Counter*> fallbacks_{nullptr};  // created on first use
  };

  // `full_method` is "/package.Service/Method"; `type` the grpc_type label
  // ("unary", "server_stream"), fixed by the method's first use.
  Method* ForMethod(const std::string& full_method, const char* type = "unary");

  // Creates the series of every method of `service` at zero, every status
  // code included (as go-grpc-prometheus's InitializeMetrics), so rates and
  // dashboards work before the first call.
  void Initialize(const google::protobuf::ServiceDescriptor* service);

 private:
  prometheus::Family<prometheus::Counter>& started_;
  prometheus::Family<prometheus::Counter>& handled_;
  prometheus::Family<prometheus::Histogram>& seconds_;
  prometheus::Family<prometheus::Counter>& fallbacks_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<Method>> methods_ ABSL_GUARDED_BY(mu_);
};

}  // namespace thingtank
