#include "services/queues/validation.h"

#include <cctype>
#include <cstdlib>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/status.h"

namespace thingtank::queues {
namespace {

constexpr char kFifoSuffix[] = ".fifo";
constexpr char kBadAttribute[] = "InvalidAttributeValue";

bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
}

// Decodes UTF-8 and checks every code point is one SQS accepts:
// #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF.
bool ValidSqsText(const std::string& s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    uint32_t cp;
    int len;
    if (c < 0x80) {
      cp = c;
      len = 1;
    } else if ((c & 0xe0) == 0xc0) {
      cp = c & 0x1f;
      len = 2;
    } else if ((c & 0xf0) == 0xe0) {
      cp = c & 0x0f;
      len = 3;
    } else if ((c & 0xf8) == 0xf0) {
      cp = c & 0x07;
      len = 4;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (int k = 1; k < len; ++k) {
      const unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Overlong encodings.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) {
      return false;
    }
    const bool ok = cp == 0x9 || cp == 0xa || cp == 0xd || (cp >= 0x20 && cp <= 0xd7ff) ||
                    (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
    if (!ok) return false;
    i += len;
  }
  return true;
}

bool ValidNumber(const std::string& s) {
  // [+-]?digits[.digits]?([eE][+-]?digits)? or [+-]?.digits...
  size_t i = 0;
  const size_t n = s.size();
  if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
  size_t digits = 0;
  while (i < n && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  if (i < n && s[i] == '.') {
    ++i;
    while (i < n && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    size_t exp_digits = 0;
    while (i < n && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == n;
}

absl::Status ValidateAttributeName(const std::string& name, const std::string& field) {
  if (name.empty() || name.size() > 256) {
    return InvalidField(field, "attribute names have 1 to 256 characters");
  }
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) {
      return InvalidField(field, "attribute names use letters, digits, '_', '-' and '.'");
    }
  }
  if (name.front() == '.' || name.back() == '.' || absl::StrContains(name, "..")) {
    return InvalidField(field, "attribute names cannot start or end with '.' or contain '..'");
  }
  if (absl::StartsWithIgnoreCase(name, "AWS.") || absl::StartsWithIgnoreCase(name, "Amazon.")) {
    return InvalidField(field, "attribute names cannot start with \"AWS.\" or \"Amazon.\"");
  }
  return absl::OkStatus();
}

absl::Status ValidateAttributeValue(const v1::MessageAttributeValue& value,
                                    const std::string& field) {
  const std::string& type = value.data_type();
  std::string base = type.substr(0, type.find('.'));
  const bool has_custom = type.find('.') != std::string::npos;
  if ((base != "String" && base != "Number" && base != "Binary") ||
      (has_custom && type.size() == base.size() + 1) || type.size() > 256) {
    return InvalidField(absl::StrCat(field, ".data_type"),
                        "must be String, Number or Binary, optionally followed by .<custom>");
  }
  if (base == "Binary") {
    if (value.value_case() != v1::MessageAttributeValue::kBinaryValue ||
        value.binary_value().empty()) {
      return InvalidField(absl::StrCat(field, ".binary_value"),
                          "a Binary attribute needs a non-empty binary_value");
    }
    return absl::OkStatus();
  }
  const std::string sfield = absl::StrCat(field, ".string_value");
  if (value.value_case() != v1::MessageAttributeValue::kStringValue ||
      value.string_value().empty()) {
    return InvalidField(sfield, absl::StrCat("a ", base, " attribute needs a non-empty string_value"));
  }
  if (!ValidSqsText(value.string_value())) {
    return InvalidField(sfield, "contains characters outside the allowed set");
  }
  if (base == "Number" && !ValidNumber(value.string_value())) {
    return InvalidField(sfield, "is not a number");
  }
  return absl::OkStatus();
}

absl::Status CheckAttributeRanges(const v1::QueueAttributes& a, bool fifo) {
  TT_RETURN_IF_ERROR(ValidateDuration(a.visibility_timeout(), absl::ZeroDuration(),
                                      kMaxVisibilityTimeout, "attributes.visibility_timeout",
                                      kBadAttribute));
  TT_RETURN_IF_ERROR(ValidateDuration(a.message_retention_period(), absl::Seconds(60),
                                      absl::Hours(24 * 14),
                                      "attributes.message_retention_period", kBadAttribute));
  TT_RETURN_IF_ERROR(
      ValidateDuration(a.delay(), absl::ZeroDuration(), kMaxDelay, "attributes.delay", kBadAttribute));
  if (a.maximum_message_size() < 1024 || a.maximum_message_size() > (1 << 20)) {
    return InvalidField("attributes.maximum_message_size", "must be 1024 to 1048576 bytes",
                        kBadAttribute);
  }
  TT_RETURN_IF_ERROR(ValidateDuration(a.receive_message_wait_time(), absl::ZeroDuration(),
                                      kMaxWaitTime, "attributes.receive_message_wait_time",
                                      kBadAttribute));
  if (a.has_redrive_policy()) {
    const auto& rp = a.redrive_policy();
    TT_RETURN_IF_ERROR(ValidateQueueName(rp.dead_letter_queue_name(),
                                         "attributes.redrive_policy.dead_letter_queue_name"));
    if (rp.max_receive_count() < 1 || rp.max_receive_count() > 1000) {
      return InvalidField("attributes.redrive_policy.max_receive_count", "must be 1 to 1000",
                          kBadAttribute);
    }
  }
  if (!fifo && a.content_based_deduplication()) {
    return InvalidField("attributes.content_based_deduplication", "only FIFO queues have it",
                        kBadAttribute);
  }
  return absl::OkStatus();
}

void ApplySet(const v1::QueueAttributes& from, v1::QueueAttributes* to) {
  if (from.has_visibility_timeout()) *to->mutable_visibility_timeout() = from.visibility_timeout();
  if (from.has_message_retention_period()) {
    *to->mutable_message_retention_period() = from.message_retention_period();
  }
  if (from.has_delay()) *to->mutable_delay() = from.delay();
  if (from.has_maximum_message_size()) to->set_maximum_message_size(from.maximum_message_size());
  if (from.has_receive_message_wait_time()) {
    *to->mutable_receive_message_wait_time() = from.receive_message_wait_time();
  }
  if (from.has_redrive_policy()) {
    if (from.redrive_policy().dead_letter_queue_name().empty()) {
      to->clear_redrive_policy();
    } else {
      *to->mutable_redrive_policy() = from.redrive_policy();
    }
  }
  if (from.has_content_based_deduplication()) {
    to->set_content_based_deduplication(from.content_based_deduplication());
  }
}

}  // namespace

bool IsFifoName(const std::string& name) { return absl::EndsWith(name, kFifoSuffix); }

absl::Status ValidateQueueName(const std::string& name, const std::string& field) {
  if (name.empty() || name.size() > kMaxQueueNameLength) {
    return InvalidField(field, "queue names have 1 to 80 characters");
  }
  const size_t stem = IsFifoName(name) ? name.size() - 5 : name.size();
  if (stem == 0) return InvalidField(field, "queue name is empty before \".fifo\"");
  for (size_t i = 0; i < stem; ++i) {
    if (!IsNameChar(name[i])) {
      return InvalidField(field,
                          "queue names use letters, digits, '-' and '_' (FIFO: ending in .fifo)");
    }
  }
  return absl::OkStatus();
}

absl::Duration ToDuration(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

void SetDuration(absl::Duration d, google::protobuf::Duration* out) {
  const int64_t nanos = absl::ToInt64Nanoseconds(d);
  out->set_seconds(nanos / 1'000'000'000);
  out->set_nanos(static_cast<int32_t>(nanos % 1'000'000'000));
}

absl::Status ValidateDuration(const google::protobuf::Duration& d, absl::Duration min,
                              absl::Duration max, const std::string& field,
                              const std::string& reason) {
  if (d.nanos() < 0 || d.nanos() >= 1'000'000'000 || d.seconds() < 0) {
    return InvalidField(field, "must be a non-negative duration", reason);
  }
  const absl::Duration v = ToDuration(d);
  if (v < min || v > max) {
    return InvalidField(field,
                        absl::StrCat("must be between ", absl::FormatDuration(min), " and ",
                                     absl::FormatDuration(max)),
                        reason);
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::QueueAttributes> AttributesForCreate(const std::string& name,
                                                        const v1::QueueAttributes& requested) {
  const bool fifo_name = IsFifoName(name);
  const bool fifo = requested.fifo_queue();
  if (fifo && !fifo_name) return InvalidField("queue_name", "FIFO queue names end in \".fifo\"");
  if (!fifo && fifo_name) {
    return InvalidField("attributes.fifo_queue", "a queue named *.fifo needs fifo_queue=true",
                        kBadAttribute);
  }
  v1::QueueAttributes a;
  SetDuration(absl::Seconds(30), a.mutable_visibility_timeout());
  SetDuration(absl::Hours(24 * 4), a.mutable_message_retention_period());
  SetDuration(absl::ZeroDuration(), a.mutable_delay());
  a.set_maximum_message_size(1 << 20);
  SetDuration(absl::ZeroDuration(), a.mutable_receive_message_wait_time());
  a.set_fifo_queue(fifo);
  a.set_content_based_deduplication(false);
  ApplySet(requested, &a);
  TT_RETURN_IF_ERROR(CheckAttributeRanges(a, fifo));
  if (a.has_redrive_policy() && a.redrive_policy().dead_letter_queue_name() == name) {
    return InvalidField("attributes.redrive_policy.dead_letter_queue_name",
                        "a queue cannot be its own dead-letter queue", kBadAttribute);
  }
  return a;
}

absl::StatusOr<v1::QueueAttributes> MergeAttributes(const v1::QueueAttributes& current,
                                                    const v1::QueueAttributes& requested) {
  if (requested.has_fifo_queue() && requested.fifo_queue() != current.fifo_queue()) {
    return InvalidField("attributes.fifo_queue", "cannot change after creation", kBadAttribute);
  }
  v1::QueueAttributes a = current;
  ApplySet(requested, &a);
  TT_RETURN_IF_ERROR(CheckAttributeRanges(a, a.fifo_queue()));
  return a;
}

absl::Status ValidateMessage(const MessageInput& in, const v1::QueueAttributes& queue,
                             const std::string& prefix, int64_t* size) {
  const std::string& body = *in.body;
  if (body.empty()) return InvalidField(prefix + "message_body", "must not be empty");
  if (!ValidSqsText(body)) {
    return InvalidField(prefix + "message_body", "contains characters outside the allowed set",
                        "InvalidMessageContents");
  }
  if (in.attributes->size() > static_cast<size_t>(kMaxMessageAttributes)) {
    return InvalidField(prefix + "message_attributes",
                        absl::StrCat("at most ", kMaxMessageAttributes, " attributes, got ",
                                     in.attributes->size()));
  }
  int64_t total = static_cast<int64_t>(body.size());
  for (const auto& [name, value] : *in.attributes) {
    const std::string field = absl::StrCat(prefix, "message_attributes[\"", name, "\"]");
    TT_RETURN_IF_ERROR(ValidateAttributeName(name, field));
    TT_RETURN_IF_ERROR(ValidateAttributeValue(value, field));
    total += static_cast<int64_t>(name.size() + value.data_type().size() +
                                  (value.value_case() == v1::MessageAttributeValue::kBinaryValue
                                       ? value.binary_value().size()
                                       : value.string_value().size()));
  }
  if (total > queue.maximum_message_size()) {
    return InvalidField(prefix + "message_body",
                        absl::StrCat("message of ", total, " bytes (body plus attributes) exceeds ",
                                     "the queue's maximum_message_size of ",
                                     queue.maximum_message_size()));
  }
  const bool fifo = queue.fifo_queue();
  if (in.delay != nullptr) {
    if (fifo) {
      if (ToDuration(*in.delay) != absl::ZeroDuration()) {
        return InvalidField(prefix + "delay", "per-message delay is not supported on FIFO queues");
      }
    } else {
      TT_RETURN_IF_ERROR(
          ValidateDuration(*in.delay, absl::ZeroDuration(), kMaxDelay, prefix + "delay"));
    }
  }
  auto check_fifo_id = [&](const std::string& v, const std::string& field) -> absl::Status {
    if (v.size() > 128) return InvalidField(field, "at most 128 characters");
    for (char c : v) {
      if (c < 0x21 || c > 0x7e) {
        return InvalidField(field, "letters, digits and punctuation only");
      }
    }
    return absl::OkStatus();
  };
  if (fifo) {
    if (in.group_id->empty()) {
      return InvalidField(prefix + "message_group_id", "required on FIFO queues",
                          "MissingParameter");
    }
    TT_RETURN_IF_ERROR(check_fifo_id(*in.group_id, prefix + "message_group_id"));
    if (in.dedup_id->empty() && !queue.content_based_deduplication()) {
      return InvalidField(prefix + "message_deduplication_id",
                          "required unless the queue has content_based_deduplication",
                          "InvalidParameterValue");
    }
    TT_RETURN_IF_ERROR(check_fifo_id(*in.dedup_id, prefix + "message_deduplication_id"));
  } else {
    if (!in.group_id->empty()) {
      return InvalidField(prefix + "message_group_id", "only FIFO queues have message groups");
    }
    if (!in.dedup_id->empty()) {
      return InvalidField(prefix + "message_deduplication_id",
                          "only FIFO queues deduplicate messages");
    }
  }
  *size = total;
  return absl::OkStatus();
}

absl::Status ValidateBatchIds(const std::vector<const std::string*>& ids) {
  if (ids.empty()) {
    return InvalidField("entries", "a batch needs at least one entry", "EmptyBatchRequest");
  }
  if (ids.size() > static_cast<size_t>(kMaxBatchEntries)) {
    return InvalidField("entries",
                        absl::StrCat("at most ", kMaxBatchEntries, " entries, got ", ids.size()),
                        "TooManyEntriesInBatchRequest");
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string& id = *ids[i];
    bool ok = !id.empty() && id.size() <= 80;
    for (char c : id) ok = ok && IsNameChar(c);
    if (!ok) {
      return InvalidField(absl::StrCat("entries[", i, "].id"),
                          "entry ids have 1 to 80 letters, digits, '-' and '_'",
                          "InvalidBatchEntryId");
    }
    if (!seen.insert(id).second) {
      return InvalidField("entries", absl::StrCat("entry id \"", id, "\" is used twice"),
                          "BatchEntryIdsNotDistinct");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<int> ValidatePageSize(int32_t page_size) {
  if (page_size < 0 || page_size > kMaxPageSize) {
    return InvalidField("page_size", "must be 0 to 1000");
  }
  return page_size == 0 ? kMaxPageSize : page_size;
}

}  // namespace thingtank::queues
