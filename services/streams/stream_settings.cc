// Stream settings: tags, retention, encryption, mode, limits and counts.
#include <map>

#include "absl/strings/str_cat.h"
#include "services/common/status.h"
#include "services/streams/core/names.h"
#include "services/streams/stream_service.h"
#include "services/streams/stream_service_internal.h"

namespace thingtank::streams {

using internal::CheckActive;
using internal::Micros;
using internal::PageLimit;
using internal::StreamNotFound;
using internal::ValidateTags;
using internal::kMaxTags;

namespace {

constexpr int kMinRetentionHours = 24;
constexpr int kMaxRetentionHours = 8760;

}  // namespace

absl::StatusOr<v1::AddTagsToStreamResponse> StreamService::AddTagsToStream(const v1::AddTagsToStreamRequest& r) {
  TT_RETURN_IF_ERROR(ValidateStreamName(r.stream_name()));
  if (r.tags().empty()) return FieldError("tags", "InvalidArgumentException", "is required");
  TT_RETURN_IF_ERROR(ValidateTags(r.tags(), "tags"));
  TT_ASSIGN_OR_RETURN(std::shared_ptr<StreamState> s, Find(r.stream_name()));
  absl::MutexLock lock(&s->mu);
  if (s->gone) return StreamNotFound(r.stream_name());
  google::protobuf::Map<std::string, std::string> tags = s->record.tags();
  for (const auto& [key, value] : r.tags()) tags[key] = value;
  if (static_cast<int>(tags.size()) > kMaxTags) {
    return Error("LimitExceededException", "a stream has at most 50 tags");
  }
  const storage::StreamRecord before = s->record;
  *s->record.mutable_tags() = tags;
  if (absl::Status saved = Save(*s); !saved.ok()) {
    s->record = before;
    return saved;
  }
  return v1::AddTagsToStreamResponse();
}

absl::StatusOr<v1::RemoveTagsFromStreamResponse> StreamService::RemoveTagsFromStream(
    const v1::RemoveTagsFromStreamRequest& r) {
  TT_RETURN_IF_ERROR(ValidateStreamName(r.stream_name()));
  if (r.tag_keys().empty()) return FieldError("tag_keys", "InvalidArgumentException", "is required");
  TT_ASSIGN_OR_RETURN(std::shared_ptr<StreamState> s, Find(r.stream_name()));
  absl::MutexLock lock(&s->mu);
  if (s->gone) return StreamNotFound(r.stream_name());
  const storage::StreamRecord before = s->record;
  for (const std::string& key : r.tag_keys()) s->record.mutable_tags()->erase(key);
  if (absl::Status saved = Save(*s); !saved.ok()) {
    s->record = before;
    return saved;
  }
  return v1::RemoveTagsFromStreamResponse();
}

absl::StatusOr<v1::ListTagsForStreamResponse> StreamService::ListTagsForStream(
    const v1::ListTagsForStreamRequest& r) {
  TT_RETURN_IF_ERROR(ValidateStreamName(r.stream_name()));
  TT_ASSIGN_OR_RETURN(const int limit, PageLimit(r.limit(), 50, 50, "limit"));
  TT_ASSIGN_OR_RETURN(std::shared_ptr<StreamState> s, Find(r.stream_name()));
  absl::MutexLock lock(&s->mu);
  if (s->gone) return StreamNotFound(r.stream_name());
  std::map<std::string, std::string> sorted(s->record.tags().begin(), s->record.tags().end());
  v1::ListTagsForStreamResponse out;
  for (auto it = r.exclusive_start_tag_key().empty() ? sorted.begin() : sorted.upper_bound(r.exclusive_start_tag_key());
       it != sorted.end(); ++it) {
    if (static_cast<int>(out.tags_size()) == limit) {
      out.set_has_more_tags(true);
      break;
    }
    (*out.mutable_tags())[it->first] = it->second;
  }
  return out;
}

namespace {

absl::Status ValidateRetention(int hours) {
  if (hours < kMinRetentionHours || hours > kMaxRetentionHours) {
    return FieldError("retention_period_hours", "InvalidArgumentException", "must be between 24 and 8760");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status StreamService::SaveUpdating(const std::shared_ptr<StreamState>& s, const storage::StreamRecord& before,
                                         absl::Time now) {
  s->record.set_status(v1::STREAM_STATUS_UPDATING);
  s->record.set_transition_end_micros(Micros(now + options_.transition));
  if (absl::Status saved = Save(*s); !saved.ok()) {
    s->record = before;
    return saved;
  }
  ArmTransition(s, now + options_.transition);
  return absl::OkStatus();
}

absl::Status StreamService::ChangeRetention(const std::string& stream, int hours, bool increase) {
  TT_RETURN_IF_ERROR(ValidateStreamName(stream));
  TT_RETURN_IF_ERROR(ValidateRetention(hours));
  TT_ASSIGN_OR_RETURN(std::shared_ptr<StreamState> s, Find(stream));
  absl::MutexLock lock(&s->mu);
  TT_RETURN_IF_ERROR(CheckActive(*s));
  const int current = s->record.retention_hours();
  if (increase ? hours <= current : hours >= current) {
    return FieldError("retention_period_hours", "InvalidArgumentException",
                      absl::StrCat("Requested retention period (", hours, " hours) for stream ", stream, " must be ",
                                   increase ? "longer" : "shorter", " than the existing retention period (", current,
                                   " hours). Use ",
                                   increase ? "DecreaseStreamRetentionPeriod." : "IncreaseStreamRetentionPeriod."));
  }
  s->record.set_retention_hours(hours);
  if (absl::Status saved = Save(*s); !saved.ok()) {
    s->record.set_retention_hours(current);
    return saved;
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::IncreaseStreamRetentionPeriodResponse> StreamService::IncreaseStreamRetentionPeriod(
    const v1::IncreaseStreamRetentionPeriodRequest& r) {
  TT_RETURN_IF_ERROR(ChangeRetention(r.stream_name(), r.retention_period_hours(), true));
  return v1::IncreaseStreamRetentionPeriodResponse();
}

absl::StatusOr<v1::DecreaseStreamRetentionPeriodResponse> StreamService::DecreaseStreamRetentionPeriod(
    const v1::DecreaseStreamRetentionPeriodRequest& r) {
  TT_RETURN_IF_ERROR(ChangeRetention(r.stream_name(), r.retention_period_hours(), false));
  return v1::DecreaseStreamRetentionPeriodResponse();
}

absl::StatusOr<v1::StartStreamEncryptionResponse> StreamService::StartStreamEncryption(
    const v1::StartStreamEncryptionRequest& r) {
  TT_RETURN_IF_ERROR(ValidateStreamName(r.stream_name()));
  if (r.encryption_type() != v1::ENCRYPTION_TYPE_KMS) {
    return FieldError("encryption_type", "InvalidArgumentException", "must be KMS");
  }
  if (r.key_id().empty() || r.key_id().size() > 2048) {
    return FieldError("key_id", "InvalidArgumentException", "must be 1-2048 characters");
  }
  TT_ASSIGN_OR_RETURN(std::shared_ptr<StreamState> s, Find(r.stream_name()));
  absl::MutexLock lock(&s->mu);
  TT_RETURN_IF_ERROR(CheckActive(*s));
  const storage::StreamRecord before = s->record;
  const absl::Time now = clock_->Now();
  s->record.set_encryption_type(v1::ENCRYPTION_TYPE_KMS);
  s->record.set_key_id(r.key_id());
  TT_RETURN_IF_ERROR(SaveUpdating(s, before, now));
  return v1::StartStreamEncryptionResponse();
}

absl::StatusOr<v1::StopStreamEncryptionResponse> StreamService::StopStreamEncryption(
    const v1::StopStreamEncryptionRequest& r) {
  TT_RETURN_IF_ERROR(ValidateStreamName(r.stream_name()));
  if (r.encryption_type() != v1::ENCRYPTION_TYPE_KMS) {
    return FieldError("encryption_type", "InvalidArgumentException", "must be KMS");
  }
  TT_ASSIGN_OR_RETURN(std::shared_ptr<StreamState> s, Find(r.stream_name()));
  absl::MutexLock lock(&s->mu);
  TT_RETURN_IF_ERROR(CheckActive(*s));
  const storage::StreamRecord before = s->record;
  const absl::Time now = clock_->Now();
  s->record.set_encryption_type(v1::ENCRYPTION_TYPE_NONE);
  s->record.clear_key_id();
  TT_RETURN_IF_ERROR(SaveUpdating(s, before, now));
  return v1::StopStreamEncryptionResponse();
}

absl::StatusOr<v1::UpdateStreamModeResponse> StreamService::UpdateStreamMode(const v1::UpdateStreamModeRequest& r) {
  if (r.stream_mode() != v1::STREAM_MODE_PROVISIONED && r.stream_mode() != v1::STREAM_MODE_ON_DEMAND) {
    return FieldError("stream_mode", "InvalidArgumentException", "must be PROVISIONED or ON_DEMAND");
  }
  TT_ASSIGN_OR_RETURN(std::shared_ptr<StreamState> s, FindByArn(r.stream_arn(), "stream_arn"));
  if (r.stream_mode() == v1::STREAM_MODE_ON_DEMAND) {
    TT_ASSIGN_OR_RETURN(v1::DescribeLimitsResponse limits, DescribeLimits({}));
    if (limits.on_demand_stream_count() >= limits.on_demand_stream_count_limit()) {
      return Error("LimitExceededException",
                   absl::StrCat("at most ", options_.on_demand_stream_limit, " on-demand streams"));
    }
  }
  absl::MutexLock lock(&s->mu);
  TT_RETURN_IF_ERROR(CheckActive(*s));
  if (s->record.mode() == r.stream_mode()) {
    return Error("ResourceInUseException", "the stream is already in this mode");
  }
  const storage::StreamRecord before = s->record;
  const absl::Time now = clock_->Now();
  s->record.set_mode(r.stream_mode());
  TT_RETURN_IF_ERROR(SaveUpdating(s, before, now));
  return v1::UpdateStreamModeResponse();
}

absl::StatusOr<v1::DescribeLimitsResponse> StreamService::DescribeLimits(const v1::DescribeLimitsRequest&) {
  std::vector<std::shared_ptr<StreamState>> all;
  {
    absl::ReaderMutexLock lock(&mu_);
    for (const auto& [name, s] : streams_) all.push_back(s);
  }
  v1::DescribeLimitsResponse out;
  out.set_shard_limit(options_.shard_limit);
  out.set_on_demand_stream_count_limit(options_.on_demand_stream_limit);
  for (const auto& s : all) {
    absl::MutexLock lock(&s->mu);
    if (s->gone) continue;
    out.set_open_shard_count(out.open_shard_count() + static_cast<int32_t>(s->open.size()));
    if (s->record.mode() == v1::STREAM_MODE_ON_DEMAND) {
      out.set_on_demand_stream_count(out.on_demand_stream_count() + 1);
    }
  }
  return out;
}

std::vector<StreamCounts> StreamService::Counts() const {
  std::vector<std::shared_ptr<StreamState>> all;
  {
    absl::ReaderMutexLock lock(&mu_);
    for (const auto& [name, s] : streams_) all.push_back(s);
  }
  std::vector<StreamCounts> out;
  for (const auto& s : all) {
    absl::MutexLock lock(&s->mu);
    if (s->gone) continue;
    out.push_back({s->record.name(), static_cast<int>(s->open.size()), s->record.consumers_size()});
  }
  return out;
}

}  // namespace thingtank::streams
