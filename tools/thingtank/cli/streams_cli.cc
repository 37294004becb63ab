#include "tools/thingtank/cli/streams_cli.h"

#include <ostream>

#include "tools/thingtank/cli/cli_command.h"
#include "tools/thingtank/cli/streams_commands.h"

namespace thingtank::cli {
namespace {

const Service& Streams() {
  static const Service kService = [] {
    namespace s = streams;
    const FlagSpec wait = {"wait", "", "wait until the stream is ACTIVE again (within --timeout)"};
    // --from and its values, after `flags`; `fallback` says the default.
    auto with_position = [](std::vector<FlagSpec> flags, const std::string& fallback) {
      flags.insert(
          flags.end(),
          {{"from", "POSITION",
            "trim-horizon, latest, at-sequence, after-sequence or at-timestamp (default " +
                fallback + ")"},
           {"sequence", "N", "the sequence number of at-sequence and after-sequence"},
           {"timestamp", "TIME", "the time of at-timestamp: RFC 3339, now, or -1h, -30m, ..."}});
      return flags;
    };
    const std::vector<FlagSpec> get_flags = with_position(
        {{"shard", "ID", "only this shard (and its children; default: every shard)"},
         {"limit", "N", "stop after N records"},
         {"follow", "", "go on reading as records arrive, like tail -f, until Ctrl-C"}},
        "trim-horizon; latest with --follow");
    const std::vector<FlagSpec> subscribe_flags = with_position(
        {{"consumer", "NAME", "the enhanced fan-out consumer (registered if it is not)"},
         {"shard", "ID", "the shard (default: the stream's one open shard)"},
         {"limit", "N", "stop after N records"}},
        "latest");
    std::vector<Command> commands = {
        {"create",
         {"name"},
         "create a stream",
         {{"shards", "N", "provisioned: its shards (default 1)"},
          {"mode", "MODE", "provisioned (default) or on-demand"},
          wait},
         WithStub(&s::Create)},
        {"describe", {"name"}, "show a stream and its shards", {}, WithStub(&s::Describe)},
        {"list",
         {},
         "list streams in name order",
         {{"limit", "N", "at most N streams"},
          {"next-token", "TOKEN", "continue a previous listing"}},
         WithStub(&s::List)},
        {"delete",
         {"name"},
         "delete a stream and its records",
         {{"enforce-consumer-deletion", "", "also when it has registered consumers"}},
         WithStub(&s::Delete)},
        {"put",
         {"name"},
         "put one record (<data> with --partition-key), or each line of --file",
         {{"partition-key", "KEY", "the record's partition key (--file: default the line number)"},
          {"explicit-hash-key", "N", "a decimal hash key choosing the shard instead"},
          {"file", "PATH", "put every line (without its newline) as a record; - for stdin"}},
         WithStub(&s::Put),
         {"data"}},
        {"get",
         {"name"},
         "print records: <sequence> <partition key> <data>",
         get_flags,
         WithStub(&s::Get)},
        {"subscribe",
         {"name"},
         "print a shard's records as they are written (enhanced fan-out)",
         subscribe_flags,
         WithStub(&s::Subscribe)},
        {"split",
         {"name"},
         "split a shard in two",
         {{"shard", "ID", "the shard to split"},
          {"hash-key", "N", "the second child's first hash key (default: the midpoint)"},
          wait},
         WithStub(&s::Split)},
        {"merge",
         {"name", "shard", "adjacent-shard"},
         "merge two adjacent shards",
         {wait},
         WithStub(&s::Merge)},
        {"update-shard-count",
         {"name", "count"},
         "reshard to <count> open shards (uniformly)",
         {wait},
         WithStub(&s::UpdateShardCount)},
        {"retention",
         {"name"},
         "show the retention period, or change it with --hours",
         {{"hours", "N", "keep records N hours (24 to 8760)"}},
         WithStub(&s::Retention)},
    };
    return Service{
        "streams",
        "Client commands of the streams service (Amazon Kinesis Data Streams semantics).",
        {"stream", "NAME", "the stream (instead of the <name> argument)"},
        "Records print as <sequence number> <partition key> <data>, the data as text when it\n"
        "  is printable UTF-8, else in base64; --json prints one Record object a line (data\n"
        "  always base64) and other responses as they are (with --wait: the stream's summary).\n"
        "put --file sends PutRecords batches of up to 500 records and 5 MiB, and sends the\n"
        "  records the server throttled again after a backoff.\n"
        "get --follow and subscribe print \"following ...\" / \"subscribed ...\" on stderr once\n"
        "  they are reading; throttled reads back off; Ctrl-C ends them with exit 0.\n",
        std::move(commands)};
  }();
  return kService;
}

}  // namespace

void PrintStreamsUsage(std::ostream& os) { PrintServiceUsage(Streams(), os); }

int RunStreams(const std::vector<std::string>& args) { return RunStreams(args, ProcessIo()); }

int RunStreams(const std::vector<std::string>& args, const Io& io) {
  return RunService(Streams(), args, io);
}

}  // namespace thingtank::cli
