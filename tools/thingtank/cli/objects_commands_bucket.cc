// `thingtank objects mb`, `rb`, `versioning`, `lifecycle`, `notifications`
// and `tag`: buckets and their configurations.

#include <ostream>

#include "tools/thingtank/cli/objects_commands.h"
#include "tools/thingtank/cli/objects_format.h"
#include "tools/thingtank/cli/objects_json.h"

namespace thingtank::cli::objects {
namespace {

namespace v1 = thingtank::objects::v1;

constexpr int kBatch = 1000;

// rb --force: deletes every version and delete marker, a page at a time.
// Returns the number of keys that could not be deleted, or -1 (reported).
int DeleteAllVersions(const CommandContext& c, const std::string& bucket) {
  v1::ListObjectVersionsRequest request;
  request.set_bucket(bucket);
  request.set_max_keys(kBatch);
  v1::DeleteObjectsResponse all;
  int failures = 0;
  for (;;) {
    v1::ListObjectVersionsResponse page;
    const grpc::Status status =
        c.stub.ListObjectVersions(c.connection.NewContext().get(), request, &page);
    if (!status.ok()) {
      ReportRpcError(status, c.connection.options(), c.io);
      return -1;
    }
    std::vector<v1::ObjectIdentifier> batch;
    for (const auto* list : {&page.versions(), &page.delete_markers()}) {
      for (const v1::ObjectInfo& info : *list) {
        v1::ObjectIdentifier& id = batch.emplace_back();
        id.set_key(info.key());
        id.set_version_id(info.version_id());
        if (static_cast<int>(batch.size()) == kBatch) {
          const int failed = DeleteBatch(c, bucket, batch, &all);
          if (failed < 0) return -1;
          failures += failed;
          batch.clear();
        }
      }
    }
    const int failed = DeleteBatch(c, bucket, batch, &all);
    if (failed < 0) return -1;
    failures += failed;
    if (!page.is_truncated()) return failures;
    request.set_key_marker(page.next_key_marker());
    request.set_version_id_marker(page.next_version_id_marker());
  }
}

// rb --force: aborts every multipart upload in progress. False when a call
// failed (reported).
bool AbortAllUploads(const CommandContext& c, const std::string& bucket) {
  v1::ListMultipartUploadsRequest request;
  request.set_bucket(bucket);
  for (;;) {
    v1::ListMultipartUploadsResponse page;
    grpc::Status status =
        c.stub.ListMultipartUploads(c.connection.NewContext().get(), request, &page);
    if (!status.ok()) {
      ReportRpcError(status, c.connection.options(), c.io);
      return false;
    }
    for (const v1::MultipartUpload& upload : page.uploads()) {
      v1::AbortMultipartUploadRequest abort;
      abort.set_bucket(bucket);
      abort.set_key(upload.key());
      abort.set_upload_id(upload.upload_id());
      v1::AbortMultipartUploadResponse aborted;
      status = c.stub.AbortMultipartUpload(c.connection.NewContext().get(), abort, &aborted);
      if (!status.ok()) {
        ReportRpcError(status, c.connection.options(), c.io);
        return false;
      }
      if (!c.json()) {
        c.io.out << "abort: " << FormatS3Url({bucket, upload.key()}) << " (upload "
                 << upload.upload_id() << ")\n";
      }
    }
    if (!page.is_truncated()) return true;
    request.set_key_marker(page.next_key_marker());
    request.set_upload_id_marker(page.next_upload_id_marker());
  }
}

// Reads a JSON file given by --set; false with *exit set when unreadable.
bool ReadSetFile(const CommandContext& c, std::string* text, int* exit) {
  const std::string path = c.args.Get("set");
  if (path == "-") {
    *text = ReadAll(c.io.in);
    return true;
  }
  if (ReadFile(path, text)) return true;
  *exit = ReportLocalError("cannot read --set " + path, c.json(), c.io);
  return false;
}

// "k=v" arguments from positional `first` on; false with *exit set.
bool ReadTagArgs(const CommandContext& c, size_t first,
                 google::protobuf::Map<std::string, std::string>* tags, int* exit) {
  for (size_t i = first; i < c.args.positional().size(); ++i) {
    const std::string& pair = c.args.positional()[i];
    const size_t eq = pair.find('=');
    if (eq == 0 || eq == std::string::npos) {
      *exit = c.UsageError("\"" + pair + "\" is not KEY=VALUE");
      return false;
    }
    (*tags)[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  return true;
}

int BucketTags(const CommandContext& c, const S3Url& url) {
  if (c.args.Bool("delete")) {
    v1::DeleteBucketTaggingRequest request;
    request.set_bucket(url.bucket);
    v1::DeleteBucketTaggingResponse response;
    const grpc::Status status =
        c.stub.DeleteBucketTagging(c.connection.NewContext().get(), request, &response);
    return Finish(c, status, response,
                  [&](std::ostream& os) { os << "deleted the tags of " << url.bucket << "\n"; });
  }
  if (c.args.positional().size() > 1) {
    v1::PutBucketTaggingRequest request;
    request.set_bucket(url.bucket);
    int exit = kExitOk;
    if (!ReadTagArgs(c, 1, request.mutable_tags(), &exit)) return exit;
    v1::PutBucketTaggingResponse response;
    const grpc::Status status =
        c.stub.PutBucketTagging(c.connection.NewContext().get(), request, &response);
    return Finish(c, status, response,
                  [&](std::ostream& os) { os << "tagged " << url.bucket << "\n"; });
  }
  v1::GetBucketTaggingRequest request;
  request.set_bucket(url.bucket);
  v1::GetBucketTaggingResponse response;
  const grpc::Status status =
      c.stub.GetBucketTagging(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) { PrintTags(response.tags(), os); });
}

int ObjectTags(const CommandContext& c, const S3Url& url) {
  const std::string version = c.args.Get("version-id");
  if (c.args.Bool("delete")) {
    v1::DeleteObjectTaggingRequest request;
    request.set_bucket(url.bucket);
    request.set_key(url.key);
    request.set_version_id(version);
    v1::DeleteObjectTaggingResponse response;
    const grpc::Status status =
        c.stub.DeleteObjectTagging(c.connection.NewContext().get(), request, &response);
    return Finish(c, status, response, [&](std::ostream& os) {
      os << "deleted the tags of " << FormatS3Url(url) << "\n";
    });
  }
  if (c.args.positional().size() > 1) {
    v1::PutObjectTaggingRequest request;
    request.set_bucket(url.bucket);
    request.set_key(url.key);
    request.set_version_id(version);
    int exit = kExitOk;
    if (!ReadTagArgs(c, 1, request.mutable_tags(), &exit)) return exit;
    v1::PutObjectTaggingResponse response;
    const grpc::Status status =
        c.stub.PutObjectTagging(c.connection.NewContext().get(), request, &response);
    return Finish(c, status, response,
                  [&](std::ostream& os) { os << "tagged " << FormatS3Url(url) << "\n"; });
  }
  v1::GetObjectTaggingRequest request;
  request.set_bucket(url.bucket);
  request.set_key(url.key);
  request.set_version_id(version);
  v1::GetObjectTaggingResponse response;
  const grpc::Status status =
      c.stub.GetObjectTagging(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) { PrintTags(response.tags(), os); });
}

}  // namespace

int MakeBucket(const CommandContext& c) {
  S3Url url;
  int exit = kExitOk;
  if (!c.BucketUrl(0, &url, &exit)) return exit;
  v1::CreateBucketRequest request;
  request.set_bucket(url.bucket);
  request.set_location_constraint(c.args.Get("region"));
  v1::CreateBucketResponse response;
  const grpc::Status status =
      c.stub.CreateBucket(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response,
                [&](std::ostream& os) { os << "make_bucket: " << url.bucket << "\n"; });
}

int RemoveBucket(const CommandContext& c) {
  S3Url url;
  int exit = kExitOk;
  if (!c.BucketUrl(0, &url, &exit)) return exit;
  if (c.args.Bool("force")) {
    const int failures = DeleteAllVersions(c, url.bucket);
    if (failures != 0) return kExitFailure;  // the bucket is not empty; errors printed
    if (!AbortAllUploads(c, url.bucket)) return kExitFailure;
  }
  v1::DeleteBucketRequest request;
  request.set_bucket(url.bucket);
  v1::DeleteBucketResponse response;
  const grpc::Status status =
      c.stub.DeleteBucket(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response,
                [&](std::ostream& os) { os << "remove_bucket: " << url.bucket << "\n"; });
}

int Versioning(const CommandContext& c) {
  S3Url url;
  int exit = kExitOk;
  if (!c.BucketUrl(0, &url, &exit)) return exit;
  if (c.args.positional().size() < 2) {
    v1::GetBucketVersioningRequest request;
    request.set_bucket(url.bucket);
    v1::GetBucketVersioningResponse response;
    const grpc::Status status =
        c.stub.GetBucketVersioning(c.connection.NewContext().get(), request, &response);
    return Finish(c, status, response,
                  [&](std::ostream& os) { os << VersioningName(response.status()) << "\n"; });
  }
  const std::string& action = c.args.positional()[1];
  v1::PutBucketVersioningRequest request;
  request.set_bucket(url.bucket);
  if (action == "enable") {
    request.set_status(v1::VERSIONING_STATUS_ENABLED);
  } else if (action == "suspend") {
    request.set_status(v1::VERSIONING_STATUS_SUSPENDED);
  } else {
    return c.UsageError("\"" + action + "\" is not enable or suspend");
  }
  v1::PutBucketVersioningResponse response;
  const grpc::Status status =
      c.stub.PutBucketVersioning(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) {
    os << "versioning of " << url.bucket << ": " << VersioningName(request.status()) << "\n";
  });
}

int Lifecycle(const CommandContext& c) {
  S3Url url;
  int exit = kExitOk;
  if (!c.BucketUrl(0, &url, &exit)) return exit;
  if (c.args.Has("set") && c.args.Bool("delete"))
    return c.UsageError("give --set or --delete, not both");
  if (c.args.Bool("delete")) {
    v1::DeleteBucketLifecycleRequest request;
    request.set_bucket(url.bucket);
    v1::DeleteBucketLifecycleResponse response;
    const grpc::Status status =
        c.stub.DeleteBucketLifecycle(c.connection.NewContext().get(), request, &response);
    return Finish(c, status, response, [&](std::ostream& os) {
      os << "deleted the lifecycle rules of " << url.bucket << "\n";
    });
  }
  if (c.args.Has("set")) {
    std::string text;
    if (!ReadSetFile(c, &text, &exit)) return exit;
    v1::PutBucketLifecycleConfigurationRequest request;
    std::string error;
    if (!ParseLifecycleJson(text, &request, &error)) {
      return c.UsageError("--set " + c.args.Get("set") + ": " + error);
    }
    request.set_bucket(url.bucket);
    v1::PutBucketLifecycleConfigurationResponse response;
    const grpc::Status status =
        c.stub.PutBucketLifecycleConfiguration(c.connection.NewContext().get(), request, &response);
    return Finish(c, status, response, [&](std::ostream& os) {
      os << "set " << request.rules_size() << " lifecycle rules on " << url.bucket << "\n";
    });
  }
  v1::GetBucketLifecycleConfigurationRequest request;
  request.set_bucket(url.bucket);
  v1::GetBucketLifecycleConfigurationResponse response;
  const grpc::Status status =
      c.stub.GetBucketLifecycleConfiguration(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response,
                [&](std::ostream& os) { PrintLifecycleRules(response.rules(), os); });
}

int Notifications(const CommandContext& c) {
  S3Url url;
  int exit = kExitOk;
  if (!c.BucketUrl(0, &url, &exit)) return exit;
  if (c.args.Has("set")) {
    std::string text;
    if (!ReadSetFile(c, &text, &exit)) return exit;
    v1::PutBucketNotificationConfigurationRequest request;
    std::string error;
    if (!ParseNotificationsJson(text, &request, &error)) {
      return c.UsageError("--set " + c.args.Get("set") + ": " + error);
    }
    request.set_bucket(url.bucket);
    v1::PutBucketNotificationConfigurationResponse response;
    const grpc::Status status = c.stub.PutBucketNotificationConfiguration(
        c.connection.NewContext().get(), request, &response);
    return Finish(c, status, response, [&](std::ostream& os) {
      os << "set " << request.configurations_size() << " notifications on " << url.bucket << "\n";
    });
  }
  v1::GetBucketNotificationConfigurationRequest request;
  request.set_bucket(url.bucket);
  v1::GetBucketNotificationConfigurationResponse response;
  const grpc::Status status = c.stub.GetBucketNotificationConfiguration(
      c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response,
                [&](std::ostream& os) { PrintNotifications(response.configurations(), os); });
}

int Tag(const CommandContext& c) {
  S3Url url;
  int exit = kExitOk;
  if (!c.Url(0, &url, &exit)) return exit;
  if (c.args.Bool("delete") && c.args.positional().size() > 1) {
    return c.UsageError("give KEY=VALUE pairs or --delete, not both");
  }
  if (url.key.empty()) {
    if (c.args.Has("version-id")) return c.UsageError("--version-id is for an object's tags");
    return BucketTags(c, url);
  }
  return ObjectTags(c, url);
}

}  // namespace thingtank::cli::objects
