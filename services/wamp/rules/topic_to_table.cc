// topic_to_table: every event becomes a PutItem of its kwargs (plain JSON as
// attribute values) plus the key attributes filled from key_template. The key
// attributes' types (S, N, B) come from DescribeTable at start, and again
// after a put is refused as NOT_FOUND or INVALID_ARGUMENT (the table deleted
// and created again, maybe with other key types).
#include <cmath>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/common/status.h"
#include "services/wamp/rules/builtin_kinds.h"
#include "services/wamp/rules/runner.h"
#include "services/wamp/rules/template.h"
#include "services/wamp/rules/validation.h"

namespace thingtank::wamp {
namespace {

// Events a rule keeps while it learns the table's key types.
constexpr size_t kMaxPendingEvents = 1000;

// Plain JSON (decoded from any serializer) as an attribute value.
void ToAttribute(const Json& j, tables::v1::AttributeValue* out) {
  switch (j.type()) {
    case Json::value_t::string:
      out->set_s(j.get<std::string>());
      break;
    case Json::value_t::boolean:
      out->set_bool_value(j.get<bool>());
      break;
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      out->set_n(j.dump());
      break;
    case Json::value_t::number_float:
      // JSON text has no NaN or infinity; MessagePack and CBOR do.
      if (std::isfinite(j.get<double>())) {
        out->set_n(j.dump());
      } else {
        out->set_null_value(true);
      }
      break;
    case Json::value_t::array:
      for (const Json& e : j) ToAttribute(e, out->mutable_l()->add_values());
      if (j.empty()) out->mutable_l();
      break;
    case Json::value_t::object:
      for (const auto& [k, v] : j.items()) ToAttribute(v, &(*out->mutable_m()->mutable_fields())[k]);
      if (j.empty()) out->mutable_m();
      break;
    case Json::value_t::binary:
      out->set_b(std::string(j.get_binary().begin(), j.get_binary().end()));
      break;
    default:  // null, discarded
      out->set_null_value(true);
      break;
  }
}

class TopicToTableRunner final : public RuleRunner {
 public:
  TopicToTableRunner(v1::Rule rule, std::string_view kind, RuleEnv env)
      : RuleRunner(std::move(rule), kind, std::move(env)) {
    for (const auto& [name, text] : rule_.topic_to_table().key_template()) {
      // Validated at Create; a stored rule failing here is a broken invariant.
      templates_.emplace(name, ParseTemplate(text).value());
    }
  }

  void OnEvent(const EventData& e) {
    const absl::Time now = env_.clock->Now();
    std::shared_ptr<const KeyTypes> types;
    {
      absl::MutexLock lock(&mu_);
      if (key_types_ == nullptr) {
        // Still learning the key types: keep the event for later.
        if (pending_.size() < kMaxPendingEvents) {
          pending_.push_back({e, now});
        } else {
          dropped_pending_ = true;
        }
        return;
      }
      types = key_types_;
    }
    Put(e, now, *types);
  }

 private:
  using KeyTypes = std::map<std::string, tables::v1::ScalarAttributeType>;
  struct Pending {
    EventData event;
    absl::Time at;
  };

  absl::Status Begin() override {
    const auto& r = rule_.topic_to_table();
    TT_RETURN_IF_ERROR(Subscribe(r.topic(), r.match(), OnEventOf<TopicToTableRunner>()));
    Relearn();
    return absl::OkStatus();
  }

  // Learns the key attributes' types, unless that is under way already. At
  // the start; again when a put is refused as if the table had changed: until
  // then events go on with the types known.
  void Relearn() {
    {
      absl::MutexLock lock(&mu_);
      if (describing_) return;
      describing_ = true;
    }
    Describe();
  }

  // One DescribeTable; again after kRuleBackoff on failure.
  void Describe() {
    tables::v1::DescribeTableRequest req;
    req.set_table_name(rule_.topic_to_table().table());
    Rpc<tables::v1::DescribeTableResponse>(
        TablesMethod("DescribeTable"), req, kRuleCallDeadline,
        [this](const grpc::Status& s, const tables::v1::DescribeTableResponse& r) {
          if (!s.ok()) {
            Fail("DescribeTable", s);
            After(kRuleBackoff, [this] { Describe(); });
            return;
          }
          auto types = std::make_shared<KeyTypes>();
          for (const auto& d : r.table().attribute_definitions()) {
            (*types)[d.attribute_name()] = d.attribute_type();
          }
          std::deque<Pending> pending;
          bool dropped;
          {
            absl::MutexLock lock(&mu_);
            key_types_ = types;
            describing_ = false;
            pending.swap(pending_);
            dropped = dropped_pending_;
          }
          if (dropped) Fail("buffer", "events dropped while the table's key types were unknown");
          for (const Pending& p : pending) Put(p.event, p.at, *types);
        });
  }

  void Put(const EventData& e, absl::Time now, const KeyTypes& types) {
    tables::v1::PutItemRequest req;
    req.set_table_name(rule_.topic_to_table().table());
    auto& item = *req.mutable_item();
    if (e.kwargs.is_object()) {
      for (const auto& [k, v] : e.kwargs.items()) ToAttribute(v, &item[k]);
    }
    for (const auto& [name, parts] : templates_) {
      absl::StatusOr<std::string> text = ExpandTemplate(parts, e, now);
      if (!text.ok()) return Fail("key_template", text.status().ToString());
      tables::v1::AttributeValue& v = item[name];
      auto type = types.find(name);
      if (type != types.end() && type->second == tables::v1::SCALAR_ATTRIBUTE_TYPE_N) {
        v.set_n(*std::move(text));
      } else if (type != types.end() && type->second == tables::v1::SCALAR_ATTRIBUTE_TYPE_B) {
        v.set_b(*std::move(text));
      } else {
        v.set_s(*std::move(text));
      }
    }
    Rpc<tables::v1::PutItemResponse>(
        TablesMethod("PutItem"), req, kRuleCallDeadline,
        [this](const grpc::Status& s, const tables::v1::PutItemResponse&) {
          if (s.ok()) return Forwarded();
          Fail("PutItem", s);
          if (s.error_code() == grpc::StatusCode::NOT_FOUND ||
              s.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
            Relearn();
          }
        });
  }

  std::map<std::string, std::vector<TemplatePart>> templates_;  // immutable
  std::shared_ptr<const KeyTypes> key_types_ ABSL_GUARDED_BY(mu_);
  std::deque<Pending> pending_ ABSL_GUARDED_BY(mu_);
  bool dropped_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool describing_ ABSL_GUARDED_BY(mu_) = false;  // a Describe is under way
};

class TopicToTable final : public RuleKind {
 public:
  std::string_view name() const override { return "topic_to_table"; }
  v1::Rule::KindCase kind_case() const override { return v1::Rule::kTopicToTable; }
  absl::Status Validate(const v1::Rule& rule, const std::string& p) const override {
    const auto& r = rule.topic_to_table();
    TT_RETURN_IF_ERROR(ValidateTopic(p, r.topic(), r.match(), /*pattern_allowed=*/true));
    TT_RETURN_IF_ERROR(ValidateTableField(p, r.table()));
    if (r.key_template().empty()) {
      return InvalidField(p + ".key_template", "is required: one template per key attribute");
    }
    for (const auto& [name, text] : r.key_template()) {
      const std::string field = absl::StrCat(p, ".key_template[\"", name, "\"]");
      if (name.empty()) return InvalidField(field, "attribute name is empty");
      if (text.empty()) return InvalidField(field, "template is empty");
      absl::StatusOr<std::vector<TemplatePart>> parts = ParseTemplate(text);
      if (!parts.ok()) return InvalidField(field, std::string(parts.status().message()));
    }
    return absl::OkStatus();
  }
  std::shared_ptr<RuleRunner> NewRunner(v1::Rule rule, RuleEnv env) const override {
    return std::make_shared<TopicToTableRunner>(std::move(rule), name(), std::move(env));
  }
};

}  // namespace

std::unique_ptr<RuleKind> TopicToTableKind() { return std::make_unique<TopicToTable>(); }

}  // namespace thingtank::wamp
