// `tables:` of `serve --bootstrap`: CreateTableRequest entries, plus
// `time_to_live_attribute` (an UpdateTimeToLive once the table is ACTIVE).
#include <thread>

#include "absl/strings/str_cat.h"
#include "thingtank/tables/v1/tables.grpc.pb.h"
#include "tools/thingtank/serve/bootstrap_section.h"

namespace thingtank::serve {
namespace {

namespace v1 = tables::v1;

constexpr char kTimeToLiveAttribute[] = "time_to_live_attribute";
constexpr auto kActiveTimeout = std::chrono::seconds(60);
constexpr auto kActivePoll = std::chrono::milliseconds(20);

// Polls DescribeTable until the table is ACTIVE, for at most kActiveTimeout.
absl::Status WaitUntilActive(v1::TablesService::Stub* stub, const std::string& name,
                             const BootstrapCalls& calls) {
  const auto deadline = std::chrono::steady_clock::now() + kActiveTimeout;
  v1::DescribeTableRequest request;
  request.set_table_name(name);
  while (true) {
    v1::DescribeTableResponse response;
    const grpc::Status status = stub->DescribeTable(calls.NewContext().get(), request, &response);
    if (!status.ok()) return BootstrapCallError("DescribeTable", status);
    switch (response.table().table_status()) {
      case v1::TABLE_STATUS_ACTIVE:
        return absl::OkStatus();
      case v1::TABLE_STATUS_DELETING:
        return absl::FailedPreconditionError("the table is being deleted");
      default:
        break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("the table is not ACTIVE after ", kActiveTimeout.count(), " s"));
    }
    std::this_thread::sleep_for(kActivePoll);
  }
}

// Enables TTL on `attribute` unless it already is; TTL on another attribute
// is an error (DynamoDB too needs it disabled first).
absl::Status EnableTimeToLive(v1::TablesService::Stub* stub, const std::string& name,
                              const std::string& attribute, const BootstrapCalls& calls) {
  v1::DescribeTimeToLiveRequest describe;
  describe.set_table_name(name);
  v1::DescribeTimeToLiveResponse current;
  if (grpc::Status s = stub->DescribeTimeToLive(calls.NewContext().get(), describe, &current); !s.ok()) {
    return BootstrapCallError("DescribeTimeToLive", s);
  }
  const auto& ttl = current.time_to_live_description();
  if (ttl.time_to_live_status() == v1::TIME_TO_LIVE_STATUS_ENABLED) {
    if (ttl.attribute_name() == attribute) return absl::OkStatus();
    return absl::FailedPreconditionError(
        absl::StrCat(kTimeToLiveAttribute, ": the table has TTL enabled on \"", ttl.attribute_name(),
                     "\"; disable it first (UpdateTimeToLive) to move it to \"", attribute, "\""));
  }
  v1::UpdateTimeToLiveRequest update;
  update.set_table_name(name);
  update.mutable_time_to_live_specification()->set_enabled(true);
  update.mutable_time_to_live_specification()->set_attribute_name(attribute);
  v1::UpdateTimeToLiveResponse response;
  if (grpc::Status s = stub->UpdateTimeToLive(calls.NewContext().get(), update, &response); !s.ok()) {
    return BootstrapCallError("UpdateTimeToLive", s);
  }
  return absl::OkStatus();
}

absl::Status CreateTable(const BootstrapEntry& entry, const BootstrapCalls& calls) {
  const auto& request = static_cast<const v1::CreateTableRequest&>(*entry.request);
  auto stub = v1::TablesService::NewStub(calls.channel());
  v1::CreateTableResponse response;
  // ALREADY_EXISTS (ResourceInUseException): the table stays as it is; it
  // may still be CREATING after a crash, so it is waited for all the same.
  const grpc::Status status = stub->CreateTable(calls.NewContext().get(), request, &response);
  if (!status.ok() && status.error_code() != grpc::StatusCode::ALREADY_EXISTS) {
    return BootstrapCallError("CreateTable", status);
  }
  if (absl::Status s = WaitUntilActive(stub.get(), request.table_name(), calls); !s.ok()) return s;
  if (auto ttl = entry.extras.find(kTimeToLiveAttribute); ttl != entry.extras.end()) {
    return EnableTimeToLive(stub.get(), request.table_name(), ttl->second, calls);
  }
  return absl::OkStatus();
}

}  // namespace

const BootstrapSection& TablesBootstrapSection() {
  static const BootstrapSection kSection{
      "tables", &v1::CreateTableRequest::default_instance(), "table_name", {kTimeToLiveAttribute},
      nullptr, &CreateTable};
  return kSection;
}

}  // namespace thingtank::serve
