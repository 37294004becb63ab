#pragma once

// What a service adds to `serve --bootstrap`: one BootstrapSection (its
// top-level key, its Create request type, how to create one entry) and its
// line in BootstrapSections() (bootstrap.cc).

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/status.h"
#include "google/protobuf/message.h"
#include "grpcpp/grpcpp.h"

namespace thingtank::serve {

// Deadline of each call bootstrap makes.
inline constexpr std::chrono::seconds kBootstrapCallTimeout{30};

// One resource of the file, parsed: `request` is the section's Create request.
struct BootstrapEntry {
  std::string label;  // "tables[1] (readings)": how errors name it
  std::unique_ptr<google::protobuf::Message> request;
  std::map<std::string, std::string> extras;  // the section's extra keys that are set
};

// How bootstrap calls the gateway: every call gets a deadline and, when set,
// the authorization metadata.
class BootstrapCalls {
 public:
  BootstrapCalls(std::shared_ptr<grpc::Channel> channel, std::string authorization)
      : channel_(std::move(channel)), authorization_(std::move(authorization)) {}

  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  std::unique_ptr<grpc::ClientContext> NewContext() const {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + kBootstrapCallTimeout);
    if (!authorization_.empty()) context->AddMetadata("authorization", authorization_);
    return context;
  }

 private:
  const std::shared_ptr<grpc::Channel> channel_;
  const std::string authorization_;
};

struct BootstrapSection {
  absl::string_view name;                      // the top-level key, the service name
  const google::protobuf::Message* prototype;  // the Create request (default instance)
  absl::string_view name_field;                // the request's field naming the resource
  // Keys beyond the request's fields, for what needs a second call
  // (tables: time_to_live_attribute). Their values are single values.
  std::vector<absl::string_view> extra_keys;
  // Puts the entries in creation order (queues: dead-letter queues first), or
  // fails naming an entry. Null keeps the file's order.
  absl::Status (*order)(std::vector<BootstrapEntry>* entries);
  // Creates the entry's resource and everything its extras ask for; an
  // existing resource is left as it is. Errors are the call's, without the label.
  absl::Status (*create)(const BootstrapEntry& entry, const BootstrapCalls& calls);
};

// The sections, one per service (bootstrap_<service>.cc).
const BootstrapSection& QueuesBootstrapSection();
const BootstrapSection& TablesBootstrapSection();

// A failed call as "<method>: <message>" with the call's code.
absl::Status BootstrapCallError(absl::string_view method, const grpc::Status& status);

}  // namespace thingtank::serve
