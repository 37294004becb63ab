#pragma once

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace thingtank {

// absl::Status to grpc::Status: the one translation at the gRPC edge. Payloads
// set by services/common/status.h (BadRequest, ErrorInfo, RetryInfo,
// QuotaFailure) become google.rpc.Status details (grpc-status-details-bin).
grpc::Status ToGrpcStatus(const absl::Status& status);

// grpc::Status back to absl::Status, keeping details as payloads (for code that
// calls another service and passes its error on).
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace thingtank
