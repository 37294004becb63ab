#include "tools/thingtank/cli/objects_cli.h"

#include <ostream>

#include "tools/thingtank/cli/cli_command.h"
#include "tools/thingtank/cli/objects_commands.h"

namespace thingtank::cli {
namespace {

const Service& Objects() {
  static const Service kService = [] {
    namespace o = objects;
    const FlagSpec version = {"version-id", "V", "this version (default: the current one)"};
    const FlagSpec range = {"range", "bytes=A-B", "only these bytes (bytes=A-, bytes=-N)"};
    Command list{"ls",
                 {},
                 "list buckets, or the objects of tt://bucket[/prefix]",
                 {{"recursive", "", "every key under the prefix (default: one level, PRE name/)"},
                  {"versions", "", "every version and delete marker under the prefix"}},
                 WithStub(&o::List),
                 {"tt://bucket[/prefix]"}};
    Command versioning{"versioning",
                       {"tt://bucket"},
                       "show a bucket's versioning, or enable or suspend it",
                       {},
                       WithStub(&o::Versioning),
                       {"enable|suspend"}};
    Command tag{"tag",
                {"tt://bucket[/key]"},
                "show the tags of a bucket or object, or replace them with KEY=VALUE pairs",
                {version, {"delete", "", "remove every tag"}},
                WithStub(&o::Tag),
                {"KEY=VALUE"}};
    tag.variadic = true;
    std::vector<Command> commands = {
        {"mb",
         {"tt://bucket"},
         "make a bucket",
         {{"region", "REGION", "its region (default us-east-1)"}},
         WithStub(&o::MakeBucket)},
        {"rb",
         {"tt://bucket"},
         "remove an empty bucket",
         {{"force", "", "first delete every object version, delete marker and upload"}},
         WithStub(&o::RemoveBucket)},
        list,
        {"cp",
         {"source", "destination"},
         "copy a local file to tt://bucket/key, an object to a local file, or an object to "
         "another",
         o::CopyFlags(),
         WithStub(&o::Copy)},
        {"rm",
         {"tt://bucket/key"},
         "delete an object (a delete marker when versioned)",
         {version, {"recursive", "", "delete every object under the prefix"}},
         WithStub(&o::Remove)},
        {"stat",
         {"tt://bucket/key"},
         "an object's size, ETag, content type, time, version, metadata and checksums",
         {version},
         WithStub(&o::Stat)},
        {"cat",
         {"tt://bucket/key"},
         "write an object to stdout",
         {version, range},
         WithStub(&o::Cat)},
        versioning,
        {"lifecycle",
         {"tt://bucket"},
         "show, set or delete a bucket's lifecycle rules",
         {{"set", "FILE.json", "replace the rules with FILE's (- for stdin)"},
          {"delete", "", "remove every rule"}},
         WithStub(&o::Lifecycle)},
        {"notifications",
         {"tt://bucket"},
         "show or set a bucket's event notifications",
         {{"set", "FILE.json", "replace them with FILE's (- for stdin; [] removes all)"}},
         WithStub(&o::Notifications)},
        tag,
    };
    return Service{
        "objects",
        "Client commands of the objects service (Amazon S3 semantics, in the manner of aws s3).",
        {"url", "tt://BUCKET[/KEY]", "the first argument"},
        "Objects are tt://bucket/key; a key is any text (\"a//b\" and \"../x\" are keys, not\n"
        "  paths). cp to a destination ending in \"/\" (or a local folder) keeps the source's\n"
        "  name; cp --recursive refuses to write keys with \"..\" components or absolute paths.\n"
        "SIZE: bytes or 5MiB, 16M, 1GiB (powers of 1024).\n"
        "Progress goes to stderr when it is a terminal (not with --quiet); times are UTC.\n"
        "lifecycle --set FILE.json: {\"rules\": [{\"id\": \"logs\", \"status\": \"Enabled\",\n"
        "  \"filter\": {\"prefix\": \"logs/\"}, \"expiration\": {\"days\": 30}}]} (the\n"
        "  LifecycleRule fields of objects.proto). notifications --set: {\"configurations\":\n"
        "  [{\"destination_arn\": \"arn:aws:sqs:us-east-1:000000000000:q\", \"events\":\n"
        "  [\"s3:ObjectCreated:*\"]}]}.\n"
        "--json prints the response (cp: one object per transfer).\n",
        std::move(commands)};
  }();
  return kService;
}

}  // namespace

void PrintObjectsUsage(std::ostream& os) { PrintServiceUsage(Objects(), os); }

int RunObjects(const std::vector<std::string>& args) { return RunObjects(args, ProcessIo()); }

int RunObjects(const std::vector<std::string>& args, const Io& io) {
  return RunService(Objects(), args, io);
}

}  // namespace thingtank::cli
