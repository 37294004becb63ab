#pragma once

#include <map>
#include <set>
#include <string>

#include "absl/status/statusor.h"

namespace thingtank::gateway {

// One API key: who may call which services, how fast.
struct ApiKey {
  std::string id;
  std::string secret;
  std::set<std::string> services;  // "*" allows every service
  double rate_per_second = 1000;   // token refill rate
  double burst = 2000;             // bucket size

  bool Allows(const std::string& service) const {
    return services.count("*") > 0 || services.count(service) > 0;
  }
};

// Parses an API keys file: one key per line, '#' starts a comment,
//   <id> <secret> <services: comma list or *> [<rate per second> [<burst>]]
// Errors name the line.
absl::StatusOr<std::map<std::string, ApiKey>> ParseApiKeys(const std::string& text);
absl::StatusOr<std::map<std::string, ApiKey>> LoadApiKeys(const std::string& path);

}  // namespace thingtank::gateway
