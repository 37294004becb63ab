#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/channel.h"
#include "grpcpp/server.h"
#include "services/common/config.h"

namespace thingtank::serve {

// Where a service of this process reaches the other services (the wamp
// bridge and rules, metrics pushed to compute): the gateway of this process
// through its in-process channel, or --gateway-address with the API key of
// THINGTANK_API_KEY_ID / THINGTANK_API_KEY_SECRET (microservice mode with
// --auth=apikey).
struct PeerAddress {
  std::string gateway_address;  // empty: the gateway runs in this process
  std::string authorization;    // "ApiKey id:secret" for gateway_address, or empty
};

// Reads --gateway-address and the key. Without a gateway in this process an
// address is an error when `required` (naming `who` needs it), else empty.
absl::StatusOr<PeerAddress> ParsePeerAddress(const ServeConfig& config, bool required,
                                             const std::string& who);

// A channel to the other services: `server`'s in-process channel when the
// gateway runs here, else one to the address presenting the key.
std::shared_ptr<grpc::Channel> PeerChannel(grpc::Server* server, const PeerAddress& peer);

}  // namespace thingtank::serve
