// The realms config file (CONFIG.md) and the built-in default.
#include <cstdint>
#include <initializer_list>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/common/status.h"
#include "services/wamp/auth/auth.h"
#include "services/wamp/auth/internal.h"

namespace thingtank::wamp {
namespace {

using nlohmann::json;

constexpr int kMaxIterations = 1'000'000;  // PBKDF2 runs on every wampcra login
constexpr int kMaxKeylen = 256;

std::string Quote(std::string_view s) { return json(std::string(s)).dump(); }

std::string Field(const std::string& path, const std::string& key) {
  return path.empty() ? key : absl::StrCat(path, ".", key);
}

std::string Index(const std::string& path, size_t i) { return absl::StrCat(path, "[", i, "]"); }

absl::Status CheckObject(const json& j, const std::string& path,
                         std::initializer_list<const char*> allowed) {
  if (!j.is_object()) return InvalidField(path, "must be an object");
  for (const auto& item : j.items()) {
    bool known = false;
    for (const char* key : allowed) known = known || item.key() == key;
    if (!known) {
      return InvalidField(Field(path, item.key()),
                          absl::StrCat("unknown field; expected one of ", absl::StrJoin(allowed, ", ")));
    }
  }
  return absl::OkStatus();
}

// Reads j[key] into *out when present; `required` makes absence an error.
absl::Status GetString(const json& j, const std::string& path, const char* key,
                       bool required, std::string* out) {
  const auto it = j.find(key);
  if (it == j.end()) {
    return required ? InvalidField(Field(path, key), "required") : absl::OkStatus();
  }
  if (!it->is_string()) return InvalidField(Field(path, key), "must be a string");
  *out = it->get<std::string>();
  return absl::OkStatus();
}

absl::Status GetBool(const json& j, const std::string& path, const char* key, bool* out) {
  const auto it = j.find(key);
  if (it == j.end()) return absl::OkStatus();
  if (!it->is_boolean()) return InvalidField(Field(path, key), "must be true or false");
  *out = it->get<bool>();
  return absl::OkStatus();
}

absl::Status GetInt(const json& j, const std::string& path, const char* key, int min,
                    int max, int* out) {
  const auto it = j.find(key);
  if (it == j.end()) return absl::OkStatus();
  const std::string range = absl::StrCat("must be an integer from ", min, " to ", max);
  if (!it->is_number_integer()) return InvalidField(Field(path, key), range);
  // Non-negative literals parse as unsigned; huge ones must not wrap.
  if (it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(max)) {
    return InvalidField(Field(path, key), range);
  }
  const int64_t value = it->get<int64_t>();
  if (value < min || value > max) return InvalidField(Field(path, key), range);
  *out = static_cast<int>(value);
  return absl::OkStatus();
}

// Loose URI checks: no whitespace or '#'; `allow_empty_components` for
// wildcard and prefix patterns (a prefix may be "" or end with '.').
absl::Status CheckUri(const std::string& path, std::string_view uri,
                      bool allow_empty_components) {
  for (char c : uri) {
    if (c == '#' || c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      return InvalidField(path, "must not contain whitespace or '#'");
    }
  }
  if (!allow_empty_components) {
    size_t start = 0;
    while (true) {
      const size_t end = uri.find('.', start);
      if ((end == std::string_view::npos ? uri.size() : end) == start) {
        return InvalidField(path, "must not have empty components (\"\", \"a..b\", \".a\", \"a.\")");
      }
      if (end == std::string_view::npos) break;
      start = end + 1;
    }
  }
  return absl::OkStatus();
}

absl::Status ParseAnonymous(const json& j, const std::string& path, RealmConfig* realm) {
  TT_RETURN_IF_ERROR(CheckObject(j, path, {"allow", "loopback_only", "role"}));
  TT_RETURN_IF_ERROR(GetBool(j, path, "allow", &realm->anonymous));
  TT_RETURN_IF_ERROR(GetBool(j, path, "loopback_only", &realm->anonymous_loopback_only));
  TT_RETURN_IF_ERROR(GetString(j, path, "role", false, &realm->anonymous_role));
  if (realm->anonymous_role.empty()) return InvalidField(Field(path, "role"), "must not be empty");
  return absl::OkStatus();
}

absl::Status ParseRule(const json& j, const std::string& path, Permission* rule) {
  TT_RETURN_IF_ERROR(CheckObject(j, path, {"uri", "match", "allow"}));
  std::string match;
  TT_RETURN_IF_ERROR(GetString(j, path, "uri", true, &rule->uri));
  TT_RETURN_IF_ERROR(GetString(j, path, "match", true, &match));
  const std::optional<MatchPolicy> policy = auth_internal::ParsePolicy(match);
  if (!policy) {
    return InvalidField(Field(path, "match"), "must be one of exact, prefix, wildcard");
  }
  rule->match = *policy;
  TT_RETURN_IF_ERROR(
      CheckUri(Field(path, "uri"), rule->uri, rule->match != MatchPolicy::kExact));
  const auto allow = j.find("allow");
  if (allow == j.end()) return InvalidField(Field(path, "allow"), "required");
  if (!allow->is_array()) return InvalidField(Field(path, "allow"), "must be an array of actions");
  for (size_t i = 0; i < allow->size(); ++i) {
    const json& name = (*allow)[i];
    const std::optional<Action> action =
        name.is_string() ? ParseAction(name.get<std::string>()) : std::nullopt;
    if (!action) {
      return InvalidField(Index(Field(path, "allow"), i),
                          absl::StrCat("unknown action ", name.dump(),
                                       "; must be one of publish, subscribe, register, call"));
    }
    switch (*action) {
      case Action::kPublish: rule->publish = true; break;
      case Action::kSubscribe: rule->subscribe = true; break;
      case Action::kRegister: rule->register_ = true; break;
      case Action::kCall: rule->call = true; break;
    }
  }
  return absl::OkStatus();
}

absl::Status ParseRoles(const json& j, const std::string& path, RealmConfig* realm) {
  if (!j.is_object()) return InvalidField(path, "must be an object of role name -> rules");
  for (const auto& role : j.items()) {
    const std::string role_path = Field(path, role.key());
    if (role.key().empty()) return InvalidField(role_path, "role name must not be empty");
    if (!role.value().is_array()) return InvalidField(role_path, "must be an array of rules");
    std::vector<Permission>& rules = realm->roles[role.key()];
    for (size_t i = 0; i < role.value().size(); ++i) {
      Permission rule;
      TT_RETURN_IF_ERROR(ParseRule(role.value()[i], Index(role_path, i), &rule));
      for (size_t k = 0; k < rules.size(); ++k) {
        if (rules[k].uri == rule.uri && rules[k].match == rule.match) {
          return InvalidField(Index(role_path, i),
                              absl::StrCat("same uri and match as rule ", k));
        }
      }
      rules.push_back(std::move(rule));
    }
  }
  return absl::OkStatus();
}

absl::Status ParsePrincipal(const json& j, const std::string& path, const RealmConfig& realm,
                            Principal* p) {
  TT_RETURN_IF_ERROR(CheckObject(
      j, path, {"authid", "role", "ticket", "secret", "salt", "iterations", "keylen"}));
  TT_RETURN_IF_ERROR(GetString(j, path, "authid", true, &p->authid));
  if (p->authid.empty()) return InvalidField(Field(path, "authid"), "must not be empty");
  TT_RETURN_IF_ERROR(GetString(j, path, "role", true, &p->role));
  if (realm.roles.count(p->role) == 0) {
    return InvalidField(Field(path, "role"),
                        absl::StrCat("role ", Quote(p->role), " is not defined in roles"));
  }
  TT_RETURN_IF_ERROR(GetString(j, path, "ticket", false, &p->ticket));
  TT_RETURN_IF_ERROR(GetString(j, path, "secret", false, &p->secret));
  TT_RETURN_IF_ERROR(GetString(j, path, "salt", false, &p->salt));
  TT_RETURN_IF_ERROR(GetInt(j, path, "iterations", 1, kMaxIterations, &p->iterations));
  TT_RETURN_IF_ERROR(GetInt(j, path, "keylen", 1, kMaxKeylen, &p->keylen));
  for (const char* key : {"ticket", "secret", "salt"}) {
    if (j.contains(key) && j[std::string(key)].get<std::string>().empty()) {
      return InvalidField(Field(path, key), "must not be empty");
    }
  }
  if (p->ticket.empty() && p->secret.empty()) {
    return InvalidField(path, "needs a ticket or a secret (or both)");
  }
  if (p->salt.empty()) {
    for (const char* key : {"iterations", "keylen"}) {
      if (j.contains(key)) return InvalidField(Field(path, key), "only valid with a salt");
    }
  } else if (p->secret.empty()) {
    return InvalidField(Field(path, "salt"), "only valid with a secret");
  }
  return absl::OkStatus();
}

absl::Status ParseRealm(const json& j, const std::string& path, RealmConfig* realm) {
  TT_RETURN_IF_ERROR(CheckObject(j, path, {"name", "anonymous", "roles", "principals"}));
  TT_RETURN_IF_ERROR(GetString(j, path, "name", true, &realm->name));
  if (realm->name.empty()) return InvalidField(Field(path, "name"), "must not be empty");
  TT_RETURN_IF_ERROR(CheckUri(Field(path, "name"), realm->name, false));
  if (const auto roles = j.find("roles"); roles != j.end()) {
    TT_RETURN_IF_ERROR(ParseRoles(*roles, Field(path, "roles"), realm));
  }
  if (const auto anonymous = j.find("anonymous"); anonymous != j.end()) {
    const std::string anon_path = Field(path, "anonymous");
    TT_RETURN_IF_ERROR(ParseAnonymous(*anonymous, anon_path, realm));
    if (realm->anonymous && realm->roles.count(realm->anonymous_role) == 0) {
      return InvalidField(
          Field(anon_path, "role"),
          absl::StrCat("role ", Quote(realm->anonymous_role), " is not defined in roles"));
    }
  }
  if (const auto principals = j.find("principals"); principals != j.end()) {
    const std::string list_path = Field(path, "principals");
    if (!principals->is_array()) return InvalidField(list_path, "must be an array");
    for (size_t i = 0; i < principals->size(); ++i) {
      const std::string p_path = Index(list_path, i);
      Principal p;
      TT_RETURN_IF_ERROR(ParsePrincipal((*principals)[i], p_path, *realm, &p));
      if (realm->principals.count(p.authid) != 0) {
        return InvalidField(Field(p_path, "authid"),
                            absl::StrCat("duplicate authid ", Quote(p.authid)));
      }
      std::string authid = p.authid;
      realm->principals.emplace(std::move(authid), std::move(p));
    }
  }
  return absl::OkStatus();
}

}  // namespace

WampConfig DefaultWampConfig() {
  RealmConfig realm;
  realm.name = "realm1";
  realm.anonymous = true;
  realm.anonymous_loopback_only = true;
  realm.anonymous_role = "anonymous";
  Permission everything;
  everything.uri = "";
  everything.match = MatchPolicy::kPrefix;
  everything.publish = everything.subscribe = everything.register_ = everything.call = true;
  realm.roles["anonymous"].push_back(everything);
  WampConfig config;
  config.realms.emplace(realm.name, std::move(realm));
  return config;
}

absl::StatusOr<WampConfig> ParseWampConfig(std::string_view json_text) {
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::parse_error& e) {
    return InvalidField("(config)", absl::StrCat("not valid JSON: ", e.what()));
  }
  // Unknown top-level fields are ignored so the file can carry other sections.
  if (!root.is_object()) return InvalidField("(config)", "must be a JSON object");
  const auto realms = root.find("realms");
  if (realms == root.end()) return InvalidField("realms", "required");
  if (!realms->is_array() || realms->empty()) {
    return InvalidField("realms", "must be a non-empty array");
  }
  WampConfig config;
  for (size_t i = 0; i < realms->size(); ++i) {
    const std::string path = Index("realms", i);
    RealmConfig realm;
    TT_RETURN_IF_ERROR(ParseRealm((*realms)[i], path, &realm));
    if (config.realms.count(realm.name) != 0) {
      return InvalidField(Field(path, "name"), absl::StrCat("duplicate realm ", Quote(realm.name)));
    }
    std::string name = realm.name;
    config.realms.emplace(std::move(name), std::move(realm));
  }
  return config;
}

}  // namespace thingtank::wamp
