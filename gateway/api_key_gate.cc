#include "gateway/api_key_gate.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/status.h"

namespace thingtank::gateway {
namespace {

// Compares without an early exit, so timing does not reveal how much matched.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? a[i] : 0;
    const unsigned char y = i < b.size() ? b[i] : 0;
    diff |= x ^ y;
  }
  return diff == 0;
}

}  // namespace

ApiKeyGate::ApiKeyGate(std::map<std::string, ApiKey> keys, Clock* clock) : clock_(clock) {
  for (auto& [id, key] : keys) keys_.emplace(id, std::make_unique<KeyState>(std::move(key), clock->Now()));
}

absl::Status ApiKeyGate::Admit(const grpc::ServerContextBase& context, const std::string& service) {
  // The process's own in-process channel (the WAMP bridge, whose callers the
  // WAMP router has already authorized by realm and role) carries no key.
  if (absl::StartsWith(context.peer(), "inproc")) return absl::OkStatus();
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    return ErrorWithReason(absl::StatusCode::kUnauthenticated, "MissingAuthenticationToken",
                           "no API key: send metadata \"authorization: ApiKey <id>:<secret>\"");
  }
  const absl::string_view value(it->second.data(), it->second.size());
  constexpr absl::string_view kScheme = "ApiKey ";
  if (!absl::StartsWith(value, kScheme) || value.find(':') == absl::string_view::npos) {
    return ErrorWithReason(absl::StatusCode::kUnauthenticated, "IncompleteSignature",
                           "authorization must be \"ApiKey <id>:<secret>\"");
  }
  const absl::string_view credentials = value.substr(kScheme.size());
  const size_t colon = credentials.find(':');
  const std::string id(credentials.substr(0, colon));
  const absl::string_view secret = credentials.substr(colon + 1);
  auto key_it = keys_.find(id);
  if (key_it == keys_.end() || !ConstantTimeEquals(secret, key_it->second->key.secret)) {
    return ErrorWithReason(absl::StatusCode::kUnauthenticated, "UnrecognizedClient",
                           "unknown API key id or wrong secret");
  }
  KeyState& state = *key_it->second;
  if (!state.key.Allows(service)) {
    return ErrorWithReason(absl::StatusCode::kPermissionDenied, "AccessDenied",
                           absl::StrCat("API key \"", id, "\" may not call the ", service, " service"));
  }
  absl::Duration retry_after;
  bool taken;
  {
    absl::MutexLock lock(&state.mu);
    taken = state.bucket.TryTake(clock_->Now(), &retry_after);
  }
  if (!taken) {
    return QuotaExceeded("Throttling", absl::StrCat("apikey:", id),
                         absl::StrCat("API key \"", id, "\" is over its rate of ",
                                      state.key.rate_per_second, " calls/s; retry later"),
                         retry_after);
  }
  return absl::OkStatus();
}

}  // namespace thingtank::gateway
