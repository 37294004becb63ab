#include "tools/thingtank/cli/queues_commands.h"

#include <optional>
#include <sstream>

#include "tools/thingtank/cli/queues_format.h"

namespace thingtank::cli::queues {
namespace {

namespace v1 = thingtank::queues::v1;

// Receive waits at most this long on the server; used when --wait is unset
// (the queue's default wait applies then).
constexpr int64_t kMaxReceiveWaitNanos = 20'000'000'000;

// Reads an optional duration flag. False (with a usage error reported in
// *exit) when malformed.
bool DurationFlag(const CommandContext& c, const std::string& flag, std::optional<int64_t>* out,
                  int* exit) {
  if (!c.args.Has(flag)) return true;
  *out = ParseDurationNanos(c.args.Get(flag));
  if (!*out) {
    *exit = c.UsageError("--" + flag + ": \"" + c.args.Get(flag) +
                         "\" is not a duration (e.g. 30s, 500ms, 5m, 12h, 4d or seconds)");
    return false;
  }
  return true;
}

// Queue flags are int32 and at most 11 characters long.
bool IntFlag(const CommandContext& c, const std::string& flag, std::optional<int32_t>* out,
             int* exit) {
  return cli::IntFlag(c, flag, out, exit, 11);
}

// Fills attributes from the attribute flags; false with *exit set on a bad flag.
bool ReadAttributes(const CommandContext& c, v1::QueueAttributes* attrs, int* exit) {
  struct DurationField {
    const char* flag;
    google::protobuf::Duration* (v1::QueueAttributes::*field)();
  };
  const DurationField fields[] = {
      {"visibility-timeout", &v1::QueueAttributes::mutable_visibility_timeout},
      {"retention", &v1::QueueAttributes::mutable_message_retention_period},
      {"delay", &v1::QueueAttributes::mutable_delay},
      {"receive-wait", &v1::QueueAttributes::mutable_receive_message_wait_time},
  };
  for (const DurationField& f : fields) {
    std::optional<int64_t> nanos;
    if (!DurationFlag(c, f.flag, &nanos, exit)) return false;
    if (nanos) SetDuration(*nanos, (attrs->*f.field)());
  }
  std::optional<int32_t> max_size;
  std::optional<int32_t> max_receives;
  if (!IntFlag(c, "max-message-size", &max_size, exit) ||
      !IntFlag(c, "max-receive-count", &max_receives, exit)) {
    return false;
  }
  if (max_size) attrs->set_maximum_message_size(*max_size);
  if (c.args.Has("dead-letter-queue")) {
    const std::string dlq = c.args.Get("dead-letter-queue");
    if (!dlq.empty() && !max_receives) {
      *exit = c.UsageError("--dead-letter-queue needs --max-receive-count");
      return false;
    }
    attrs->mutable_redrive_policy()->set_dead_letter_queue_name(dlq);
    if (max_receives) attrs->mutable_redrive_policy()->set_max_receive_count(*max_receives);
  } else if (max_receives) {
    *exit = c.UsageError("--max-receive-count needs --dead-letter-queue");
    return false;
  }
  if (c.args.Has("fifo")) attrs->set_fifo_queue(c.args.Bool("fifo"));
  if (c.args.Has("content-based-dedup")) {
    attrs->set_content_based_deduplication(c.args.Bool("content-based-dedup"));
  }
  return true;
}

std::optional<std::string> Base64Decode(const std::string& text) {
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char ch : text) {
    if (ch == '=') break;
    const size_t index = kAlphabet.find(ch);
    if (index == std::string::npos) return std::nullopt;
    buffer = (buffer << 6) | static_cast<uint32_t>(index);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  return out;
}

// Parses `name=Type:value` (Type String, Number or Binary with base64 value,
// optionally ".custom") into the request's attribute map.
bool ReadMessageAttributes(const CommandContext& c, v1::SendMessageRequest* request, int* exit) {
  for (const std::string& spec : c.args.GetAll("attribute")) {
    const size_t eq = spec.find('=');
    const size_t colon = eq == std::string::npos ? eq : spec.find(':', eq);
    if (eq == 0 || colon == std::string::npos) {
      *exit = c.UsageError("--attribute: \"" + spec + "\" is not name=Type:value");
      return false;
    }
    v1::MessageAttributeValue value;
    value.set_data_type(spec.substr(eq + 1, colon - eq - 1));
    const std::string text = spec.substr(colon + 1);
    const std::string base = value.data_type().substr(0, value.data_type().find('.'));
    if (base == "Binary") {
      std::optional<std::string> bytes = Base64Decode(text);
      if (!bytes) {
        *exit = c.UsageError("--attribute " + spec.substr(0, eq) + ": Binary values are base64");
        return false;
      }
      value.set_binary_value(*bytes);
    } else if (base == "String" || base == "Number") {
      value.set_string_value(text);
    } else {
      *exit = c.UsageError("--attribute " + spec.substr(0, eq) + ": type \"" + value.data_type() +
                           "\" is not String, Number or Binary");
      return false;
    }
    (*request->mutable_message_attributes())[spec.substr(0, eq)] = std::move(value);
  }
  return true;
}

// The body from --body, the second positional, --file (or "-" for stdin), or stdin.
bool ReadBody(const CommandContext& c, std::string* body, int* exit) {
  const bool positional = c.args.positional().size() > 1;
  const int sources = (c.args.Has("body") ? 1 : 0) + (c.args.Has("file") ? 1 : 0) + positional;
  if (sources > 1) {
    *exit = c.UsageError("give the body once: as argument, --body or --file");
    return false;
  }
  if (c.args.Has("body")) {
    *body = c.args.Get("body");
  } else if (positional) {
    *body = c.args.positional()[1];
  } else if (c.args.Has("file") && c.args.Get("file") != "-") {
    if (!ReadFile(c.args.Get("file"), body)) {
      *exit = ReportLocalError("cannot read --file " + c.args.Get("file"), c.json(), c.io);
      return false;
    }
  } else {
    *body = ReadAll(c.io.in);
  }
  return true;
}

}  // namespace

std::vector<FlagSpec> AttributeFlags(bool for_create) {
  std::vector<FlagSpec> flags;
  if (for_create) flags.push_back({"fifo", "", "FIFO queue (implied by a name ending in .fifo)"});
  const std::vector<FlagSpec> common = {
      {"content-based-dedup", "", "FIFO: deduplicate by SHA-256 of the body (=false to turn off)"},
      {"visibility-timeout", "DURATION", "invisibility after a receive, 0s to 12h (default 30s)"},
      {"retention", "DURATION", "how long messages are kept, 60s to 14d (default 4d)"},
      {"delay", "DURATION", "delay of new messages, 0s to 15m (default 0s)"},
      {"max-message-size", "BYTES", "largest message, 1024 to 1048576 (default 1048576)"},
      {"receive-wait", "DURATION", "default long-poll wait, 0s to 20s (default 0s)"},
      {"dead-letter-queue", "NAME", "move messages there after --max-receive-count receives"
                                    " (\"\" removes the policy)"},
      {"max-receive-count", "N", "receives before dead-lettering, 1 to 1000"},
  };
  flags.insert(flags.end(), common.begin(), common.end());
  return flags;
}

int Create(const CommandContext& c) {
  v1::CreateQueueRequest request;
  request.set_queue_name(c.queue());
  int exit = kExitOk;
  if (!ReadAttributes(c, request.mutable_attributes(), &exit)) return exit;
  const std::string suffix = ".fifo";
  const bool fifo_name = c.queue().size() > suffix.size() &&
                         c.queue().compare(c.queue().size() - suffix.size(), suffix.size(),
                                           suffix) == 0;
  if (fifo_name && !c.args.Has("fifo")) request.mutable_attributes()->set_fifo_queue(true);
  v1::CreateQueueResponse response;
  const grpc::Status status = c.stub.CreateQueue(c.connection.NewContext().get(), request,
                                                 &response);
  return Finish(c, status, response, [&](std::ostream& os) { os << response.queue_url() << "\n"; });
}

int List(const CommandContext& c) {
  v1::ListQueuesRequest request;
  request.set_queue_name_prefix(c.args.Get("prefix"));
  request.set_page_token(c.args.Get("page-token"));
  std::optional<int32_t> page_size;
  int exit = kExitOk;
  if (!IntFlag(c, "page-size", &page_size, &exit)) return exit;
  if (page_size) request.set_page_size(*page_size);
  v1::ListQueuesResponse response;
  const grpc::Status status = c.stub.ListQueues(c.connection.NewContext().get(), request,
                                                &response);
  return Finish(c, status, response, [&](std::ostream& os) {
    PrintQueueList(response.queues(), response.next_page_token(), os);
  });
}

int Url(const CommandContext& c) {
  v1::GetQueueUrlRequest request;
  request.set_queue_name(c.queue());
  v1::GetQueueUrlResponse response;
  const grpc::Status status = c.stub.GetQueueUrl(c.connection.NewContext().get(), request,
                                                 &response);
  return Finish(c, status, response, [&](std::ostream& os) { os << response.queue_url() << "\n"; });
}

int GetAttributes(const CommandContext& c) {
  v1::GetQueueAttributesRequest request;
  request.set_queue_name(c.queue());
  v1::GetQueueAttributesResponse response;
  const grpc::Status status = c.stub.GetQueueAttributes(c.connection.NewContext().get(), request,
                                                        &response);
  return Finish(c, status, response, [&](std::ostream& os) { PrintAttributes(response, os); });
}

int SetAttributes(const CommandContext& c) {
  v1::SetQueueAttributesRequest request;
  request.set_queue_name(c.queue());
  int exit = kExitOk;
  if (!ReadAttributes(c, request.mutable_attributes(), &exit)) return exit;
  if (request.attributes().ByteSizeLong() == 0) {
    return c.UsageError("set-attributes needs at least one attribute flag");
  }
  v1::SetQueueAttributesResponse response;
  const grpc::Status status = c.stub.SetQueueAttributes(c.connection.NewContext().get(), request,
                                                        &response);
  return Finish(c, status, response,
                [&](std::ostream& os) { os << "updated attributes of " << c.queue() << "\n"; });
}

int Send(const CommandContext& c) {
  v1::SendMessageRequest request;
  request.set_queue_name(c.queue());
  int exit = kExitOk;
  std::optional<int64_t> delay;
  if (!ReadBody(c, request.mutable_message_body(), &exit) ||
      !DurationFlag(c, "delay", &delay, &exit) || !ReadMessageAttributes(c, &request, &exit)) {
    return exit;
  }
  if (delay) SetDuration(*delay, request.mutable_delay());
  request.set_message_group_id(c.args.Get("group"));
  request.set_message_deduplication_id(c.args.Get("dedup-id"));
  v1::SendMessageResponse response;
  const grpc::Status status = c.stub.SendMessage(c.connection.NewContext().get(), request,
                                                 &response);
  return Finish(c, status, response, [&](std::ostream& os) {
    os << "sent message " << response.message_id();
    if (!response.sequence_number().empty()) os << " (sequence " << response.sequence_number() << ")";
    os << "\n";
  });
}

int Receive(const CommandContext& c) {
  v1::ReceiveMessagesRequest request;
  request.set_queue_name(c.queue());
  int exit = kExitOk;
  std::optional<int32_t> max;
  std::optional<int64_t> wait;
  std::optional<int64_t> visibility;
  if (!IntFlag(c, "max", &max, &exit) || !DurationFlag(c, "wait", &wait, &exit) ||
      !DurationFlag(c, "visibility-timeout", &visibility, &exit)) {
    return exit;
  }
  if (max) request.set_max_number_of_messages(*max);
  if (wait) SetDuration(*wait, request.mutable_wait_time());
  if (visibility) SetDuration(*visibility, request.mutable_visibility_timeout());
  for (const std::string& names : c.args.GetAll("attribute-names")) {
    std::istringstream list(names);
    for (std::string name; std::getline(list, name, ',');) {
      if (!name.empty()) request.add_message_attribute_names(name);
    }
  }
  v1::ReceiveMessagesResponse response;
  const grpc::Status status = c.stub.ReceiveMessages(
      c.connection.NewContext(wait ? *wait : kMaxReceiveWaitNanos).get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) { PrintMessages(response, os); });
}

int Delete(const CommandContext& c) {
  v1::DeleteMessageRequest request;
  request.set_queue_name(c.queue());
  request.set_receipt_handle(c.args.positional().at(1));
  v1::DeleteMessageResponse response;
  const grpc::Status status = c.stub.DeleteMessage(c.connection.NewContext().get(), request,
                                                   &response);
  return Finish(c, status, response, [&](std::ostream& os) { os << "deleted\n"; });
}

int ChangeVisibility(const CommandContext& c) {
  v1::ChangeMessageVisibilityRequest request;
  request.set_queue_name(c.queue());
  request.set_receipt_handle(c.args.positional().at(1));
  const std::string& text = c.args.positional().at(2);
  std::optional<int64_t> timeout = ParseDurationNanos(text);
  if (!timeout) {
    return c.UsageError("<timeout>: \"" + text + "\" is not a duration (e.g. 30s, 5m, 0)");
  }
  SetDuration(*timeout, request.mutable_visibility_timeout());
  v1::ChangeMessageVisibilityResponse response;
  const grpc::Status status = c.stub.ChangeMessageVisibility(c.connection.NewContext().get(),
                                                             request, &response);
  return Finish(c, status, response, [&](std::ostream& os) {
    os << "message invisible for " << FormatDurationNanos(*timeout) << "\n";
  });
}

int Purge(const CommandContext& c) {
  v1::PurgeQueueRequest request;
  request.set_queue_name(c.queue());
  v1::PurgeQueueResponse response;
  const grpc::Status status = c.stub.PurgeQueue(c.connection.NewContext().get(), request,
                                                &response);
  return Finish(c, status, response, [&](std::ostream& os) {
    os << "purged " << response.purged_count() << " messages from " << c.queue() << "\n";
  });
}

int DeleteQueue(const CommandContext& c) {
  v1::DeleteQueueRequest request;
  request.set_queue_name(c.queue());
  v1::DeleteQueueResponse response;
  const grpc::Status status = c.stub.DeleteQueue(c.connection.NewContext().get(), request,
                                                 &response);
  return Finish(c, status, response,
                [&](std::ostream& os) { os << "deleted queue " << c.queue() << "\n"; });
}

int DeadLetterSources(const CommandContext& c) {
  v1::ListDeadLetterSourceQueuesRequest request;
  request.set_queue_name(c.queue());
  request.set_page_token(c.args.Get("page-token"));
  std::optional<int32_t> page_size;
  int exit = kExitOk;
  if (!IntFlag(c, "page-size", &page_size, &exit)) return exit;
  if (page_size) request.set_page_size(*page_size);
  v1::ListDeadLetterSourceQueuesResponse response;
  const grpc::Status status = c.stub.ListDeadLetterSourceQueues(c.connection.NewContext().get(),
                                                                request, &response);
  return Finish(c, status, response, [&](std::ostream& os) {
    PrintQueueList(response.queues(), response.next_page_token(), os);
  });
}

}  // namespace thingtank::cli::queues
