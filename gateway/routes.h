#pragma once

#include <string>
#include <vector>

#include "google/protobuf/descriptor.h"

namespace thingtank::gateway {

// The proto services (from the generated descriptors linked into the gateway)
// that make up one ThingTank service: "queues" -> thingtank.queues.v1.QueuesService.
// Empty for a service whose protos are not linked in. Adding a service to the
// gateway is one line in routes.cc.
std::vector<const google::protobuf::ServiceDescriptor*> ProtoServicesOf(const std::string& service);

}  // namespace thingtank::gateway
