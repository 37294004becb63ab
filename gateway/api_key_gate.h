#pragma once

#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "gateway/api_keys.h"
#include "services/common/clock.h"
#include "services/common/server.h"
#include "services/common/token_bucket.h"

namespace thingtank::gateway {

// The gateway's CallGate for --auth=apikey. Each call carries metadata
// `authorization: ApiKey <id>:<secret>`. Missing or wrong credentials:
// UNAUTHENTICATED; a key not allowed the service: PERMISSION_DENIED; over the
// key's rate: RESOURCE_EXHAUSTED with RetryInfo. Thread-safe; never blocks
// (one short mutex per key).
class ApiKeyGate final : public CallGate {
 public:
  ApiKeyGate(std::map<std::string, ApiKey> keys, Clock* clock);
  absl::Status Admit(const grpc::ServerContextBase& context, const std::string& service) override;

 private:
  struct KeyState {
    ApiKey key;
    absl::Mutex mu;
    TokenBucket bucket ABSL_GUARDED_BY(mu);
    KeyState(ApiKey k, absl::Time now)
        : key(std::move(k)), bucket(key.rate_per_second, key.burst, now) {}
  };
  Clock* const clock_;
  std::map<std::string, std::unique_ptr<KeyState>> keys_;  // immutable after construction
};

}  // namespace thingtank::gateway
