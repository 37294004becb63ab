// `thingtank objects cp`, `stat` and `cat`: objects between local files and
// ThingTank (uploads, downloads, server-side copies), one or a folder of them.

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <system_error>

#include "tools/thingtank/cli/objects_commands.h"
#include "tools/thingtank/cli/objects_format.h"
#include "tools/thingtank/cli/objects_transfer.h"

namespace thingtank::cli::objects {
namespace {

namespace fs = std::filesystem;

// Every transfer of one cp command: how to upload and download, where
// progress goes, and how many failed.
struct Transfers {
  const CommandContext& c;
  UploadOptions upload;
  DownloadOptions download;
  std::ostream* progress = nullptr;  // stderr on a terminal without --quiet
  int failures = 0;

  bool quiet() const { return c.args.Bool("quiet"); }

  // The final line of a transfer: "upload: f to tt://b/k" (human) or a JSON
  // object (--json).
  void Done(const std::string& action, const std::string& from, const std::string& to,
            nlohmann::json details) const {
    if (c.json()) {
      details["action"] = action;
      details["source"] = from;
      details["destination"] = to;
      c.io.out << details.dump() << "\n";
    } else if (!quiet()) {
      c.io.out << action << ": " << from << " to " << to << "\n";
    }
  }

  // Reports a failed transfer; counts it.
  void Failed(const std::string& action, const std::string& from, const std::string& to,
              const Outcome& outcome) {
    ++failures;
    if (!outcome.warning.empty()) c.io.err << "warning: " << outcome.warning << "\n";
    if (!outcome.local_error.empty()) {
      ReportLocalError(action + " failed: " + from + " to " + to + ": " + outcome.local_error,
                       c.json(), c.io);
    } else if (c.json()) {
      ReportRpcError(outcome.rpc, c.connection.options(), c.io);
    } else {
      c.io.err << "error: " << action << " failed: " << from << " to " << to << ": "
               << DescribeRpcError(outcome.rpc, c.connection.options()) << "\n";
    }
  }

  void Up(const std::string& path, const S3Url& dst) {
    ProgressBar bar(progress, -1);
    UploadResult result;
    const Outcome outcome = Upload(c.stub, c.connection, path, dst, upload, &bar, &result);
    bar.Clear();
    if (!outcome.ok()) return Failed("upload", path, FormatS3Url(dst), outcome);
    Done("upload", path, FormatS3Url(dst),
         {{"etag", result.etag},
          {"version_id", result.version_id},
          {"size", result.size},
          {"parts", result.parts}});
  }

  void Down(const S3Url& src, const std::string& path, int64_t size_hint) {
    ProgressBar bar(progress, size_hint);
    v1::ObjectInfo info;
    const Outcome outcome =
        Download(c.stub, c.connection, src, download, path, size_hint, &bar, &info);
    bar.Clear();
    if (!outcome.ok()) return Failed("download", FormatS3Url(src), path, outcome);
    Done("download", FormatS3Url(src), path,
         {{"etag", info.etag()}, {"version_id", info.version_id()}, {"size", info.size()}});
  }

  void Copy(const S3Url& src, const S3Url& dst) {
    v1::CopyObjectRequest request;
    request.set_source_bucket(src.bucket);
    request.set_source_key(src.key);
    request.set_source_version_id(download.version_id);
    request.set_bucket(dst.bucket);
    request.set_key(dst.key);
    if (c.args.Has("content-type") || c.args.Has("metadata")) {
      request.set_metadata_directive(v1::METADATA_DIRECTIVE_REPLACE);
      *request.mutable_headers() = upload.headers;
    }
    request.mutable_conditions()->set_if_none_match(upload.if_none_match);
    request.set_checksum_algorithm(upload.checksum_algorithm);
    v1::CopyObjectResponse response;
    const grpc::Status status =
        c.stub.CopyObject(TransferContext(c.connection, -1).get(), request, &response);
    if (!status.ok())
      return Failed("copy", FormatS3Url(src), FormatS3Url(dst), Outcome::Rpc(status));
    Done("copy", FormatS3Url(src), FormatS3Url(dst),
         {{"etag", response.etag()}, {"version_id", response.version_id()}});
  }
};

std::ostream* ProgressStream(const CommandContext& c) {
  if (c.args.Bool("quiet") || &c.io.err != &std::cerr || !::isatty(STDERR_FILENO)) return nullptr;
  return &c.io.err;
}

bool ParseChecksumAlgorithm(const std::string& text, v1::ChecksumAlgorithm* out) {
  std::string upper;
  for (char ch : text) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (upper == "CRC32")
    *out = v1::CHECKSUM_ALGORITHM_CRC32;
  else if (upper == "CRC32C")
    *out = v1::CHECKSUM_ALGORITHM_CRC32C;
  else if (upper == "SHA1")
    *out = v1::CHECKSUM_ALGORITHM_SHA1;
  else if (upper == "SHA256")
    *out = v1::CHECKSUM_ALGORITHM_SHA256;
  else
    return false;
  return true;
}

bool SizeFlag(const CommandContext& c, const std::string& flag, int64_t* out, int* exit) {
  if (!c.args.Has(flag)) return true;
  const std::optional<int64_t> size = ParseSize(c.args.Get(flag));
  if (!size) {
    *exit = c.UsageError("--" + flag + ": \"" + c.args.Get(flag) +
                         "\" is not a size (e.g. 8MiB, 16M, 1GiB or bytes)");
    return false;
  }
  *out = *size;
  return true;
}

// The flags of cp into `t`; false with *exit set on a bad one.
bool ReadOptions(const CommandContext& c, Transfers* t, int* exit) {
  UploadOptions& up = t->upload;
  if (!SizeFlag(c, "multipart-threshold", &up.multipart_threshold, exit) ||
      !SizeFlag(c, "part-size", &up.part_size, exit)) {
    return false;
  }
  if (up.part_size < kMinPartSize || up.part_size > 5 * 1024 * kMiB) {
    *exit = c.UsageError("--part-size: parts are 5MiB to 5GiB");
    return false;
  }
  if (c.args.Has("checksum-algorithm") &&
      !ParseChecksumAlgorithm(c.args.Get("checksum-algorithm"), &up.checksum_algorithm)) {
    *exit = c.UsageError("--checksum-algorithm: \"" + c.args.Get("checksum-algorithm") +
                         "\" is not CRC32, CRC32C, SHA1 or SHA256");
    return false;
  }
  for (const std::string& list : c.args.GetAll("metadata")) {
    size_t start = 0;
    while (start <= list.size()) {
      size_t end = list.find(',', start);
      if (end == std::string::npos) end = list.size();
      const std::string pair = list.substr(start, end - start);
      start = end + 1;
      if (pair.empty()) continue;
      const size_t eq = pair.find('=');
      if (eq == 0 || eq == std::string::npos) {
        *exit = c.UsageError("--metadata: \"" + pair + "\" is not KEY=VALUE");
        return false;
      }
      (*up.headers.mutable_metadata())[pair.substr(0, eq)] = pair.substr(eq + 1);
    }
  }
  if (c.args.Has("content-type")) up.headers.set_content_type(c.args.Get("content-type"));
  up.if_none_match = c.args.Get("if-none-match");
  t->download.range = c.args.Get("range");
  t->download.version_id = c.args.Get("version-id");
  t->progress = ProgressStream(c);
  return true;
}

void SetContentType(const CommandContext& c, const std::string& path, UploadOptions* up) {
  up->headers.set_content_type(c.args.Has("content-type") ? c.args.Get("content-type")
                                                          : GuessContentType(path));
}

// Every regular file under `dir`, as "/"-separated paths relative to it, in
// name order.
bool WalkFiles(const std::string& dir, std::vector<std::string>* out, std::string* error) {
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec)) out->push_back(fs::relative(it->path(), dir, ec).generic_string());
  }
  if (ec) {
    *error = "cannot read the folder " + dir + ": " + ec.message();
    return false;
  }
  std::sort(out->begin(), out->end());
  return true;
}

// Every current object in the folder `prefix` (see InFolder), as listed.
bool ListFolder(const CommandContext& c, const S3Url& url, std::vector<v1::ObjectInfo>* out,
                int* exit) {
  v1::ListObjectsV2Request request;
  request.set_bucket(url.bucket);
  request.set_prefix(url.key);
  do {
    v1::ListObjectsV2Response page;
    const grpc::Status status =
        c.stub.ListObjectsV2(c.connection.NewContext().get(), request, &page);
    if (!status.ok()) {
      *exit = ReportRpcError(status, c.connection.options(), c.io);
      return false;
    }
    for (const v1::ObjectInfo& info : page.contents()) {
      if (InFolder(info.key(), url.key, false)) out->push_back(info);
    }
    request.set_continuation_token(page.is_truncated() ? page.next_continuation_token() : "");
  } while (!request.continuation_token().empty());
  return true;
}

// Whether `path` (made of checked components) stays under `root` once
// symbolic links are followed.
bool StaysUnder(const fs::path& root, const fs::path& path) {
  std::error_code ec;
  const fs::path real_root = fs::weakly_canonical(root, ec);
  if (ec) return false;
  const fs::path real = fs::weakly_canonical(path, ec);
  if (ec) return false;
  auto r = real_root.begin();
  auto p = real.begin();
  for (; r != real_root.end(); ++r, ++p) {
    if (r->empty()) continue;  // a trailing separator
    if (p == real.end() || *p != *r) return false;
  }
  return true;
}

int UploadFolder(Transfers& t, const std::string& dir, const S3Url& dst) {
  std::vector<std::string> files;
  std::string error;
  if (!WalkFiles(dir, &files, &error)) return ReportLocalError(error, t.c.json(), t.c.io);
  for (const std::string& rel : files) {
    const std::string path = (fs::path(dir) / rel).string();
    SetContentType(t.c, path, &t.upload);
    t.Up(path, {dst.bucket, KeyUnder(dst.key, rel)});
  }
  return t.failures == 0 ? kExitOk : kExitFailure;
}

int DownloadFolder(Transfers& t, const S3Url& src, const std::string& dir) {
  std::vector<v1::ObjectInfo> objects;
  int exit = kExitOk;
  if (!ListFolder(t.c, src, &objects, &exit)) return exit;
  const std::string folder = FolderPrefix(src.key);
  for (const v1::ObjectInfo& info : objects) {
    const S3Url from{src.bucket, info.key()};
    std::string rel;
    std::string error;
    bool is_directory = false;
    if (!SafeRelativePath(info.key().substr(folder.size()), &rel, &is_directory, &error)) {
      t.Failed("download", FormatS3Url(from), dir, Outcome::Local(error + "; not written"));
      continue;
    }
    const fs::path path = fs::path(dir) / rel;
    const fs::path parent = is_directory ? path : path.parent_path();
    std::error_code ec;
    fs::create_directories(parent, ec);
    if (ec || !StaysUnder(dir, parent)) {
      t.Failed("download", FormatS3Url(from), path.string(),
               Outcome::Local(ec ? "cannot create " + parent.string() + ": " + ec.message()
                                 : parent.string() + " leads outside " + dir));
      continue;
    }
    if (is_directory) continue;  // a folder marker ("dir/")
    t.Down(from, path.string(), info.size());
  }
  return t.failures == 0 ? kExitOk : kExitFailure;
}

int CopyFolder(Transfers& t, const S3Url& src, const S3Url& dst) {
  std::vector<v1::ObjectInfo> objects;
  int exit = kExitOk;
  if (!ListFolder(t.c, src, &objects, &exit)) return exit;
  const std::string folder = FolderPrefix(src.key);
  for (const v1::ObjectInfo& info : objects) {
    t.Copy({src.bucket, info.key()},
           {dst.bucket, KeyUnder(dst.key, info.key().substr(folder.size()))});
  }
  return t.failures == 0 ? kExitOk : kExitFailure;
}

bool IsDirectory(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec);
}

}  // namespace

std::vector<FlagSpec> CopyFlags() {
  return {
      {"recursive", "", "copy a local folder to a prefix, or a prefix to a local folder"},
      {"quiet", "", "no progress bar and no upload:/download: lines"},
      {"content-type", "TYPE", "uploads: the Content-Type (default: guessed from the name)"},
      {"metadata", "K=V,...", "uploads: user metadata (x-amz-meta-*)", true},
      {"checksum-algorithm", "ALG", "uploads: also store a CRC32, CRC32C, SHA1 or SHA256"},
      {"if-none-match", "ETAG", "'*': only if the key does not exist yet"},
      {"multipart-threshold", "SIZE", "uploads: multipart above this size (default 64MiB)"},
      {"part-size", "SIZE", "uploads: multipart part size, 5MiB to 5GiB (default 16MiB)"},
      {"range", "bytes=A-B", "downloads: only these bytes"},
      {"version-id", "V", "downloads and copies: this version of the source"},
  };
}

int Copy(const CommandContext& c) {
  const std::string& src_text = c.args.positional().at(0);
  const std::string& dst_text = c.args.positional().at(1);
  if (dst_text.empty()) return c.UsageError("<destination> is empty");
  const bool src_remote = IsS3Url(src_text);
  const bool dst_remote = IsS3Url(dst_text);
  if (!src_remote && !dst_remote)
    return c.UsageError("one of <source> and <destination> must be a tt:// URL");
  Transfers t{c, {}, {}};
  int exit = kExitOk;
  if (!ReadOptions(c, &t, &exit)) return exit;
  S3Url src;
  S3Url dst;
  if ((src_remote && !c.Url(0, &src, &exit)) || (dst_remote && !c.Url(1, &dst, &exit))) return exit;
  if (!src_remote && (c.args.Has("range") || c.args.Has("version-id"))) {
    return c.UsageError("--range and --version-id are for a tt:// source");
  }
  const bool recursive = c.args.Bool("recursive");
  if (recursive && c.args.Has("range")) return c.UsageError("--range copies one object");

  if (!src_remote) {  // upload
    if (recursive) {
      if (!IsDirectory(src_text)) return c.UsageError(src_text + " is not a folder");
      return UploadFolder(t, src_text, dst);
    }
    if (IsDirectory(src_text)) return c.UsageError(src_text + " is a folder (use --recursive)");
    const S3Url target{dst.bucket, TargetKey(dst.key, fs::path(src_text).filename().string())};
    SetContentType(c, src_text, &t.upload);
    t.Up(src_text, target);
  } else if (!dst_remote) {  // download
    if (recursive) {
      std::error_code ec;
      fs::create_directories(dst_text, ec);
      if (ec)
        return ReportLocalError("cannot create " + dst_text + ": " + ec.message(), c.json(), c.io);
      return DownloadFolder(t, src, dst_text);
    }
    if (src.key.empty())
      return c.UsageError("\"" + src_text + "\" names no object (use --recursive)");
    const std::string base = KeyBaseName(src.key);
    const bool into_dir = IsDirectory(dst_text) || dst_text.empty() || dst_text.back() == '/';
    if (into_dir && (base.empty() || base == "." || base == "..")) {
      return c.UsageError("the key \"" + src.key + "\" has no file name; give a file path");
    }
    t.Down(src, TargetPath(dst_text, IsDirectory(dst_text), base), -1);
  } else {  // server-side copy
    if (recursive) return CopyFolder(t, src, dst);
    if (src.key.empty())
      return c.UsageError("\"" + src_text + "\" names no object (use --recursive)");
    t.Copy(src, {dst.bucket, TargetKey(dst.key, KeyBaseName(src.key))});
  }
  return t.failures == 0 ? kExitOk : kExitFailure;
}

int Stat(const CommandContext& c) {
  S3Url url;
  int exit = kExitOk;
  if (!c.ObjectUrl(0, &url, &exit)) return exit;
  v1::HeadObjectRequest request;
  request.set_bucket(url.bucket);
  request.set_key(url.key);
  request.set_version_id(c.args.Get("version-id"));
  request.set_checksum_mode(v1::CHECKSUM_MODE_ENABLED);
  v1::HeadObjectResponse response;
  const grpc::Status status =
      c.stub.HeadObject(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) { PrintObjectInfo(response, os); });
}

int Cat(const CommandContext& c) {
  S3Url url;
  int exit = kExitOk;
  if (!c.ObjectUrl(0, &url, &exit)) return exit;
  DownloadOptions options;
  options.range = c.args.Get("range");
  options.version_id = c.args.Get("version-id");
  const Outcome outcome = StreamObject(c.stub, c.connection, url, options, c.io.out);
  if (!outcome.local_error.empty()) return ReportLocalError(outcome.local_error, c.json(), c.io);
  if (!outcome.rpc.ok()) return ReportRpcError(outcome.rpc, c.connection.options(), c.io);
  return kExitOk;
}

}  // namespace thingtank::cli::objects
