#include "tools/thingtank/serve/peer_channel.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/support/client_interceptor.h"

namespace thingtank::serve {
namespace {

// Presents an API key on every call through a gateway in another process.
class ApiKeyInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit ApiKeyInterceptor(const std::string* authorization) : authorization_(authorization) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      methods->GetSendInitialMetadata()->insert({"authorization", *authorization_});
    }
    methods->Proceed();
  }

 private:
  const std::string* const authorization_;
};

class ApiKeyInterceptorFactory final
    : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit ApiKeyInterceptorFactory(std::string authorization)
      : authorization_(std::move(authorization)) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo*) override {
    return new ApiKeyInterceptor(&authorization_);
  }

 private:
  const std::string authorization_;
};

}  // namespace

absl::StatusOr<PeerAddress> ParsePeerAddress(const ServeConfig& config, bool required,
                                             const std::string& who) {
  PeerAddress peer;
  if (config.Runs("gateway")) return peer;
  peer.gateway_address = config.ServiceFlag("gateway-address");
  if (peer.gateway_address.empty() && !required) return peer;
  if (peer.gateway_address.find(':') == std::string::npos) {
    return absl::InvalidArgumentError(
        peer.gateway_address.empty()
            ? absl::StrCat("--gateway-address: required to run ", who,
                           " without the gateway (it calls the other services through it)")
            : std::string("--gateway-address: must be host:port"));
  }
  // The key (as the CLI takes it; from the environment only: a secret on a
  // command line is visible to every user of the machine).
  const std::string id = config.ServiceFlag("api-key-id");
  const std::string secret = config.ServiceFlag("api-key-secret");
  if (id.empty() != secret.empty()) {
    return absl::InvalidArgumentError(
        "THINGTANK_API_KEY_ID and THINGTANK_API_KEY_SECRET go together (the API key this "
        "process presents to --gateway-address)");
  }
  if (!id.empty()) peer.authorization = absl::StrCat("ApiKey ", id, ":", secret);
  return peer;
}

std::shared_ptr<grpc::Channel> PeerChannel(grpc::Server* server, const PeerAddress& peer) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  if (peer.gateway_address.empty()) return server->InProcessChannel(args);
  if (peer.authorization.empty()) {
    return grpc::CreateCustomChannel(peer.gateway_address, grpc::InsecureChannelCredentials(), args);
  }
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> key;
  key.push_back(std::make_unique<ApiKeyInterceptorFactory>(peer.authorization));
  return grpc::experimental::CreateCustomChannelWithInterceptors(
      peer.gateway_address, grpc::InsecureChannelCredentials(), args, std::move(key));
}

}  // namespace thingtank::serve
