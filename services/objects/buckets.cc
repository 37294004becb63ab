#include "services/objects/buckets.h"

#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "services/objects/core/listing.h"
#include "services/objects/core/names.h"
#include "services/objects/core/s3_errors.h"
#include "services/objects/storage/object_keys.h"

namespace thingtank::objects {
namespace {

using google::protobuf::util::TimeUtil;

constexpr size_t kMaxBucketTags = 50;
constexpr int kMaxLifecycleRules = 1000;
constexpr int kMaxCorsRules = 100;
constexpr char kDefaultRegion[] = "us-east-1";

bool HasAny(Db* db, rocksdb::ColumnFamilyHandle* cf, const std::string& prefix) {
  auto it = db->Scan(cf, prefix);
  it->SeekSuffix("");
  return it->Valid();
}

absl::Status ValidateLifecycle(const v1::PutBucketLifecycleConfigurationRequest& r) {
  if (r.rules_size() == 0 || r.rules_size() > kMaxLifecycleRules) {
    return s3::FieldError("rules", "MalformedXML", "between 1 and 1000 lifecycle rules");
  }
  std::set<std::string> ids;
  for (int i = 0; i < r.rules_size(); ++i) {
    const v1::LifecycleRule& rule = r.rules(i);
    std::string field = absl::StrCat("rules[", i, "]");
    if (rule.id().size() > 255) return s3::FieldError(field + ".id", "InvalidArgument", "ID length should not exceed allowed limit of 255");
    if (!rule.id().empty() && !ids.insert(rule.id()).second) {
      return s3::FieldError(field + ".id", "InvalidArgument", "Rule ID must be unique. Found same ID for more than one rule");
    }
    if (rule.status() == v1::LIFECYCLE_RULE_STATUS_UNSPECIFIED) {
      return s3::FieldError(field + ".status", "MalformedXML", "status must be ENABLED or DISABLED");
    }
    const auto& e = rule.expiration();
    bool expires = e.days() > 0 || e.has_date() || e.expired_object_delete_marker();
    bool noncurrent = rule.has_noncurrent_version_expiration();
    bool aborts = rule.has_abort_incomplete_multipart_upload();
    if (!expires && !noncurrent && !aborts) {
      return s3::FieldError(field, "InvalidRequest", "At least one action needs to be specified in a rule");
    }
    if (e.days() < 0) return s3::FieldError(field + ".expiration.days", "InvalidArgument", "'Days' for Expiration action must be a positive integer");
    if (e.days() > 0 && e.has_date()) {
      return s3::FieldError(field + ".expiration", "InvalidRequest", "Days and Date cannot both be set");
    }
    if (e.expired_object_delete_marker() && (e.days() > 0 || e.has_date())) {
      return s3::FieldError(field + ".expiration", "MalformedXML",
                            "ExpiredObjectDeleteMarker cannot be specified with Days or Date");
    }
    if (noncurrent && (rule.noncurrent_version_expiration().newer_noncurrent_versions() < 0 ||
                       rule.noncurrent_version_expiration().newer_noncurrent_versions() > 100)) {
      return s3::FieldError(field + ".noncurrent_version_expiration.newer_noncurrent_versions",
                            "InvalidArgument", "NewerNoncurrentVersions must be between 1 and 100");
    }
    if (e.expired_object_delete_marker() && !rule.filter().tags().empty()) {
      return s3::FieldError(field + ".expiration.expired_object_delete_marker", "InvalidRequest",
                            "ExpiredObjectDeleteMarker cannot be specified with tags");
    }
    if (noncurrent && rule.noncurrent_version_expiration().noncurrent_days() <= 0) {
      return s3::FieldError(field + ".noncurrent_version_expiration.noncurrent_days", "InvalidArgument",
                            "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer");
    }
    if (aborts && rule.abort_incomplete_multipart_upload().days_after_initiation() <= 0) {
      return s3::FieldError(field + ".abort_incomplete_multipart_upload.days_after_initiation",
                            "InvalidArgument", "'DaysAfterInitiation' must be a positive integer");
    }
    if (aborts && !rule.filter().tags().empty()) {
      return s3::FieldError(field + ".abort_incomplete_multipart_upload", "InvalidRequest",
                            "AbortIncompleteMultipartUpload cannot be specified with tags");
    }
  }
  return absl::OkStatus();
}

bool KnownEvent(std::string_view e) {
  static const char* const kEvents[] = {
      "s3:ObjectCreated:*", "s3:ObjectCreated:Put", "s3:ObjectCreated:Copy",
      "s3:ObjectCreated:CompleteMultipartUpload", "s3:ObjectRemoved:*", "s3:ObjectRemoved:Delete",
      "s3:ObjectRemoved:DeleteMarkerCreated", "s3:LifecycleExpiration:*",
      "s3:LifecycleExpiration:Delete", "s3:LifecycleExpiration:DeleteMarkerCreated"};
  return std::find(std::begin(kEvents), std::end(kEvents), e) != std::end(kEvents);
}

absl::Status ValidateNotifications(const v1::PutBucketNotificationConfigurationRequest& r) {
  for (int i = 0; i < r.configurations_size(); ++i) {
    const auto& c = r.configurations(i);
    std::string field = absl::StrCat("configurations[", i, "]");
    const std::string& arn = c.destination_arn();
    bool queue = absl::StartsWith(arn, "arn:aws:sqs:") && std::count(arn.begin(), arn.end(), ':') == 5 &&
                 arn.back() != ':';
    bool topic = absl::StartsWith(arn, "arn:thingtank:wamp:") && std::count(arn.begin(), arn.end(), ':') >= 4 &&
                 arn.back() != ':';
    if (!queue && !topic) {
      return s3::FieldError(field + ".destination_arn", "InvalidArgument",
                            "destination must be arn:aws:sqs:<region>:<account>:<queue> or "
                            "arn:thingtank:wamp:<realm>:<topic>");
    }
    if (c.events_size() == 0) return s3::FieldError(field + ".events", "InvalidArgument", "at least one event");
    for (const std::string& e : c.events()) {
      if (!KnownEvent(e)) {
        return s3::FieldError(field + ".events", "InvalidArgument",
                              absl::StrCat("The event is not supported for notifications: ", e));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status BucketOps::Change(const std::string& bucket,
                               const std::function<absl::Status(storage::BucketRecord*)>& change) {
  return catalog_->Run([&](Txn& txn) -> absl::Status {
    TT_ASSIGN_OR_RETURN(storage::BucketRecord record, txn.Bucket(bucket));
    TT_RETURN_IF_ERROR(change(&record));
    txn.PutBucket(record);
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::CreateBucketResponse> BucketOps::CreateBucket(const v1::CreateBucketRequest& r) {
  TT_RETURN_IF_ERROR(ValidateBucketName(r.bucket()));
  TT_RETURN_IF_ERROR(catalog_->Run([&](Txn& txn) -> absl::Status {
    if (txn.Bucket(r.bucket()).ok()) {
      return s3::Error("BucketAlreadyOwnedByYou",
                       "Your previous request to create the named bucket succeeded and you already own it.",
                       {{"BucketName", r.bucket()}});
    }
    storage::BucketRecord record;
    record.set_name(r.bucket());
    record.set_region(r.location_constraint().empty() ? kDefaultRegion : r.location_constraint());
    record.set_created_micros(absl::ToUnixMicros(txn.now()));
    txn.PutBucket(record);
    return absl::OkStatus();
  }));
  v1::CreateBucketResponse response;
  response.set_location(absl::StrCat("/", r.bucket()));
  return response;
}

absl::StatusOr<v1::HeadBucketResponse> BucketOps::HeadBucket(const v1::HeadBucketRequest& r) {
  TT_ASSIGN_OR_RETURN(storage::BucketRecord record, catalog_->GetBucket(r.bucket()));
  v1::HeadBucketResponse response;
  response.set_region(record.region());
  *response.mutable_creation_date() = TimeUtil::MicrosecondsToTimestamp(record.created_micros());
  return response;
}

absl::StatusOr<v1::ListBucketsResponse> BucketOps::ListBuckets(const v1::ListBucketsRequest& r) {
  if (r.max_buckets() < 0 || r.max_buckets() > 10000) {
    return s3::FieldError("max_buckets", "InvalidArgument", "max_buckets must be between 1 and 10000");
  }
  std::string after;
  if (!r.continuation_token().empty()) {
    TT_ASSIGN_OR_RETURN(auto token, DecodeListToken(r.continuation_token()));
    after = token.first;
  }
  int limit = r.max_buckets() == 0 ? 10000 : r.max_buckets();
  TT_ASSIGN_OR_RETURN(std::vector<storage::BucketRecord> all, catalog_->ListBuckets());
  v1::ListBucketsResponse response;
  response.mutable_owner()->set_id("thingtank");
  response.mutable_owner()->set_display_name("thingtank");
  for (const storage::BucketRecord& b : all) {
    if (!absl::StartsWith(b.name(), r.prefix())) continue;
    if (!after.empty() && b.name() <= after) continue;
    if (response.buckets_size() == limit) {
      response.set_continuation_token(EncodeListToken(response.buckets(limit - 1).name()));
      break;
    }
    v1::Bucket* out = response.add_buckets();
    out->set_name(b.name());
    out->set_region(b.region());
    *out->mutable_creation_date() = TimeUtil::MicrosecondsToTimestamp(b.created_micros());
  }
  return response;
}

absl::StatusOr<v1::DeleteBucketResponse> BucketOps::DeleteBucket(const v1::DeleteBucketRequest& r) {
  TT_RETURN_IF_ERROR(catalog_->Run([&](Txn& txn) -> absl::Status {
    TT_RETURN_IF_ERROR(txn.Bucket(r.bucket()).status());
    std::string prefix = keys::BucketPrefix(r.bucket());
    if (HasAny(txn.db(), txn.cf(keys::kVersions), prefix) ||
        HasAny(txn.db(), txn.cf(keys::kUploads), prefix)) {
      return s3::Error("BucketNotEmpty", "The bucket you tried to delete is not empty",
                       {{"BucketName", r.bucket()}});
    }
    txn.DeleteBucket(r.bucket());
    return absl::OkStatus();
  }));
  return v1::DeleteBucketResponse();
}

absl::StatusOr<v1::PutBucketTaggingResponse> BucketOps::PutBucketTagging(
    const v1::PutBucketTaggingRequest& r) {
  TT_RETURN_IF_ERROR(ValidateTags(r.tags(), kMaxBucketTags, "tags"));
  TT_RETURN_IF_ERROR(Change(r.bucket(), [&](storage::BucketRecord* b) {
    *b->mutable_tags() = r.tags();
    b->set_has_tags(true);
    return absl::OkStatus();
  }));
  return v1::PutBucketTaggingResponse();
}

absl::StatusOr<v1::GetBucketTaggingResponse> BucketOps::GetBucketTagging(
    const v1::GetBucketTaggingRequest& r) {
  TT_ASSIGN_OR_RETURN(storage::BucketRecord b, catalog_->GetBucket(r.bucket()));
  if (!b.has_tags()) return s3::Error("NoSuchTagSet", "The TagSet does not exist");
  v1::GetBucketTaggingResponse response;
  *response.mutable_tags() = b.tags();
  return response;
}

absl::StatusOr<v1::DeleteBucketTaggingResponse> BucketOps::DeleteBucketTagging(
    const v1::DeleteBucketTaggingRequest& r) {
  TT_RETURN_IF_ERROR(Change(r.bucket(), [](storage::BucketRecord* b) {
    b->clear_tags();
    b->set_has_tags(false);
    return absl::OkStatus();
  }));
  return v1::DeleteBucketTaggingResponse();
}

absl::StatusOr<v1::PutBucketVersioningResponse> BucketOps::PutBucketVersioning(
    const v1::PutBucketVersioningRequest& r) {
  if (r.status() != v1::VERSIONING_STATUS_ENABLED && r.status() != v1::VERSIONING_STATUS_SUSPENDED) {
    return s3::FieldError("status", "MalformedXML", "status must be ENABLED or SUSPENDED");
  }
  TT_RETURN_IF_ERROR(Change(r.bucket(), [&](storage::BucketRecord* b) {
    b->set_versioning(r.status());
    return absl::OkStatus();
  }));
  return v1::PutBucketVersioningResponse();
}

absl::StatusOr<v1::GetBucketVersioningResponse> BucketOps::GetBucketVersioning(
    const v1::GetBucketVersioningRequest& r) {
  TT_ASSIGN_OR_RETURN(storage::BucketRecord b, catalog_->GetBucket(r.bucket()));
  v1::GetBucketVersioningResponse response;
  response.set_status(b.versioning());
  return response;
}

absl::StatusOr<v1::PutBucketLifecycleConfigurationResponse> BucketOps::PutBucketLifecycleConfiguration(
    const v1::PutBucketLifecycleConfigurationRequest& r) {
  TT_RETURN_IF_ERROR(ValidateLifecycle(r));
  TT_RETURN_IF_ERROR(Change(r.bucket(), [&](storage::BucketRecord* b) {
    *b->mutable_lifecycle_rules() = r.rules();
    for (int i = 0; i < b->lifecycle_rules_size(); ++i) {
      if (b->lifecycle_rules(i).id().empty()) b->mutable_lifecycle_rules(i)->set_id(absl::StrCat("rule-", i + 1));
    }
    return absl::OkStatus();
  }));
  return v1::PutBucketLifecycleConfigurationResponse();
}

absl::StatusOr<v1::GetBucketLifecycleConfigurationResponse> BucketOps::GetBucketLifecycleConfiguration(
    const v1::GetBucketLifecycleConfigurationRequest& r) {
  TT_ASSIGN_OR_RETURN(storage::BucketRecord b, catalog_->GetBucket(r.bucket()));
  if (b.lifecycle_rules_size() == 0) {
    return s3::Error("NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist");
  }
  v1::GetBucketLifecycleConfigurationResponse response;
  *response.mutable_rules() = b.lifecycle_rules();
  return response;
}

absl::StatusOr<v1::DeleteBucketLifecycleResponse> BucketOps::DeleteBucketLifecycle(
    const v1::DeleteBucketLifecycleRequest& r) {
  TT_RETURN_IF_ERROR(Change(r.bucket(), [](storage::BucketRecord* b) {
    b->clear_lifecycle_rules();
    return absl::OkStatus();
  }));
  return v1::DeleteBucketLifecycleResponse();
}

absl::StatusOr<v1::PutBucketNotificationConfigurationResponse>
BucketOps::PutBucketNotificationConfiguration(const v1::PutBucketNotificationConfigurationRequest& r) {
  TT_RETURN_IF_ERROR(ValidateNotifications(r));
  TT_RETURN_IF_ERROR(Change(r.bucket(), [&](storage::BucketRecord* b) {
    *b->mutable_notifications() = r.configurations();
    for (int i = 0; i < b->notifications_size(); ++i) {
      if (b->notifications(i).id().empty()) b->mutable_notifications(i)->set_id(absl::StrCat("notification-", i + 1));
    }
    return absl::OkStatus();
  }));
  return v1::PutBucketNotificationConfigurationResponse();
}

absl::StatusOr<v1::GetBucketNotificationConfigurationResponse>
BucketOps::GetBucketNotificationConfiguration(const v1::GetBucketNotificationConfigurationRequest& r) {
  TT_ASSIGN_OR_RETURN(storage::BucketRecord b, catalog_->GetBucket(r.bucket()));
  v1::GetBucketNotificationConfigurationResponse response;
  *response.mutable_configurations() = b.notifications();
  return response;
}

absl::StatusOr<v1::PutBucketCorsResponse> BucketOps::PutBucketCors(const v1::PutBucketCorsRequest& r) {
  if (r.rules_size() == 0 || r.rules_size() > kMaxCorsRules) {
    return s3::FieldError("rules", "MalformedXML", "between 1 and 100 CORS rules");
  }
  for (int i = 0; i < r.rules_size(); ++i) {
    const v1::CorsRule& rule = r.rules(i);
    if (rule.allowed_methods_size() == 0 || rule.allowed_origins_size() == 0) {
      return s3::FieldError(absl::StrCat("rules[", i, "]"), "MalformedXML",
                            "a CORS rule needs allowed methods and allowed origins");
    }
    for (const std::string& m : rule.allowed_methods()) {
      if (m != "GET" && m != "PUT" && m != "POST" && m != "DELETE" && m != "HEAD") {
        return s3::FieldError(absl::StrCat("rules[", i, "].allowed_methods"), "InvalidRequest",
                              absl::StrCat("Found unsupported HTTP method in CORS config: ", m));
      }
    }
  }
  TT_RETURN_IF_ERROR(Change(r.bucket(), [&](storage::BucketRecord* b) {
    *b->mutable_cors_rules() = r.rules();
    return absl::OkStatus();
  }));
  return v1::PutBucketCorsResponse();
}

absl::StatusOr<v1::GetBucketCorsResponse> BucketOps::GetBucketCors(const v1::GetBucketCorsRequest& r) {
  TT_ASSIGN_OR_RETURN(storage::BucketRecord b, catalog_->GetBucket(r.bucket()));
  if (b.cors_rules_size() == 0) return s3::Error("NoSuchCORSConfiguration", "The CORS configuration does not exist");
  v1::GetBucketCorsResponse response;
  *response.mutable_rules() = b.cors_rules();
  return response;
}

absl::StatusOr<v1::DeleteBucketCorsResponse> BucketOps::DeleteBucketCors(const v1::DeleteBucketCorsRequest& r) {
  TT_RETURN_IF_ERROR(Change(r.bucket(), [](storage::BucketRecord* b) {
    b->clear_cors_rules();
    return absl::OkStatus();
  }));
  return v1::DeleteBucketCorsResponse();
}

}  // namespace thingtank::objects
