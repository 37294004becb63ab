// `thingtank objects ls` and `rm` (listings and deletes), and the URL
// readers every objects command uses.

#include <algorithm>
#include <ostream>

#include "tools/thingtank/cli/objects_commands.h"
#include "tools/thingtank/cli/objects_format.h"

namespace thingtank::cli::objects {
namespace {

namespace v1 = thingtank::objects::v1;

// One DeleteObjects call and one listing page hold at most this many keys.
constexpr int kBatch = 1000;

// The part of `name` shown by a listing without --recursive: what follows
// the prefix's last "/" (as aws s3 ls shows it).
std::string Shown(const std::string& name, const std::string& prefix) {
  const size_t slash = prefix.rfind('/');
  return slash == std::string::npos ? name : name.substr(slash + 1);
}

int ListBuckets(const CommandContext& c) {
  v1::ListBucketsResponse all;
  v1::ListBucketsRequest request;
  do {
    v1::ListBucketsResponse page;
    const grpc::Status status = c.stub.ListBuckets(c.connection.NewContext().get(), request, &page);
    if (!status.ok()) return ReportRpcError(status, c.connection.options(), c.io);
    all.mutable_buckets()->MergeFrom(page.buckets());
    *all.mutable_owner() = page.owner();
    request.set_continuation_token(page.continuation_token());
  } while (!request.continuation_token().empty());
  return Finish(c, grpc::Status::OK, all, [&](std::ostream& os) {
    for (const v1::Bucket& bucket : all.buckets()) os << BucketLine(bucket) << "\n";
  });
}

int ListObjects(const CommandContext& c, const S3Url& url) {
  const bool recursive = c.args.Bool("recursive");
  v1::ListObjectsV2Request request;
  request.set_bucket(url.bucket);
  request.set_prefix(url.key);
  if (!recursive) request.set_delimiter("/");
  v1::ListObjectsV2Response all;
  do {
    v1::ListObjectsV2Response page;
    const grpc::Status status =
        c.stub.ListObjectsV2(c.connection.NewContext().get(), request, &page);
    if (!status.ok()) return ReportRpcError(status, c.connection.options(), c.io);
    all.mutable_contents()->MergeFrom(page.contents());
    all.mutable_common_prefixes()->MergeFrom(page.common_prefixes());
    request.set_continuation_token(page.is_truncated() ? page.next_continuation_token() : "");
  } while (!request.continuation_token().empty());
  all.set_prefix(request.prefix());
  all.set_delimiter(request.delimiter());
  all.set_key_count(all.contents_size() + all.common_prefixes_size());
  return Finish(c, grpc::Status::OK, all, [&](std::ostream& os) {
    for (const std::string& prefix : all.common_prefixes()) {
      os << PrefixLine(Shown(prefix, url.key)) << "\n";
    }
    for (const v1::ObjectInfo& info : all.contents()) {
      os << ObjectLine(info, recursive ? info.key() : Shown(info.key(), url.key)) << "\n";
    }
  });
}

int ListVersions(const CommandContext& c, const S3Url& url) {
  v1::ListObjectVersionsRequest request;
  request.set_bucket(url.bucket);
  request.set_prefix(url.key);
  v1::ListObjectVersionsResponse all;
  for (;;) {
    v1::ListObjectVersionsResponse page;
    const grpc::Status status =
        c.stub.ListObjectVersions(c.connection.NewContext().get(), request, &page);
    if (!status.ok()) return ReportRpcError(status, c.connection.options(), c.io);
    all.mutable_versions()->MergeFrom(page.versions());
    all.mutable_delete_markers()->MergeFrom(page.delete_markers());
    if (!page.is_truncated()) break;
    request.set_key_marker(page.next_key_marker());
    request.set_version_id_marker(page.next_version_id_marker());
  }
  return Finish(c, grpc::Status::OK, all, [&](std::ostream& os) {
    // Versions and delete markers together: by key, newest first within one.
    std::vector<const v1::ObjectInfo*> entries;
    for (const auto& v : all.versions()) entries.push_back(&v);
    for (const auto& m : all.delete_markers()) entries.push_back(&m);
    std::stable_sort(entries.begin(), entries.end(), [](const auto* a, const auto* b) {
      if (a->key() != b->key()) return a->key() < b->key();
      const auto& ta = a->last_modified();
      const auto& tb = b->last_modified();
      return ta.seconds() != tb.seconds() ? ta.seconds() > tb.seconds() : ta.nanos() > tb.nanos();
    });
    for (const v1::ObjectInfo* entry : entries) os << VersionLine(*entry) << "\n";
  });
}

int RemoveRecursive(const CommandContext& c, const S3Url& url) {
  v1::ListObjectsV2Request request;
  request.set_bucket(url.bucket);
  request.set_prefix(url.key);
  request.set_max_keys(kBatch);
  v1::DeleteObjectsResponse all;
  int failures = 0;
  do {
    v1::ListObjectsV2Response page;
    const grpc::Status status =
        c.stub.ListObjectsV2(c.connection.NewContext().get(), request, &page);
    if (!status.ok()) return ReportRpcError(status, c.connection.options(), c.io);
    std::vector<v1::ObjectIdentifier> batch;
    for (const v1::ObjectInfo& info : page.contents()) {
      if (!InFolder(info.key(), url.key, true)) continue;
      batch.emplace_back().set_key(info.key());
    }
    const int failed = DeleteBatch(c, url.bucket, batch, &all);
    if (failed < 0) return kExitFailure;
    failures += failed;
    request.set_continuation_token(page.is_truncated() ? page.next_continuation_token() : "");
  } while (!request.continuation_token().empty());
  if (c.json()) PrintJson(all, c.io.out);
  return failures == 0 ? kExitOk : kExitFailure;
}

}  // namespace

bool CommandContext::Url(size_t index, S3Url* out, int* exit) const {
  std::string error;
  if (ParseS3Url(args.positional().at(index), out, &error)) return true;
  *exit = UsageError(error);
  return false;
}

bool CommandContext::ObjectUrl(size_t index, S3Url* out, int* exit) const {
  if (!Url(index, out, exit)) return false;
  if (!out->key.empty()) return true;
  *exit = UsageError("\"" + args.positional().at(index) + "\" names no object (tt://bucket/key)");
  return false;
}

bool CommandContext::BucketUrl(size_t index, S3Url* out, int* exit) const {
  if (!Url(index, out, exit)) return false;
  if (out->key.empty()) return true;
  *exit = UsageError("\"" + args.positional().at(index) + "\" is not a bucket (tt://bucket)");
  return false;
}

int DeleteBatch(const CommandContext& c, const std::string& bucket,
                const std::vector<v1::ObjectIdentifier>& objects, v1::DeleteObjectsResponse* all) {
  if (objects.empty()) return 0;
  v1::DeleteObjectsRequest request;
  request.set_bucket(bucket);
  for (const v1::ObjectIdentifier& id : objects) *request.add_objects() = id;
  v1::DeleteObjectsResponse response;
  const grpc::Status status =
      c.stub.DeleteObjects(c.connection.NewContext().get(), request, &response);
  if (!status.ok()) {
    ReportRpcError(status, c.connection.options(), c.io);
    return -1;
  }
  all->mutable_deleted()->MergeFrom(response.deleted());
  all->mutable_errors()->MergeFrom(response.errors());
  if (!c.json()) {
    for (const v1::DeletedObject& d : response.deleted()) {
      c.io.out << "delete: " << FormatS3Url({bucket, d.key()});
      if (!d.version_id().empty() && d.version_id() != "null") {
        c.io.out << " (version " << d.version_id() << ")";
      }
      c.io.out << "\n";
    }
    for (const v1::DeleteError& e : response.errors()) {
      c.io.err << "error: delete failed: " << FormatS3Url({bucket, e.key()});
      if (!e.version_id().empty()) c.io.err << " (version " << e.version_id() << ")";
      c.io.err << ": " << e.message() << " (" << e.code() << ")\n";
    }
  }
  return response.errors_size();
}

int List(const CommandContext& c) {
  if (c.args.positional().empty()) {
    if (c.args.Bool("recursive") || c.args.Bool("versions")) {
      return c.UsageError("--recursive and --versions need a tt://bucket[/prefix]");
    }
    return ListBuckets(c);
  }
  S3Url url;
  int exit = kExitOk;
  if (!c.Url(0, &url, &exit)) return exit;
  return c.args.Bool("versions") ? ListVersions(c, url) : ListObjects(c, url);
}

int Remove(const CommandContext& c) {
  S3Url url;
  int exit = kExitOk;
  if (c.args.Bool("recursive")) {
    if (c.args.Has("version-id"))
      return c.UsageError("--version-id deletes one object, not with --recursive");
    if (!c.Url(0, &url, &exit)) return exit;
    return RemoveRecursive(c, url);
  }
  if (!c.ObjectUrl(0, &url, &exit)) return exit;
  v1::DeleteObjectRequest request;
  request.set_bucket(url.bucket);
  request.set_key(url.key);
  request.set_version_id(c.args.Get("version-id"));
  v1::DeleteObjectResponse response;
  const grpc::Status status =
      c.stub.DeleteObject(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) {
    os << "delete: " << FormatS3Url(url);
    if (response.delete_marker()) os << " (delete marker " << response.version_id() << ")";
    os << "\n";
  });
}

}  // namespace thingtank::cli::objects
