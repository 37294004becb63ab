// The WAMP router: realms from the config, WebSocket sessions (HELLO ->
// [CHALLENGE -> AUTHENTICATE] -> WELCOME -> ... -> GOODBYE), and procedures
// the router provides in every realm.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "prometheus/registry.h"
#include "services/common/clock.h"
#include "services/wamp/auth/auth.h"
#include "services/wamp/router/metrics.h"
#include "services/wamp/router/realm.h"
#include "services/wamp/transport/websocket_server.h"

namespace thingtank::wamp {

class Router {
 public:
  Router(WampConfig config, Clock* clock, prometheus::Registry* registry);
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  const WampConfig& config() const { return config_; }
  Clock* clock() const { return clock_; }
  WampMetrics* metrics() { return &metrics_; }
  // Null when the realm is not configured.
  std::shared_ptr<Realm> FindRealm(std::string_view name) const;
  // Provides a procedure in every realm (see Realm::Provide).
  void Provide(const std::string& uri, MatchPolicy match, const ProcedureHandler& handler);

  // The handler of one WebSocket connection (pass as the transport's factory).
  std::unique_ptr<ConnectionHandler> NewSession(std::shared_ptr<Connection> connection);

 private:
  const WampConfig config_;
  Clock* const clock_;
  WampMetrics metrics_;
  std::map<std::string, std::shared_ptr<Realm>, std::less<>> realms_;
};

// WELCOME.Details.roles: exactly the features this router implements.
Json RouterRoles();

}  // namespace thingtank::wamp
