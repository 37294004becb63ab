#include "tools/thingtank/cli/wamp_commands.h"

#include <signal.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "tools/thingtank/cli/wamp_format.h"

namespace thingtank::cli::wamp {
namespace {

namespace v1 = thingtank::wamp::v1;

// With --timeout, call's gRPC deadline is the callee's time plus this, so
// that the router's wamp.error.timeout arrives before the deadline does.
constexpr int64_t kCallDeadlineMarginNanos = 5'000'000'000;

// The positional ARGs after the URI (or --args) and --kwargs into the
// request's JSON fields; false with *exit set on a bad command line.
bool ReadArguments(const CommandContext& c, std::string* args_json, std::string* kwargs_json,
                   int* exit) {
  const std::vector<std::string>& positional = c.args.positional();
  const std::vector<std::string> args(positional.begin() + 1, positional.end());
  std::string error;
  if (c.args.Has("args")) {
    if (!args.empty()) {
      *exit = c.UsageError("give the arguments as ARG... or as --args, not both");
      return false;
    }
    if (!NormalizeJson(c.args.Get("args"), false, args_json, &error)) {
      *exit = c.UsageError("--args: " + error);
      return false;
    }
  } else if (!args.empty()) {
    *args_json = ArgumentsJson(args);
  }
  if (c.args.Has("kwargs") && !NormalizeJson(c.args.Get("kwargs"), true, kwargs_json, &error)) {
    *exit = c.UsageError("--kwargs: " + error);
    return false;
  }
  return true;
}

// --match, checked here so that a typo is a usage error (exit 2).
bool MatchFlag(const CommandContext& c, std::string* out, int* exit) {
  if (!c.args.Has("match")) return true;
  const std::string match = c.args.Get("match");
  if (match != "exact" && match != "prefix" && match != "wildcard") {
    *exit = c.UsageError("--match: \"" + match + "\" is not exact, prefix or wildcard");
    return false;
  }
  *out = match;
  return true;
}

// A WAMP error of a call comes with its URI as the ErrorInfo reason
// (wamp.error.no_such_procedure, thingtank.error.not_found, ...) and a message
// "<uri>: <first error argument>": printed as "error: <uri>: <argument>".
// Anything else (no server, bad realm) is reported as by every command.
int ReportCallError(const CommandContext& c, const grpc::Status& status) {
  const std::string uri = RpcErrorReason(status);
  if (c.json() || uri.find('.') == std::string::npos) {
    return ReportRpcError(status, c.connection.options(), c.io);
  }
  std::string message = status.error_message();
  if (message.compare(0, uri.size(), uri) == 0) {
    message.erase(0, uri.size());
    if (message.compare(0, 2, ": ") == 0) message.erase(0, 2);
  }
  c.io.err << "error: " << uri << (message.empty() ? "" : ": " + message) << "\n";
  return kExitFailure;
}

// Set by SIGINT/SIGTERM while a subscription runs.
std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free, "used in a signal handler");

void OnInterrupt(int) { g_interrupted.store(true); }

// While alive: SIGINT (Ctrl-C) and SIGTERM cancel `context` instead of
// killing the process, so that a subscription ends cleanly with exit 0. A
// thread polls the flag the handler sets (a handler may not call gRPC).
class InterruptWatch {
 public:
  explicit InterruptWatch(grpc::ClientContext* context) : context_(context) {
    g_interrupted.store(false);
    struct sigaction action = {};
    action.sa_handler = &OnInterrupt;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &old_int_);
    sigaction(SIGTERM, &action, &old_term_);
    thread_ = std::thread([this] {
      std::unique_lock<std::mutex> lock(mu_);
      while (!done_) {
        if (g_interrupted.load()) {
          context_->TryCancel();
          return;
        }
        cv_.wait_for(lock, std::chrono::milliseconds(50));
      }
    });
  }
  ~InterruptWatch() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  InterruptWatch(const InterruptWatch&) = delete;
  InterruptWatch& operator=(const InterruptWatch&) = delete;

  bool interrupted() const { return g_interrupted.load(); }

 private:
  grpc::ClientContext* context_;
  struct sigaction old_int_ = {};
  struct sigaction old_term_ = {};
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

// "NAME=TEMPLATE" of --key into the rule's key template.
bool ReadKeyTemplates(const CommandContext& c, v1::TopicToTable* rule, int* exit) {
  for (const std::string& spec : c.args.GetAll("key")) {
    const size_t eq = spec.find('=');
    if (eq == 0 || eq == std::string::npos) {
      *exit = c.UsageError("--key: \"" + spec + "\" is not NAME=TEMPLATE (e.g. device={kwargs.device})");
      return false;
    }
    const std::string name = spec.substr(0, eq);
    if (rule->key_template().count(name) > 0) {
      *exit = c.UsageError("--key " + name + " given more than once");
      return false;
    }
    (*rule->mutable_key_template())[name] = spec.substr(eq + 1);
  }
  return true;
}

}  // namespace

int Publish(const CommandContext& c) {
  v1::PublishRequest request;
  request.set_realm(c.args.Get("realm"));
  request.set_topic(c.target());
  int exit = kExitOk;
  if (!ReadArguments(c, request.mutable_args_json(), request.mutable_kwargs_json(), &exit)) {
    return exit;
  }
  v1::PublishResponse response;
  const grpc::Status status = c.stub.Publish(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response,
                [&](std::ostream& os) { os << response.publication() << "\n"; });
}

int Call(const CommandContext& c) {
  v1::CallRequest request;
  request.set_realm(c.args.Get("realm"));
  request.set_procedure(c.target());
  int exit = kExitOk;
  if (!ReadArguments(c, request.mutable_args_json(), request.mutable_kwargs_json(), &exit)) {
    return exit;
  }
  int64_t margin = 0;
  if (c.args.Has("timeout")) {
    SetDuration(c.connection.options().timeout_nanos, request.mutable_timeout());
    margin = kCallDeadlineMarginNanos;
  }
  v1::CallResponse response;
  const grpc::Status status =
      c.stub.Call(c.connection.NewContext(margin).get(), request, &response);
  if (!status.ok()) return ReportCallError(c, status);
  PrintCallResult(response, c.json(), c.io.out);
  return kExitOk;
}

int Subscribe(const CommandContext& c) {
  v1::SubscribeRequest request;
  request.set_realm(c.args.Get("realm"));
  request.set_topic(c.target());
  int exit = kExitOk;
  std::optional<int64_t> count;
  if (!MatchFlag(c, request.mutable_match(), &exit) || !IntFlag(c, "count", &count, &exit)) {
    return exit;
  }
  if (count && *count < 1) return c.UsageError("--count: must be at least 1");

  // A subscription runs until stopped: no deadline unless --timeout sets one.
  std::unique_ptr<grpc::ClientContext> context = c.connection.NewContext();
  if (!c.args.Has("timeout")) context->set_deadline(std::chrono::system_clock::time_point::max());
  InterruptWatch watch(context.get());
  std::unique_ptr<grpc::ClientReader<v1::SubscribeResponse>> reader =
      c.stub.Subscribe(context.get(), request);
  if (!c.json()) {
    c.io.err << "waiting for events on " << c.target() << " (Ctrl-C to stop)\n";
    c.io.err.flush();
  }
  int64_t received = 0;
  v1::SubscribeResponse event;
  while ((!count || received < *count) && reader->Read(&event)) {
    PrintEvent(event, c.json(), c.io.out);
    c.io.out.flush();  // a line as soon as its event arrives, also into a pipe
    ++received;
  }
  const bool enough = count && received >= *count;
  if (enough) context->TryCancel();
  const grpc::Status status = reader->Finish();
  if (enough || watch.interrupted()) return kExitOk;
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED && c.args.Has("timeout")) {
    // --timeout ends a listening window; with --count, too few events came.
    if (!count) return kExitOk;
    if (!c.json()) {
      c.io.err << "error: " << received << " of " << *count << " events within --timeout "
               << FormatDurationNanos(c.connection.options().timeout_nanos) << "\n";
      return kExitFailure;
    }
  }
  if (!status.ok()) return ReportRpcError(status, c.connection.options(), c.io);
  return kExitOk;  // the server ended the stream
}

int CreateRule(const CommandContext& c) {
  struct Kind {
    const char* flag;
    const char* second;  // what the positional after the flag's value is
  };
  static const Kind kKinds[] = {{"topic-to-queue", "QUEUE"},   {"queue-to-topic", "TOPIC"},
                                {"topic-to-table", "TABLE"},   {"topic-to-stream", "STREAM"},
                                {"stream-to-topic", "TOPIC"}};
  const Kind* kind = nullptr;
  for (const Kind& k : kKinds) {
    if (!c.args.Has(k.flag)) continue;
    if (kind != nullptr) return c.UsageError("give one rule kind per rule, not --" +
                                             std::string(kind->flag) + " and --" + k.flag);
    kind = &k;
  }
  if (kind == nullptr) {
    return c.UsageError("give one of --topic-to-queue TOPIC QUEUE, --queue-to-topic QUEUE TOPIC, "
                        "--topic-to-table TOPIC TABLE, --topic-to-stream TOPIC STREAM, "
                        "--stream-to-topic STREAM TOPIC");
  }
  const std::string flag = kind->flag;
  if (c.args.positional().empty()) {
    return c.UsageError("--" + flag + " needs its " + kind->second + " after " +
                        c.args.Get(flag));
  }
  const std::string first = c.args.Get(flag);
  const std::string second = c.args.positional()[0];
  int exit = kExitOk;
  std::string match;
  if (!MatchFlag(c, &match, &exit)) return exit;
  if ((flag == "queue-to-topic" || flag == "stream-to-topic") && c.args.Has("match")) {
    return c.UsageError(
        "--match applies to topic rules (--topic-to-queue, --topic-to-table, --topic-to-stream)");
  }
  if (flag != "topic-to-table" && c.args.Has("key")) {
    return c.UsageError("--key applies to --topic-to-table");
  }
  if (flag != "topic-to-stream" && c.args.Has("partition-key")) {
    return c.UsageError("--partition-key applies to --topic-to-stream");
  }
  if (flag != "stream-to-topic" && c.args.Has("starting-position")) {
    return c.UsageError("--starting-position applies to --stream-to-topic");
  }
  const std::string position = c.args.Get("starting-position");
  if (c.args.Has("starting-position") && position != "LATEST" && position != "TRIM_HORIZON") {
    return c.UsageError("--starting-position: \"" + position + "\" is not LATEST or TRIM_HORIZON");
  }

  v1::CreateRuleRequest request;
  v1::Rule* rule = request.mutable_rule();
  rule->set_realm(c.args.Get("realm"));
  if (flag == "topic-to-queue") {
    v1::TopicToQueue* r = rule->mutable_topic_to_queue();
    r->set_topic(first);
    r->set_match(match);
    r->set_queue(second);
  } else if (flag == "queue-to-topic") {
    v1::QueueToTopic* r = rule->mutable_queue_to_topic();
    r->set_queue(first);
    r->set_topic(second);
  } else if (flag == "topic-to-stream") {
    v1::TopicToStream* r = rule->mutable_topic_to_stream();
    r->set_topic(first);
    r->set_match(match);
    r->set_stream(second);
    r->set_partition_key_template(c.args.Get("partition-key"));
  } else if (flag == "stream-to-topic") {
    v1::StreamToTopic* r = rule->mutable_stream_to_topic();
    r->set_stream(first);
    r->set_topic(second);
    r->set_starting_position(position);
  } else {
    v1::TopicToTable* r = rule->mutable_topic_to_table();
    r->set_topic(first);
    r->set_match(match);
    r->set_table(second);
    if (!c.args.Has("key")) {
      return c.UsageError("--topic-to-table needs --key NAME=TEMPLATE for each key attribute "
                          "of the table");
    }
    if (!ReadKeyTemplates(c, r, &exit)) return exit;
  }
  v1::CreateRuleResponse response;
  const grpc::Status status =
      c.stub.CreateRule(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response,
                [&](std::ostream& os) { os << DescribeRule(response.rule()) << "\n"; });
}

int ListRules(const CommandContext& c) {
  v1::ListRulesRequest request;
  v1::ListRulesResponse response;
  const grpc::Status status =
      c.stub.ListRules(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) { PrintRules(response, os); });
}

int DeleteRule(const CommandContext& c) {
  v1::DeleteRuleRequest request;
  request.set_id(c.target());
  v1::DeleteRuleResponse response;
  const grpc::Status status =
      c.stub.DeleteRule(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response,
                [&](std::ostream& os) { os << "deleted rule " << c.target() << "\n"; });
}

}  // namespace thingtank::cli::wamp
