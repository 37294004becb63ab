#include "services/wamp/router/router.h"

namespace thingtank::wamp {

Router::Router(WampConfig config, Clock* clock, prometheus::Registry* registry)
    : config_(std::move(config)), clock_(clock), metrics_(registry) {
  for (const auto& [name, realm] : config_.realms) {
    realms_[name] = std::make_shared<Realm>(name, &realm, clock, &metrics_);
  }
}

std::shared_ptr<Realm> Router::FindRealm(std::string_view name) const {
  auto it = realms_.find(name);
  return it == realms_.end() ? nullptr : it->second;
}

void Router::Provide(const std::string& uri, MatchPolicy match, const ProcedureHandler& handler) {
  for (auto& [name, realm] : realms_) realm->Provide(uri, match, handler);
}

Json RouterRoles() {
  return Json::object(
      {{"broker", {{"features",
                    {{"publisher_identification", true},
                     {"publisher_exclusion", true},
                     {"subscriber_blackwhite_listing", true},
                     {"pattern_based_subscription", true},
                     {"session_meta_api", true}}}}},
       {"dealer", {{"features",
                    {{"caller_identification", true},
                     {"progressive_call_results", true},
                     {"call_canceling", true},
                     {"call_timeout", true},
                     {"shared_registration", true},
                     {"pattern_based_registration", true},
                     {"session_meta_api", true}}}}}});
}

}  // namespace thingtank::wamp
