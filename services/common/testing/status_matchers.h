#pragma once

// GoogleTest matchers for absl::Status and absl::StatusOr<T> as domain code
// builds them (services/common/status.h):
//
//   EXPECT_THAT(service.CreateQueue(r),
//               IsStatus(absl::StatusCode::kInvalidArgument, "InvalidParameterValue",
//                        "queue_name"));
//   EXPECT_THAT(status, IsOk());
//
// IsStatus checks the code and the ErrorInfo reason, and the BadRequest field
// when one is given (an empty `field` does not check it).

#include <gmock/gmock.h>

#include <ostream>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/common/status.h"

namespace thingtank {
namespace status_matchers_internal {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

class IsStatusMatcher {
 public:
  IsStatusMatcher(absl::StatusCode code, std::string reason, std::string field)
      : code_(code), reason_(std::move(reason)), field_(std::move(field)) {}

  template <typename T>
  bool MatchAndExplain(const T& value, ::testing::MatchResultListener* listener) const {
    const absl::Status& s = GetStatus(value);
    bool ok = true;
    if (s.code() != code_) {
      *listener << "whose code is " << absl::StatusCodeToString(s.code());
      ok = false;
    }
    const std::string reason = ErrorReason(s);
    if (reason != reason_) {
      *listener << (ok ? "whose" : ",") << " reason is \"" << reason << "\"";
      ok = false;
    }
    if (!field_.empty()) {
      const std::string field = ErrorField(s);
      if (field != field_) {
        *listener << (ok ? "whose" : ",") << " field is \"" << field << "\"";
        ok = false;
      }
    }
    *listener << (ok ? "" : "; ") << "status: " << s;
    return ok;
  }
  void DescribeTo(std::ostream* os) const {
    *os << "has code " << absl::StatusCodeToString(code_) << ", reason \"" << reason_ << "\"";
    if (!field_.empty()) *os << " and field \"" << field_ << "\"";
  }
  void DescribeNegationTo(std::ostream* os) const {
    *os << "does not ";
    DescribeTo(os);
  }

 private:
  absl::StatusCode code_;
  std::string reason_;
  std::string field_;
};

class IsOkMatcher {
 public:
  template <typename T>
  bool MatchAndExplain(const T& value, ::testing::MatchResultListener* listener) const {
    const absl::Status& s = GetStatus(value);
    if (!s.ok()) *listener << "status: " << s;
    return s.ok();
  }
  void DescribeTo(std::ostream* os) const { *os << "is OK"; }
  void DescribeNegationTo(std::ostream* os) const { *os << "is not OK"; }
};

}  // namespace status_matchers_internal

// Matches an absl::Status or absl::StatusOr<T> with `code`, ErrorInfo reason
// `reason` (ErrorReason) and, unless `field` is empty, BadRequest field
// `field` (ErrorField).
inline ::testing::PolymorphicMatcher<status_matchers_internal::IsStatusMatcher> IsStatus(
    absl::StatusCode code, std::string reason, std::string field = "") {
  return ::testing::MakePolymorphicMatcher(
      status_matchers_internal::IsStatusMatcher(code, std::move(reason), std::move(field)));
}

// Matches an OK absl::Status or absl::StatusOr<T>.
inline ::testing::PolymorphicMatcher<status_matchers_internal::IsOkMatcher> IsOk() {
  return ::testing::MakePolymorphicMatcher(status_matchers_internal::IsOkMatcher());
}

}  // namespace thingtank
