// The bridge from WAMP to the gRPC services: every unary method of the
// services behind the gateway is a WAMP procedure
// thingtank.<service>.<method_in_snake_case> (thingtank.queues.send_message),
// taking the request as keyword arguments in the protobuf JSON mapping and
// returning the response as keyword arguments. gRPC errors become WAMP errors
// thingtank.error.<code> (thingtank.error.invalid_argument) with the message
// as the argument and {code, reason, field} as keyword arguments. The tables
// procedures (package thingtank.tables.v1) return DynamoDB's JSON instead
// ({"Item": {"id": {"S": "a"}}}, enums as "ACTIVE") and take it as well as the
// protobuf JSON mapping. Driven by the descriptors: a new service or method
// needs no code here.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "services/wamp/router/router.h"

namespace thingtank::wamp {

class Bridge {
 public:
  // `services`: short service name ("queues") -> its proto services.
  explicit Bridge(
      const std::map<std::string, std::vector<const google::protobuf::ServiceDescriptor*>>&
          services);
  // Provides the procedures in every realm of `router`.
  void Install(Router* router);
  // The channel calls go through (set once the gRPC server runs). Until then
  // calls fail with thingtank.error.unavailable.
  void SetChannel(std::shared_ptr<grpc::Channel> channel);

  // "SendMessage" -> "send_message".
  static std::string SnakeCase(const std::string& name);
  // Every procedure name, sorted (for docs and tests).
  std::vector<std::string> procedures() const;

 private:
  void Invoke(ProcedureCall call, std::function<void(ProcedureOutcome)> done);

  std::map<std::string, const google::protobuf::MethodDescriptor*> methods_;
  absl::Mutex mu_;
  std::shared_ptr<grpc::GenericStub> stub_ ABSL_GUARDED_BY(mu_);
};

}  // namespace thingtank::wamp
