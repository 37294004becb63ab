#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/descriptor.h"
#include "services/common/config.h"
#include "tools/thingtank/serve/running_service.h"

namespace thingtank::serve {

// One ThingTank service as this binary knows it. Each service declares itself
// once, in the list of tools/thingtank/modules.cc; serve (which services can
// run, their ports, ports.json), the gateway routes, health, reflection, the
// grpc_server_* series, the WAMP bridge and the CLI all read that list.
// Its default port in microservice mode is fixed by name (DefaultServicePort,
// services/common/config.h).
struct ServiceModule {
  // The service name: its folder under services/, its --services value, the
  // middle of its proto package (thingtank.<name>.v1).
  std::string name;
  // Its API: every service of this proto file is routed and bridged.
  const google::protobuf::FileDescriptor* api = nullptr;
  // Opens its storage and builds its domain and gRPC face (its wiring file).
  absl::StatusOr<std::unique_ptr<RunningService>> (*start)(const ServeContext& context) = nullptr;
  // `thingtank <name> ...`; may be null.
  int (*cli)(const std::vector<std::string>& args) = nullptr;
  // One line for `thingtank --help`.
  std::string cli_summary;
  // Its own settings (`serve --help` lists them; its wiring parses them from
  // ServeConfig::service_flags).
  std::vector<ServiceFlagSpec> flags = {};

  std::vector<const google::protobuf::ServiceDescriptor*> ProtoServices() const {
    std::vector<const google::protobuf::ServiceDescriptor*> out;
    for (int i = 0; api != nullptr && i < api->service_count(); ++i) out.push_back(api->service(i));
    return out;
  }
};

using ServiceModules = std::vector<ServiceModule>;

}  // namespace thingtank::serve
