#pragma once

// Helpers shared by the table_service*.cc files. Not for other users.

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "services/common/status.h"
#include "services/tables/decimal.h"
#include "services/tables/item_validation.h"
#include "thingtank/tables/v1/tables.pb.h"

namespace thingtank::tables::internal {

inline constexpr char kValidation[] = "ValidationException";
inline constexpr char kNotFound[] = "ResourceNotFoundException";
inline constexpr char kInUse[] = "ResourceInUseException";
inline constexpr char kConditionFailed[] = "ConditionalCheckFailedException";

inline absl::Status Invalid(const std::string& field, const std::string& message) {
  return InvalidField(field, message, kValidation);
}
// DynamoDB's naming rule for tables: 3 to 255 of [a-zA-Z0-9_.-].
inline bool ValidTableName(const std::string& name) {
  if (name.size() < 3 || name.size() > 255) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}
// INVALID_ARGUMENT (ValidationException) naming `field` unless ValidTableName.
inline absl::Status CheckTableName(const std::string& name, const std::string& field) {
  if (ValidTableName(name)) return absl::OkStatus();
  return Invalid(field, absl::StrCat("table name of ", name.size(),
                                     " characters: must be 3 to 255 characters of letters, "
                                     "digits, '_', '-' and '.'"));
}
inline absl::Status TableNotFound(const std::string& name) {
  return ErrorWithReason(absl::StatusCode::kNotFound, kNotFound,
                         absl::StrCat("Requested resource not found: Table: ", name, " not found"));
}
inline absl::Status ConditionFailed() {
  return ErrorWithReason(absl::StatusCode::kFailedPrecondition, kConditionFailed,
                         "The conditional request failed");
}

// What reads need to hide items expired by TTL but not yet swept.
struct ReadView {
  std::string ttl_attribute;  // empty: TTL disabled
  Decimal now_seconds;

  bool Expired(const AttributeMap& item) const {
    if (ttl_attribute.empty()) return false;
    auto it = item.find(ttl_attribute);
    if (it == item.end() || it->second.value_case() != v1::AttributeValue::kN) return false;
    absl::StatusOr<Decimal> d = Decimal::Parse(it->second.n());
    return d.ok() && d->Compare(now_seconds) <= 0;
  }
  // The same from the TTL attribute's number text (absent: not expiring).
  bool ExpiredNumber(std::optional<std::string_view> number) const {
    if (ttl_attribute.empty() || !number) return false;
    absl::StatusOr<Decimal> d = Decimal::Parse(std::string(*number));
    return d.ok() && d->Compare(now_seconds) <= 0;
  }
};

inline Decimal SecondsOf(absl::Time t) {
  absl::StatusOr<Decimal> d = Decimal::Parse(absl::StrCat(absl::ToUnixSeconds(t)));
  return d.ok() ? *d : Decimal();
}

inline bool WantCapacity(v1::ReturnConsumedCapacity mode) {
  return mode == v1::RETURN_CONSUMED_CAPACITY_TOTAL ||
         mode == v1::RETURN_CONSUMED_CAPACITY_INDEXES;
}

inline void FillCapacity(const std::string& table, double read, double write,
                         v1::ReturnConsumedCapacity mode, v1::ConsumedCapacity* out) {
  if (!WantCapacity(mode)) return;
  out->set_table_name(table);
  out->set_read_capacity_units(read);
  out->set_write_capacity_units(write);
  out->set_capacity_units(read + write);
}

// Sets `response`'s consumed_capacity when `mode` asks for it (and leaves it
// unset otherwise).
template <typename Response>
void FillCapacity(const std::string& table, double read, double write,
                  v1::ReturnConsumedCapacity mode, Response* response) {
  if (!WantCapacity(mode)) return;
  FillCapacity(table, read, write, mode, response->mutable_consumed_capacity());
}

}  // namespace thingtank::tables::internal
