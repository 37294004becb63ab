// Unit tests of `thingtank objects`: tt:// URLs, where copies land, keys as
// local paths, sizes, content types, the progress line, the lifecycle and
// notification JSON, and the command table (help and usage errors, which need
// no server).

#include "tools/thingtank/cli/objects_cli.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "tools/thingtank/cli/objects_format.h"
#include "tools/thingtank/cli/objects_json.h"
#include "tools/thingtank/cli/objects_paths.h"
#include "tools/thingtank/cli/objects_progress.h"

namespace thingtank::cli::objects {
namespace {

namespace v1 = thingtank::objects::v1;

// ---------------------------------------------------------------------------
// tt:// URLs

TEST(Url, BucketAndKeyKeptByteForByte) {
  const struct {
    const char* text;
    const char* bucket;
    const char* key;
  } kCases[] = {
      {"tt://b", "b", ""},
      {"tt://b/", "b", ""},
      {"tt://b/k", "b", "k"},
      {"tt://my.bucket/dir/file.txt", "my.bucket", "dir/file.txt"},
      {"tt://b/a//b", "b", "a//b"},
      {"tt://b//lead", "b", "/lead"},
      {"tt://b/dir/", "b", "dir/"},
      {"tt://b/../x", "b", "../x"},
      {"tt://b/sp ace/ünï", "b", "sp ace/ünï"},
      {"tt://Bad_Name", "Bad_Name", ""},  // the server checks bucket names
  };
  for (const auto& c : kCases) {
    S3Url url;
    std::string error;
    ASSERT_TRUE(ParseS3Url(c.text, &url, &error)) << c.text << ": " << error;
    EXPECT_EQ(url.bucket, c.bucket) << c.text;
    EXPECT_EQ(url.key, c.key) << c.text;
  }
}

TEST(Url, RejectsOtherSchemesAndNoBucket) {
  for (const char* text : {"s3://b/k", "b/k", "tt:/b", "tt://", "tt:///k", "", "TT://b"}) {
    S3Url url;
    std::string error;
    EXPECT_FALSE(ParseS3Url(text, &url, &error)) << text;
    EXPECT_NE(error.find(std::string("\"") + text + "\""), std::string::npos) << error;
  }
  EXPECT_TRUE(IsS3Url("tt://b"));
  EXPECT_FALSE(IsS3Url("./tt://b"));
}

TEST(Url, Format) {
  EXPECT_EQ(FormatS3Url({"b", "k/x"}), "tt://b/k/x");
  EXPECT_EQ(FormatS3Url({"b", ""}), "tt://b/");
}

// ---------------------------------------------------------------------------
// Target naming

TEST(Target, KeyTakesTheBaseNameForAFolderDestination) {
  EXPECT_EQ(TargetKey("", "f.txt"), "f.txt");
  EXPECT_EQ(TargetKey("dir/", "f.txt"), "dir/f.txt");
  EXPECT_EQ(TargetKey("dir/name", "f.txt"), "dir/name");
  EXPECT_EQ(TargetKey("a//", "f"), "a//f");
}

TEST(Target, PathTakesTheBaseNameForADirectory) {
  EXPECT_EQ(TargetPath("out/", false, "f.txt"), "out/f.txt");
  EXPECT_EQ(TargetPath("out", true, "f.txt"), "out/f.txt");
  EXPECT_EQ(TargetPath("out.txt", false, "f.txt"), "out.txt");
  EXPECT_EQ(TargetPath(".", true, "f.txt"), "./f.txt");
}

TEST(Target, KeyBaseName) {
  EXPECT_EQ(KeyBaseName("a/b/c.txt"), "c.txt");
  EXPECT_EQ(KeyBaseName("c.txt"), "c.txt");
  EXPECT_EQ(KeyBaseName("dir/"), "");
  EXPECT_EQ(KeyBaseName("a//b"), "b");
}

TEST(Target, FoldersAndKeysUnderThem) {
  EXPECT_EQ(FolderPrefix(""), "");
  EXPECT_EQ(FolderPrefix("p"), "p/");
  EXPECT_EQ(FolderPrefix("p/"), "p/");
  EXPECT_EQ(KeyUnder("", "a/b.txt"), "a/b.txt");
  EXPECT_EQ(KeyUnder("up", "a/b.txt"), "up/a/b.txt");
  EXPECT_EQ(KeyUnder("up/", "a/b.txt"), "up/a/b.txt");

  EXPECT_TRUE(InFolder("logs/a", "logs", false));
  EXPECT_FALSE(InFolder("logs2/a", "logs", false));
  EXPECT_FALSE(InFolder("logs", "logs", false));
  EXPECT_TRUE(InFolder("logs", "logs", true));
  EXPECT_TRUE(InFolder("logs2", "log", true) == false);
  EXPECT_TRUE(InFolder("anything", "", false));
  EXPECT_TRUE(InFolder("logs/x", "logs/", false));
  EXPECT_TRUE(InFolder("logs//x", "logs/", false));
}

// ---------------------------------------------------------------------------
// Keys as local paths

TEST(SafePath, OrdinaryKeysAndCollapsedEmptyComponents) {
  const struct {
    const char* key;
    const char* path;
    bool directory;
  } kCases[] = {
      {"f.txt", "f.txt", false},         {"a/b/c", "a/b/c", false}, {"a//b", "a/b", false},
      {"a///b//c", "a/b/c", false},      {"dir/", "dir", true},     {"..a/b..", "..a/b..", false},
      {"a/.hidden", "a/.hidden", false},
  };
  for (const auto& c : kCases) {
    std::string path;
    std::string error;
    bool directory = false;
    ASSERT_TRUE(SafeRelativePath(c.key, &path, &directory, &error)) << c.key << ": " << error;
    EXPECT_EQ(path, c.path) << c.key;
    EXPECT_EQ(directory, c.directory) << c.key;
  }
}

TEST(SafePath, RefusesWhatCouldLeaveTheFolder) {
  const struct {
    std::string key;
    const char* says;
  } kCases[] = {
      {"../x", "\"..\" path component"},
      {"a/../../x", "\"..\" path component"},
      {"a/..", "\"..\" path component"},
      {"..", "\"..\" path component"},
      {"./x", "\".\" path component"},
      {"/etc/passwd", "absolute"},
      {"//x", "absolute"},
      {"", "names no file"},
      {std::string("a\0b", 3), "NUL"},
  };
  for (const auto& c : kCases) {
    std::string path = "unchanged";
    std::string error;
    bool directory = false;
    EXPECT_FALSE(SafeRelativePath(c.key, &path, &directory, &error)) << c.key;
    EXPECT_NE(error.find(c.says), std::string::npos) << c.key << ": " << error;
  }
}

// ---------------------------------------------------------------------------
// Sizes and content types

TEST(Size, UnitsArePowersOf1024) {
  EXPECT_EQ(ParseSize("0"), 0);
  EXPECT_EQ(ParseSize("1234"), 1234);
  EXPECT_EQ(ParseSize("10B"), 10);
  EXPECT_EQ(ParseSize("8MiB"), 8 * 1024 * 1024);
  EXPECT_EQ(ParseSize("8MB"), 8 * 1024 * 1024);
  EXPECT_EQ(ParseSize("8m"), 8 * 1024 * 1024);
  EXPECT_EQ(ParseSize("5KiB"), 5 * 1024);
  EXPECT_EQ(ParseSize("1GiB"), 1024LL * 1024 * 1024);
  EXPECT_EQ(ParseSize("1.5M"), 1536 * 1024);
  for (const char* bad : {"", "MiB", "-1", "8 MiB", "8XiB", "1.2.3", "."}) {
    EXPECT_FALSE(ParseSize(bad).has_value()) << bad;
  }
}

TEST(ContentType, GuessedFromTheExtension) {
  EXPECT_EQ(GuessContentType("index.html"), "text/html");
  EXPECT_EQ(GuessContentType("dir.v2/PHOTO.JPG"), "image/jpeg");
  EXPECT_EQ(GuessContentType("a/b/data.json"), "application/json");
  EXPECT_EQ(GuessContentType("notes.txt"), "text/plain");
  EXPECT_EQ(GuessContentType("app.js"), "text/javascript");
  EXPECT_EQ(GuessContentType("x.tar.gz"), "application/gzip");
  EXPECT_EQ(GuessContentType("font.woff2"), "font/woff2");
  EXPECT_EQ(GuessContentType("README"), "application/octet-stream");
  EXPECT_EQ(GuessContentType(".bashrc"), "application/octet-stream");
  EXPECT_EQ(GuessContentType("blob.xyz"), "application/octet-stream");
  EXPECT_EQ(GuessContentType("dir.d/noext"), "application/octet-stream");
}

// ---------------------------------------------------------------------------
// Progress

TEST(Progress, Bytes) {
  EXPECT_EQ(FormatBytes(0), "0 B");
  EXPECT_EQ(FormatBytes(1023), "1023 B");
  EXPECT_EQ(FormatBytes(1536), "1.5 KiB");
  EXPECT_EQ(FormatBytes(20 * 1024 * 1024), "20.0 MiB");
  EXPECT_EQ(FormatBytes(1288490189), "1.2 GiB");
}

TEST(Progress, LineWithBarPercentRateAndEta) {
  const int64_t mib = 1024 * 1024;
  EXPECT_EQ(FormatProgressLine(8 * mib, 20 * mib, 4.0),
            "[########............]  40% 8.0 MiB/20.0 MiB 2.0 MiB/s ETA 0:06");
  EXPECT_EQ(FormatProgressLine(0, 20 * mib, 0.0),
            "[....................]   0% 0 B/20.0 MiB 0.0 MiB/s ETA --:--");
  EXPECT_EQ(FormatProgressLine(20 * mib, 20 * mib, 2.0),
            "[####################] 100% 20.0 MiB/20.0 MiB 10.0 MiB/s ETA 0:00");
  // Rounded down: 1 byte short of the end is 99 %; the ETA rounds up.
  EXPECT_EQ(FormatProgressLine(20 * mib - 1, 20 * mib, 1.0),
            "[###################.]  99% 20.0 MiB/20.0 MiB 20.0 MiB/s ETA 0:01");
  // An hour and more: h:mm:ss.
  EXPECT_EQ(FormatProgressLine(mib, 4000 * mib, 1.0),
            "[....................]   0% 1.0 MiB/3.9 GiB 1.0 MiB/s ETA 1:06:39");
  EXPECT_EQ(FormatProgressLine(0, 0, 0.0),
            "[####################] 100% 0 B/0 B 0.0 MiB/s ETA 0:00");
  EXPECT_EQ(FormatProgressLine(3 * mib, -1, 2.0), "3.0 MiB 1.5 MiB/s");
}

TEST(Progress, RedrawsAtMostTenTimesASecondAndClears) {
  std::ostringstream out;
  double now = 100.0;
  {
    ProgressBar bar(&out, 1000, [&] { return now; });
    bar.Add(100);  // first draw
    now += 0.05;
    bar.Add(100);  // too soon
    now += 0.06;
    bar.Add(100);  // drawn
    bar.Clear();
  }
  const std::string text = out.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\r'), 4) << text;  // 2 draws, clear (2)
  EXPECT_NE(text.find(" 10% 100 B/1000 B"), std::string::npos) << text;
  EXPECT_EQ(text.find(" 20% "), std::string::npos) << text;
  EXPECT_NE(text.find(" 30% 300 B/1000 B"), std::string::npos) << text;
  // Ends erased: spaces then "\r".
  EXPECT_EQ(text.back(), '\r');

  std::ostringstream none;
  ProgressBar off(nullptr, 10);
  off.Add(10);
  off.Clear();
  EXPECT_TRUE(none.str().empty());
}

// ---------------------------------------------------------------------------
// Lifecycle and notifications JSON

TEST(LifecycleJson, RulesWithAwsStatusAndEitherFieldNames) {
  v1::PutBucketLifecycleConfigurationRequest request;
  std::string error;
  ASSERT_TRUE(ParseLifecycleJson(R"({"rules": [
      {"id": "logs", "status": "Enabled", "filter": {"prefix": "logs/", "tags": {"t": "1"}},
       "expiration": {"days": 30},
       "noncurrent_version_expiration": {"noncurrent_days": 7, "newerNoncurrentVersions": 2},
       "abortIncompleteMultipartUpload": {"daysAfterInitiation": 3}},
      {"id": "old", "status": "disabled", "expiration": {"date": "2027-01-01T00:00:00Z",
       "expired_object_delete_marker": true}}]})",
                                 &request, &error))
      << error;
  ASSERT_EQ(request.rules_size(), 2);
  const v1::LifecycleRule& logs = request.rules(0);
  EXPECT_EQ(logs.id(), "logs");
  EXPECT_EQ(logs.status(), v1::LIFECYCLE_RULE_STATUS_ENABLED);
  EXPECT_EQ(logs.filter().prefix(), "logs/");
  EXPECT_EQ(logs.filter().tags().at("t"), "1");
  EXPECT_EQ(logs.expiration().days(), 30);
  EXPECT_EQ(logs.noncurrent_version_expiration().noncurrent_days(), 7);
  EXPECT_EQ(logs.noncurrent_version_expiration().newer_noncurrent_versions(), 2);
  EXPECT_EQ(logs.abort_incomplete_multipart_upload().days_after_initiation(), 3);
  const v1::LifecycleRule& old = request.rules(1);
  EXPECT_EQ(old.status(), v1::LIFECYCLE_RULE_STATUS_DISABLED);
  EXPECT_EQ(old.expiration().date().seconds(), 1798761600);
  EXPECT_TRUE(old.expiration().expired_object_delete_marker());
  EXPECT_TRUE(request.bucket().empty());

  std::ostringstream shown;
  PrintLifecycleRules(request.rules(), shown);
  EXPECT_EQ(shown.str(),
            "rule logs: Enabled\n"
            "  filter: prefix \"logs/\" tag t=1\n"
            "  expire current versions after 30 days\n"
            "  expire noncurrent versions after 7 days (keeping the 2 newest)\n"
            "  abort incomplete multipart uploads after 3 days\n"
            "rule old: Disabled\n"
            "  filter: prefix \"\"\n"
            "  expire current versions from 2027-01-01 00:00:00\n"
            "  remove expired delete markers\n");
}

TEST(LifecycleJson, ABareArrayAndTheProtoEnumNames) {
  v1::PutBucketLifecycleConfigurationRequest request;
  std::string error;
  ASSERT_TRUE(ParseLifecycleJson(
      R"([{"id": "a", "status": "LIFECYCLE_RULE_STATUS_ENABLED", "expiration": {"days": 1}}])",
      &request, &error))
      << error;
  ASSERT_EQ(request.rules_size(), 1);
  EXPECT_EQ(request.rules(0).status(), v1::LIFECYCLE_RULE_STATUS_ENABLED);
  ASSERT_TRUE(ParseLifecycleJson(R"({"Rules": []})", &request, &error)) << error;
  EXPECT_EQ(request.rules_size(), 0);
}

TEST(LifecycleJson, MistakesAreNamed) {
  const struct {
    const char* text;
    const char* says;
  } kCases[] = {
      {"{", "not JSON"},
      {"42", "expected an object"},
      {R"({"bucket": "b", "rules": []})", "the bucket comes from the tt:// URL"},
      {R"({"rulez": []})", "unknown member \"rulez\""},
      {R"({"rules": {}})", "\"rules\" must be an array"},
      {R"({"rules": [{"expiration": {"dayz": 1}}]})", "dayz"},
      {R"({"rules": [{"status": "Sometimes"}]})", "status"},
      {R"({"rules": [{"expiration": {"days": "many"}}]})", "days"},
  };
  for (const auto& c : kCases) {
    v1::PutBucketLifecycleConfigurationRequest request;
    std::string error;
    EXPECT_FALSE(ParseLifecycleJson(c.text, &request, &error)) << c.text;
    EXPECT_NE(error.find(c.says), std::string::npos) << c.text << ": " << error;
  }
}

TEST(NotificationsJson, Configurations) {
  v1::PutBucketNotificationConfigurationRequest request;
  std::string error;
  ASSERT_TRUE(ParseNotificationsJson(
      R"({"configurations": [{"id": "n1", "destination_arn": "arn:aws:sqs:us-east-1:000000000000:q",
          "events": ["s3:ObjectCreated:*"], "prefix": "in/", "suffix": ".jpg"}]})",
      &request, &error))
      << error;
  ASSERT_EQ(request.configurations_size(), 1);
  EXPECT_EQ(request.configurations(0).destination_arn(), "arn:aws:sqs:us-east-1:000000000000:q");
  EXPECT_EQ(request.configurations(0).events(0), "s3:ObjectCreated:*");
  std::ostringstream shown;
  PrintNotifications(request.configurations(), shown);
  EXPECT_EQ(shown.str(),
            "n1 arn:aws:sqs:us-east-1:000000000000:q s3:ObjectCreated:* prefix=in/ suffix=.jpg\n");
  ASSERT_TRUE(ParseNotificationsJson("[]", &request, &error)) << error;
  EXPECT_EQ(request.configurations_size(), 0);
}

// ---------------------------------------------------------------------------
// Listing lines

TEST(Format, ListingLinesLikeAwsS3Ls) {
  v1::ObjectInfo info;
  info.set_key("dir/file.txt");
  info.set_size(1234);
  info.mutable_last_modified()->set_seconds(1796205600);  // 2026-12-02T10:00:00Z
  EXPECT_EQ(ObjectLine(info, "file.txt"), "2026-12-02 10:00:00       1234 file.txt");
  EXPECT_EQ(PrefixLine("dir/"), "                           PRE dir/");
  info.set_version_id("v1");
  info.set_is_latest(true);
  EXPECT_EQ(VersionLine(info), "2026-12-02 10:00:00          1234 v1 latest dir/file.txt");
  info.set_delete_marker(true);
  info.set_is_latest(false);
  EXPECT_EQ(VersionLine(info), "2026-12-02 10:00:00 DELETE-MARKER v1 - dir/file.txt");
  v1::Bucket bucket;
  bucket.set_name("b");
  *bucket.mutable_creation_date() = info.last_modified();
  EXPECT_EQ(BucketLine(bucket), "2026-12-02 10:00:00 b");
}

// ---------------------------------------------------------------------------
// The command table, without a server: help and usage errors.

struct Result {
  int code;
  std::string out;
  std::string err;
};

Result RunCli(const std::vector<std::string>& args) {
  std::istringstream in;
  std::ostringstream out;
  std::ostringstream err;
  const Io io{in, out, err, [](const std::string& name) -> std::optional<std::string> {
                // Nothing listens here: a command that got as far as calling fails (1), not 2.
                if (name == "THINGTANK_ENDPOINT") return std::string("127.0.0.1:1");
                return std::nullopt;
              }};
  const int code = RunObjects(args, io);
  return {code, out.str(), err.str()};
}

TEST(Commands, HelpListsEveryCommandAndEachHasItsOwnHelp) {
  const Result help = RunCli({"--help"});
  ASSERT_EQ(help.code, 0) << help.err;
  for (const char* name : {"mb", "rb", "ls", "cp", "rm", "stat", "cat", "versioning", "lifecycle",
                           "notifications", "tag"}) {
    EXPECT_NE(help.out.find(std::string("\n  ") + name + " "), std::string::npos) << name;
    const Result one = RunCli({name, "--help"});
    EXPECT_EQ(one.code, 0) << name << ": " << one.err;
    EXPECT_NE(one.out.find(std::string("usage: thingtank objects ") + name), std::string::npos)
        << one.out;
    std::set<std::string> flags;
    std::istringstream lines(one.out.substr(one.out.find("flags:")));
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("  --", 0) != 0) continue;
      const std::string flag = line.substr(2, line.find(' ', 2) - 2);
      EXPECT_TRUE(flags.insert(flag).second) << name << " declares " << flag << " twice";
    }
  }
}

TEST(Commands, BadCommandLinesAreUsageErrorsBeforeAnyCall) {
  const struct {
    std::vector<std::string> args;
    const char* says;
  } kCases[] = {
      {{"mb"}, "missing <tt://bucket>"},
      {{"mb", "s3://b"}, "\"s3://b\" is not a tt://bucket[/key] URL"},
      {{"mb", "tt://b/k"}, "\"tt://b/k\" is not a bucket (tt://bucket)"},
      {{"rb", "tt://"}, "\"tt://\" names no bucket (tt://bucket[/key])"},
      {{"ls", "tt://b", "extra"}, "unexpected argument \"extra\""},
      {{"ls", "--recursive"}, "--recursive and --versions need a tt://bucket[/prefix]"},
      {{"cp", "a", "b"}, "one of <source> and <destination> must be a tt:// URL"},
      {{"cp", "tt://b/k"}, "missing <destination>"},
      {{"cp", "f", "tt://b/k", "--part-size", "4MiB"}, "--part-size: parts are 5MiB to 5GiB"},
      {{"cp", "f", "tt://b/k", "--part-size", "lots"}, "--part-size: \"lots\" is not a size"},
      {{"cp", "f", "tt://b/k", "--multipart-threshold", "8QB"},
       "--multipart-threshold: \"8QB\" is not a size"},
      {{"cp", "f", "tt://b/k", "--checksum-algorithm", "MD5"},
       "--checksum-algorithm: \"MD5\" is not CRC32, CRC32C, SHA1 or SHA256"},
      {{"cp", "f", "tt://b/k", "--metadata", "a=1,b"}, "--metadata: \"b\" is not KEY=VALUE"},
      {{"cp", "f", "tt://b/k", "--range", "bytes=0-1"}, "--range and --version-id are for a tt://"},
      {{"cp", "tt://b/", "out"}, "\"tt://b/\" names no object (use --recursive)"},
      {{"cp", "tt://b/p", "out", "--recursive", "--range", "bytes=0-1"},
       "--range copies one object"},
      {{"cp", ".", "tt://b/"}, ". is a folder (use --recursive)"},
      {{"rm", "tt://b"}, "\"tt://b\" names no object (tt://bucket/key)"},
      {{"rm", "tt://b/p", "--recursive", "--version-id", "v"}, "--version-id deletes one object"},
      {{"stat", "tt://b/"}, "\"tt://b/\" names no object"},
      {{"cat", "tt://b"}, "\"tt://b\" names no object"},
      {{"versioning", "tt://b", "on"}, "\"on\" is not enable or suspend"},
      {{"lifecycle", "tt://b", "--set", "f.json", "--delete"}, "give --set or --delete, not both"},
      {{"lifecycle", "tt://b", "--set", "/nonexistent/rules.json"},
       "cannot read --set /nonexistent/rules.json"},
      {{"tag", "tt://b", "novalue"}, "\"novalue\" is not KEY=VALUE"},
      {{"tag", "tt://b", "a=1", "--delete"}, "give KEY=VALUE pairs or --delete, not both"},
      {{"tag", "tt://b", "--version-id", "v"}, "--version-id is for an object's tags"},
      {{"frobnicate"}, "unknown command \"frobnicate\""},
  };
  for (const auto& c : kCases) {
    const Result r = RunCli(c.args);
    const int expected = std::string(c.says).rfind("cannot read", 0) == 0 ? 1 : 2;
    EXPECT_EQ(r.code, expected) << c.args[0] << " " << c.args.back() << ": " << r.err;
    EXPECT_NE(r.err.find(std::string("error: ") + c.says), std::string::npos)
        << c.args[0] << " " << c.args.back() << ": " << r.err;
  }
}

TEST(Commands, JsonUsageErrors) {
  const Result r = RunCli({"mb", "s3://b", "--json"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("\"code\":\"USAGE\""), std::string::npos) << r.err;
}

TEST(Commands, AcceptedLinesGetAsFarAsTheCall) {
  const std::vector<std::vector<std::string>> kCases = {
      {"mb", "tt://b", "--region", "eu-west-1"},
      {"rb", "tt://b", "--force"},
      {"ls"},
      {"ls", "tt://b/dir/", "--recursive"},
      {"ls", "tt://b", "--versions"},
      {"cp", "tt://b/k", "tt://c/"},
      {"cp", "tt://b/k", "/tmp/", "--range", "bytes=0-9", "--version-id", "v"},
      {"rm", "tt://b/k"},
      {"rm", "tt://b/p", "--recursive"},
      {"stat", "tt://b/k", "--version-id", "v"},
      {"cat", "tt://b/k", "--range", "bytes=-5"},
      {"versioning", "tt://b"},
      {"versioning", "tt://b", "enable"},
      {"lifecycle", "tt://b"},
      {"lifecycle", "tt://b", "--delete"},
      {"notifications", "tt://b"},
      {"tag", "tt://b/k", "a=1", "b=2"},
      {"tag", "tt://b", "--delete"},
  };
  for (std::vector<std::string> args : kCases) {
    args.insert(args.end(), {"--timeout", "2s"});
    const Result r = RunCli(args);
    EXPECT_EQ(r.code, 1) << args[0] << " " << args[1] << ": " << r.err;
    EXPECT_NE(r.err.find("cannot reach ThingTank"), std::string::npos)
        << args[0] << " " << args[1] << ": " << r.err;
  }
}

TEST(Commands, AMissingLocalFileIsALocalError) {
  const Result r = RunCli({"cp", "/nonexistent/file.bin", "tt://b/", "--timeout", "2s"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("upload failed: /nonexistent/file.bin to tt://b/file.bin: cannot open"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace thingtank::cli::objects
