#include "tools/thingtank/cli/queues_cli.h"

#include <ostream>

#include "tools/thingtank/cli/cli_command.h"
#include "tools/thingtank/cli/queues_commands.h"

namespace thingtank::cli {
namespace {

const Service& Queues() {
  static const Service kService = [] {
    const std::vector<FlagSpec> paging = {
        {"page-size", "N", "at most N queues (1 to 1000)"},
        {"page-token", "TOKEN", "continue a previous listing"}};
    std::vector<FlagSpec> list_flags = {{"prefix", "PREFIX", "only names starting with PREFIX"}};
    list_flags.insert(list_flags.end(), paging.begin(), paging.end());
    std::vector<Command> commands = {
        {"create", {"name"}, "create a queue (idempotent for identical attributes)",
         queues::AttributeFlags(true), WithStub(&queues::Create)},
        {"list", {}, "list queues in name order", list_flags, WithStub(&queues::List)},
        {"url", {"name"}, "print the URL of a queue", {}, WithStub(&queues::Url)},
        {"get-attributes", {"name"}, "show attributes and message counts", {},
         WithStub(&queues::GetAttributes), {}, "attributes"},
        {"set-attributes", {"name"}, "change the attributes given",
         queues::AttributeFlags(false), WithStub(&queues::SetAttributes)},
        {"send", {"name"}, "send a message; body from argument, --body, --file or stdin",
         {{"body", "TEXT", "the message body"},
          {"file", "PATH", "read the body from PATH (- for stdin)"},
          {"delay", "DURATION", "delay before the message is visible (0s to 15m)"},
          {"group", "GROUP", "FIFO: message group id (required there)"},
          {"dedup-id", "ID", "FIFO: deduplication id"},
          {"attribute", "NAME=TYPE:VALUE",
           "message attribute; TYPE String, Number or Binary (base64 value)", true}},
         WithStub(&queues::Send), {"body"}},
        {"receive", {"name"}, "receive messages, waiting up to --wait for one",
         {{"max", "N", "receive up to N messages (1 to 10, default 1)"},
          {"wait", "DURATION", "long-poll wait, 0s to 20s (default: the queue's)"},
          {"visibility-timeout", "DURATION", "invisibility of the received messages"},
          {"attribute-names", "NAMES", "message attributes to return: All, names, prefix.*",
           true}},
         WithStub(&queues::Receive)},
        {"delete", {"name", "receipt-handle"}, "delete a received message", {},
         WithStub(&queues::Delete)},
        {"change-visibility", {"name", "receipt-handle", "timeout"},
         "make a received message invisible for <timeout> from now (0 = visible now)", {},
         WithStub(&queues::ChangeVisibility)},
        {"purge", {"name"}, "delete every message of a queue", {}, WithStub(&queues::Purge)},
        {"delete-queue", {"name"}, "delete a queue and its messages", {},
         WithStub(&queues::DeleteQueue)},
        {"dead-letter-sources", {"name"}, "list queues that dead-letter into <name>", paging,
         WithStub(&queues::DeadLetterSources)},
    };
    return Service{"queues",
                   "Client commands of the queues service (Amazon SQS semantics).",
                   {"queue", "NAME", "the queue (instead of the <name> argument)"},
                   "Durations: 500ms, 30s, 5m, 12h, 4d or plain seconds.\n",
                   std::move(commands)};
  }();
  return kService;
}

}  // namespace

void PrintQueuesUsage(std::ostream& os) { PrintServiceUsage(Queues(), os); }

int RunQueues(const std::vector<std::string>& args) { return RunQueues(args, ProcessIo()); }

int RunQueues(const std::vector<std::string>& args, const Io& io) {
  return RunService(Queues(), args, io);
}

}  // namespace thingtank::cli
