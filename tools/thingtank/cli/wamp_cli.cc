#include "tools/thingtank/cli/wamp_cli.h"

#include <ostream>

#include "tools/thingtank/cli/cli_command.h"
#include "tools/thingtank/cli/wamp_commands.h"

namespace thingtank::cli {
namespace {

const FlagSpec kRealmFlag = {"realm", "REALM", "the WAMP realm (default realm1)"};
const FlagSpec kMatchFlag = {"match", "POLICY",
                             "how the topic matches: exact (default), prefix or wildcard"};

// `thingtank wamp rules ...`: a service of its own, reached through RunWamp.
const Service& Rules() {
  static const Service kService = [] {
    Command create{
        "create",
        {},
        "create a forwarding rule; it runs in the server until deleted",
        {{"topic-to-queue", "TOPIC QUEUE",
          "send each event of TOPIC to QUEUE (body: {topic, args, kwargs, publication})"},
         {"queue-to-topic", "QUEUE TOPIC",
          "publish each message of QUEUE to TOPIC, then delete it (at least once)"},
         {"topic-to-table", "TOPIC TABLE",
          "write each event of TOPIC as an item of TABLE: its kwargs plus the --key attributes"},
         {"key", "NAME=TEMPLATE",
          "topic-to-table: a key attribute; placeholders {topic}, {publication}, "
          "{timestamp_ms}, {kwargs.NAME}",
          true},
         {"topic-to-stream", "TOPIC STREAM",
          "put each event of TOPIC as a record of STREAM (data: {topic, publication, args, "
          "kwargs})"},
         {"partition-key", "TEMPLATE",
          "topic-to-stream: the records' partition key (default {topic}), e.g. {kwargs.device}"},
         {"stream-to-topic", "STREAM TOPIC",
          "publish each record of STREAM to TOPIC (data as the argument; shard_id, "
          "sequence_number, partition_key in kwargs)"},
         {"starting-position", "POSITION",
          "stream-to-topic: LATEST (default: records written from now on) or TRIM_HORIZON"},
         kMatchFlag,
         kRealmFlag},
        WithStub(&wamp::CreateRule),
        {"second"}};
    create.synopsis =
        "--topic-to-queue TOPIC QUEUE | --queue-to-topic QUEUE TOPIC | "
        "--topic-to-table TOPIC TABLE --key NAME=TEMPLATE... | "
        "--topic-to-stream TOPIC STREAM [--partition-key TEMPLATE] | "
        "--stream-to-topic STREAM TOPIC [--starting-position LATEST|TRIM_HORIZON]";
    std::vector<Command> commands = {
        create,
        {"list", {}, "list the forwarding rules in creation order", {},
         WithStub(&wamp::ListRules)},
        {"delete", {"id"}, "delete a forwarding rule", {}, WithStub(&wamp::DeleteRule)},
    };
    return Service{
        "wamp rules",
        "Forwarding rules of the wamp service: topic events into queues, tables and streams,\n"
        "queue messages and stream records onto topics, with no client running.",
        {"id", "ID", "the rule id (instead of the <id> argument)"},
        "Example: thingtank wamp rules create --topic-to-table sensors.temp readings \\\n"
        "           --key device={kwargs.device} --key ts={timestamp_ms}\n"
        "         thingtank wamp rules create --topic-to-stream sensors. readings --match prefix \\\n"
        "           --partition-key {kwargs.device}\n",
        std::move(commands)};
  }();
  return kService;
}

const Service& Wamp() {
  static const Service kService = [] {
    const FlagSpec args = {"args", "JSON", "positional arguments as a JSON array (instead of ARGs)"};
    const FlagSpec kwargs = {"kwargs", "JSON", "keyword arguments as a JSON object"};
    Command publish{"publish", {"topic"}, "publish an event to a topic; prints the publication id",
                    {args, kwargs, kRealmFlag}, WithStub(&wamp::Publish), {"arg"}};
    publish.variadic = true;
    Command call{"call", {"procedure"},
                 "call a procedure; prints its results (--timeout: the callee's time, default 10s)",
                 {args, kwargs, kRealmFlag}, WithStub(&wamp::Call), {"arg"}};
    call.variadic = true;
    Command rules{"rules", {}, "forwarding rules: create, list, delete (thingtank wamp rules --help)",
                  {}, [](const CallContext& c) {
                    // Not reached: RunWamp hands `rules` to the rules service.
                    return c.UsageError("run `thingtank wamp rules --help`");
                  }};
    std::vector<Command> commands = {
        publish,
        call,
        {"subscribe", {"topic"},
         "print the events of a topic, one a line, until Ctrl-C, --count events or --timeout",
         {kMatchFlag, {"count", "N", "stop after N events"}, kRealmFlag},
         WithStub(&wamp::Subscribe)},
        rules,
    };
    return Service{
        "wamp",
        "Client commands of the wamp service (the WAMP v2 router): publish, call and subscribe\n"
        "over gRPC, as WAMP clients do over WebSocket.",
        {"uri", "URI", "the topic or procedure (instead of the first argument)"},
        "Arguments: each ARG is taken as JSON when it parses as JSON (42, true, {\"a\": 1},\n"
        "'\"42\"'), else as a string: `thingtank wamp publish t hello 42` sends [\"hello\", 42].\n"
        "Output: call prints each result argument as JSON, one a line, then the keyword results;\n"
        "subscribe prints `<topic> <args> <kwargs>` a line (--json: one JSON object a line).\n"
        "A failed call prints the WAMP error URI, e.g. wamp.error.no_such_procedure.\n",
        std::move(commands)};
  }();
  return kService;
}

}  // namespace

void PrintWampUsage(std::ostream& os) { PrintServiceUsage(Wamp(), os); }

int RunWamp(const std::vector<std::string>& args) { return RunWamp(args, ProcessIo()); }

int RunWamp(const std::vector<std::string>& args, const Io& io) {
  const size_t index = CommandIndex(Wamp(), args);
  if (index < args.size() && args[index] == "rules") {
    std::vector<std::string> rest = args;
    rest.erase(rest.begin() + static_cast<std::ptrdiff_t>(index));
    return RunService(Rules(), rest, io);
  }
  return RunService(Wamp(), args, io);
}

}  // namespace thingtank::cli
