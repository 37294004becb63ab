#include "services/common/status.h"

#include "absl/types/optional.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "google/rpc/error_details.pb.h"

namespace thingtank {
namespace {

constexpr char kBadRequestUrl[] = "type.googleapis.com/google.rpc.BadRequest";
constexpr char kErrorInfoUrl[] = "type.googleapis.com/google.rpc.ErrorInfo";
constexpr char kRetryInfoUrl[] = "type.googleapis.com/google.rpc.RetryInfo";
constexpr char kQuotaFailureUrl[] = "type.googleapis.com/google.rpc.QuotaFailure";
constexpr char kDomain[] = "thingtank.dev";

void SetReason(absl::Status* status, absl::string_view reason,
               const std::map<std::string, std::string>& metadata = {}) {
  google::rpc::ErrorInfo info;
  info.set_reason(std::string(reason));
  for (const auto& [key, value] : metadata) (*info.mutable_metadata())[key] = value;
  info.set_domain(kDomain);
  status->SetPayload(kErrorInfoUrl, absl::Cord(info.SerializeAsString()));
}

}  // namespace

absl::Status InvalidField(absl::string_view field, absl::string_view description,
                          absl::string_view reason) {
  absl::Status status(absl::StatusCode::kInvalidArgument,
                      absl::StrCat(field, ": ", description));
  google::rpc::BadRequest bad;
  auto* violation = bad.add_field_violations();
  violation->set_field(std::string(field));
  violation->set_description(std::string(description));
  status.SetPayload(kBadRequestUrl, absl::Cord(bad.SerializeAsString()));
  SetReason(&status, reason);
  return status;
}

absl::Status ErrorWithReason(absl::StatusCode code, absl::string_view reason,
                             absl::string_view message,
                             const std::map<std::string, std::string>& metadata) {
  absl::Status status(code, message);
  SetReason(&status, reason, metadata);
  return status;
}

absl::Status QuotaExceeded(absl::string_view reason, absl::string_view subject,
                           absl::string_view message, absl::Duration retry_delay) {
  absl::Status status(absl::StatusCode::kResourceExhausted, message);
  SetReason(&status, reason);
  google::rpc::RetryInfo retry;
  const int64_t nanos = absl::ToInt64Nanoseconds(retry_delay);
  retry.mutable_retry_delay()->set_seconds(nanos / 1'000'000'000);
  retry.mutable_retry_delay()->set_nanos(static_cast<int32_t>(nanos % 1'000'000'000));
  status.SetPayload(kRetryInfoUrl, absl::Cord(retry.SerializeAsString()));
  google::rpc::QuotaFailure quota;
  auto* v = quota.add_violations();
  v->set_subject(std::string(subject));
  v->set_description(std::string(message));
  status.SetPayload(kQuotaFailureUrl, absl::Cord(quota.SerializeAsString()));
  return status;
}

namespace {
constexpr char kWouldBlockUrl[] = "thingtank.dev/would-block";
}  // namespace

absl::Status WouldBlock() {
  absl::Status status(absl::StatusCode::kUnavailable, "would block on storage");
  status.SetPayload(kWouldBlockUrl, absl::Cord());
  return status;
}

bool IsWouldBlock(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable && status.GetPayload(kWouldBlockUrl).has_value();
}

std::string ErrorReason(const absl::Status& status) {
  if (absl::optional<absl::Cord> payload = status.GetPayload(kErrorInfoUrl)) {
    google::rpc::ErrorInfo info;
    if (info.ParseFromString(std::string(*payload))) return info.reason();
  }
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument: return "InvalidParameterValue";
    case absl::StatusCode::kNotFound: return "NotFound";
    case absl::StatusCode::kAlreadyExists: return "AlreadyExists";
    case absl::StatusCode::kResourceExhausted: return "OverLimit";
    case absl::StatusCode::kFailedPrecondition: return "FailedPrecondition";
    default: return "InternalError";
  }
}

std::string ErrorField(const absl::Status& status) {
  if (absl::optional<absl::Cord> payload = status.GetPayload(kBadRequestUrl)) {
    google::rpc::BadRequest bad;
    if (bad.ParseFromString(std::string(*payload)) && bad.field_violations_size() > 0) {
      return bad.field_violations(0).field();
    }
  }
  return "";
}

}  // namespace thingtank
