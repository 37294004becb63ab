// Error reporting of the client commands (declared in cli_common.h): decodes
// grpc::Status and its google.rpc.Status details into one readable line, or a
// JSON object with --json.

#include <cctype>
#include <ostream>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "tools/thingtank/cli/cli_common.h"

namespace thingtank::cli {
namespace {

// The structured parts of an error, whichever details the server attached.
struct ErrorDetails {
  std::string reason;
  std::vector<std::pair<std::string, std::string>> violations;  // field, description
  std::optional<int64_t> retry_delay_nanos;
};

ErrorDetails Decode(const grpc::Status& status) {
  ErrorDetails details;
  google::rpc::Status rpc_status;
  if (status.error_details().empty() || !rpc_status.ParseFromString(status.error_details())) {
    return details;
  }
  for (const google::protobuf::Any& any : rpc_status.details()) {
    google::rpc::ErrorInfo info;
    google::rpc::BadRequest bad;
    google::rpc::RetryInfo retry;
    if (any.UnpackTo(&info)) {
      details.reason = info.reason();
    } else if (any.UnpackTo(&bad)) {
      for (const auto& v : bad.field_violations()) {
        details.violations.emplace_back(v.field(), v.description());
      }
    } else if (any.UnpackTo(&retry)) {
      details.retry_delay_nanos =
          retry.retry_delay().seconds() * 1'000'000'000 + retry.retry_delay().nanos();
    }
  }
  return details;
}

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::UNKNOWN: return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return "UNKNOWN";
  }
}

// A lower-case prefix for codes whose message does not say what kind of
// failure it is ("invalid argument: ..."); empty for self-explaining ones.
std::string CodePrefix(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "";
    case grpc::StatusCode::UNAUTHENTICATED: return "not authenticated: ";
    default: {
      std::string name = CodeName(code);
      for (char& c : name) c = c == '_' ? ' ' : static_cast<char>(std::tolower(c));
      return name + ": ";
    }
  }
}

// The connection failed before any server answered (no details attached).
bool IsUnreachable(const grpc::Status& status, const ErrorDetails& details) {
  return status.error_code() == grpc::StatusCode::UNAVAILABLE && details.reason.empty();
}

void EmitJson(const google::protobuf::Struct& error, const Io& io) {
  google::protobuf::Struct root;
  *(*root.mutable_fields())["error"].mutable_struct_value() = error;
  io.err << JsonOf(root) << "\n";
}

void SetString(google::protobuf::Struct* s, const std::string& key, const std::string& value) {
  (*s->mutable_fields())[key].set_string_value(value);
}

}  // namespace

std::string RpcErrorReason(const grpc::Status& status) { return Decode(status).reason; }

std::string DescribeRpcError(const grpc::Status& status, const ConnectionOptions& options) {
  const ErrorDetails details = Decode(status);
  if (IsUnreachable(status, details)) {
    return "cannot reach ThingTank at " + options.endpoint + " (is `thingtank serve` running?)";
  }
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return "no answer from ThingTank at " + options.endpoint + " within " +
           FormatDurationNanos(options.timeout_nanos) + " (raise --timeout?)";
  }
  std::string line = CodePrefix(status.error_code()) + status.error_message();
  for (const auto& [field, description] : details.violations) {
    // The server's message usually is "<field>: <description>" already.
    const std::string violation = field + ": " + description;
    if (status.error_message().find(violation) == std::string::npos) line += "; " + violation;
  }
  if (!details.reason.empty()) line += " (" + details.reason + ")";
  if (details.retry_delay_nanos) {
    line += "; retry in " + FormatDurationNanos(*details.retry_delay_nanos);
  }
  if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
    line += "; set --api-key-id and --api-key-secret (or THINGTANK_API_KEY_ID/_SECRET)";
  }
  return line;
}

int ReportRpcError(const grpc::Status& status, const ConnectionOptions& options, const Io& io) {
  if (!options.json) {
    io.err << "error: " << DescribeRpcError(status, options) << "\n";
    return kExitFailure;
  }
  const ErrorDetails details = Decode(status);
  google::protobuf::Struct error;
  SetString(&error, "code", CodeName(status.error_code()));
  (*error.mutable_fields())["code_number"].set_number_value(status.error_code());
  SetString(&error, "message", status.error_message());
  SetString(&error, "description", DescribeRpcError(status, options));
  if (!details.reason.empty()) SetString(&error, "reason", details.reason);
  if (!details.violations.empty()) {
    auto* list = (*error.mutable_fields())["field_violations"].mutable_list_value();
    for (const auto& [field, description] : details.violations) {
      google::protobuf::Struct* v = list->add_values()->mutable_struct_value();
      SetString(v, "field", field);
      SetString(v, "description", description);
    }
  }
  if (details.retry_delay_nanos) {
    (*error.mutable_fields())["retry_delay_seconds"].set_number_value(
        static_cast<double>(*details.retry_delay_nanos) / 1e9);
  }
  EmitJson(error, io);
  return kExitFailure;
}

int ReportLocalError(const std::string& message, bool json, const Io& io) {
  if (!json) {
    io.err << "error: " << message << "\n";
    return kExitFailure;
  }
  google::protobuf::Struct error;
  SetString(&error, "code", "LOCAL");
  SetString(&error, "message", message);
  EmitJson(error, io);
  return kExitFailure;
}

int ReportUsageError(const std::string& message, bool json, const Io& io,
                     const std::function<void(std::ostream&)>& usage) {
  if (json) {
    google::protobuf::Struct error;
    SetString(&error, "code", "USAGE");
    SetString(&error, "message", message);
    EmitJson(error, io);
    return kExitUsage;
  }
  io.err << "error: " << message << "\n";
  if (usage) {
    io.err << "\n";
    usage(io.err);
  }
  return kExitUsage;
}

}  // namespace thingtank::cli
