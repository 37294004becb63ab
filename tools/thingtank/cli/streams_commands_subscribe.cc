// `thingtank streams subscribe`: enhanced fan-out. Registers the consumer
// (or reuses it), waits until it is ACTIVE, and subscribes to a shard,
// printing records as they are pushed; when a subscription ends (after 5
// minutes) a new one goes on after its continuation sequence number, until
// Ctrl-C, --limit records, or the shard is closed.

#include <chrono>
#include <thread>

#include "absl/strings/str_join.h"
#include "tools/thingtank/cli/streams_args.h"
#include "tools/thingtank/cli/streams_commands.h"
#include "tools/thingtank/cli/streams_format.h"
#include "tools/thingtank/cli/streams_interrupt.h"

namespace thingtank::cli::streams {
namespace {

using Clock = std::chrono::steady_clock;

// A subscription lasts 5 minutes of the server's clock; its deadline is that
// plus --timeout (a server whose clock runs slower is resubscribed to).
constexpr int64_t kSubscriptionNanos = 300'000'000'000;
constexpr auto kConsumerPollInterval = std::chrono::milliseconds(100);
// Subscriptions in a row that may end without an event (refused for
// throttling or ResourceInUse, say) before the command gives up.
constexpr int kMaxQuietSubscriptions = 20;

class Subscription {
 public:
  Subscription(const CommandContext& c, v1::StartingPosition position, std::optional<int64_t> limit)
      : c_(c), position_(std::move(position)), limit_(limit) {}

  int Run() {
    v1::DescribeStreamSummaryRequest describe;
    describe.set_stream_name(c_.stream());
    v1::DescribeStreamSummaryResponse summary;
    grpc::Status status =
        c_.stub.DescribeStreamSummary(c_.connection.NewContext().get(), describe, &summary);
    if (!status.ok()) return Fail(status);
    stream_arn_ = summary.stream_description_summary().stream_arn();
    int exit = kExitOk;
    if (!PickShard(&exit) || !Consumer(&exit)) return exit;
    return Loop();
  }

 private:
  int Fail(const grpc::Status& status) {
    return ReportRpcError(status, c_.connection.options(), c_.io);
  }

  // --shard, or the stream's one open shard.
  bool PickShard(int* exit) {
    if (c_.args.Has("shard")) {
      shard_ = c_.args.Get("shard");
      return true;
    }
    std::vector<v1::Shard> shards;
    const grpc::Status status = ListAllShards(c_, &shards);
    if (!status.ok()) {
      *exit = Fail(status);
      return false;
    }
    std::vector<std::string> open = StartingShards(shards, /*open_only=*/true);
    if (open.size() != 1) {
      *exit = c_.UsageError("subscribe needs --shard: " + c_.stream() + " has " +
                            std::to_string(open.size()) + " open shards (" +
                            absl::StrJoin(open, ", ") + ")");
      return false;
    }
    shard_ = open.front();
    return true;
  }

  // The consumer --consumer of the stream, registered when it is not yet, and
  // ACTIVE; its ARN in consumer_arn_.
  bool Consumer(int* exit) {
    const auto deadline =
        Clock::now() + std::chrono::nanoseconds(c_.connection.options().timeout_nanos);
    bool registered = false;
    while (true) {
      v1::DescribeStreamConsumerRequest request;
      request.set_stream_arn(stream_arn_);
      request.set_consumer_name(c_.args.Get("consumer"));
      v1::DescribeStreamConsumerResponse response;
      grpc::Status status =
          c_.stub.DescribeStreamConsumer(c_.connection.NewContext().get(), request, &response);
      if (status.error_code() == grpc::StatusCode::NOT_FOUND && !registered) {
        v1::RegisterStreamConsumerRequest reg;
        reg.set_stream_arn(stream_arn_);
        reg.set_consumer_name(request.consumer_name());
        v1::RegisterStreamConsumerResponse made;
        status = c_.stub.RegisterStreamConsumer(c_.connection.NewContext().get(), reg, &made);
        // Registered meanwhile by someone else: described next time round.
        if (!status.ok() && RpcErrorReason(status) != "ResourceInUseException") {
          *exit = Fail(status);
          return false;
        }
        registered = true;
        if (status.ok() && !c_.json()) {
          c_.io.err << "registered consumer " << made.consumer().consumer_name() << " of "
                    << c_.stream() << "\n";
        }
        continue;
      }
      if (!status.ok()) {
        *exit = Fail(status);
        return false;
      }
      const v1::Consumer& consumer = response.consumer_description();
      if (consumer.consumer_status() == v1::CONSUMER_STATUS_ACTIVE) {
        consumer_arn_ = consumer.consumer_arn();
        return true;
      }
      if (Clock::now() + kConsumerPollInterval > deadline) {
        *exit = ReportLocalError("consumer " + consumer.consumer_name() + " is still " +
                                     ConsumerStatusName(consumer.consumer_status()) + " after " +
                                     FormatDurationNanos(c_.connection.options().timeout_nanos) +
                                     " (raise --timeout?)",
                                 c_.json(), c_.io);
        return false;
      }
      std::this_thread::sleep_for(kConsumerPollInterval);
    }
  }

  // Subscription after subscription; the exit code.
  int Loop() {
    Interrupt interrupt;
    int subscriptions = 0;
    int quiet = 0;  // subscriptions in a row that ended without an event
    while (true) {
      ++subscriptions;
      v1::SubscribeToShardRequest request;
      request.set_consumer_arn(consumer_arn_);
      request.set_shard_id(shard_);
      *request.mutable_starting_position() = position_;
      std::unique_ptr<grpc::ClientContext> context = c_.connection.NewContext(kSubscriptionNanos);
      interrupt.Watch(context.get());
      std::unique_ptr<grpc::ClientReader<v1::SubscribeToShardResponse>> reader =
          c_.stub.SubscribeToShard(context.get(), request);
      v1::SubscribeToShardResponse event;
      int events = 0;
      std::vector<std::string> children;
      bool limit_reached = false;
      while (!limit_reached && reader->Read(&event)) {
        if (events++ == 0 && subscriptions == 1 && !c_.json()) {
          c_.io.err << "subscribed to " << shard_ << " of " << c_.stream() << " as "
                    << c_.args.Get("consumer") << " from " << IteratorTypeName(position_.type())
                    << " (Ctrl-C to stop)\n";
          c_.io.err.flush();
        }
        limit_reached = Print(event);
        if (!event.continuation_sequence_number().empty()) {
          position_.Clear();
          position_.set_type(v1::SHARD_ITERATOR_TYPE_AFTER_SEQUENCE_NUMBER);
          position_.set_sequence_number(event.continuation_sequence_number());
        }
        for (const v1::ChildShard& child : event.child_shards()) {
          children.push_back(child.shard_id());
        }
      }
      if (limit_reached) context->TryCancel();
      const grpc::Status status = reader->Finish();
      interrupt.Watch(nullptr);
      if (limit_reached || interrupt.interrupted()) return kExitOk;
      if (!children.empty() && status.ok()) {
        if (!c_.json()) {
          c_.io.err << shard_ << " is closed; its children: " << absl::StrJoin(children, ", ")
                    << "\n";
        }
        return kExitOk;
      }
      // Over after its 5 minutes: the next one goes on from the continuation.
      const bool ended = status.ok() || status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
      // A resubscription may find the previous subscription still closing.
      const bool busy = IsThrottled(status) || RpcErrorReason(status) == "ResourceInUseException";
      if (!ended && !(busy && subscriptions > 1)) return Fail(status);
      quiet = events > 0 ? 0 : quiet + 1;
      if (quiet >= kMaxQuietSubscriptions) {
        if (!status.ok()) return Fail(status);
        return ReportLocalError(std::to_string(quiet) + " subscriptions to " + shard_ +
                                    " in a row ended without an event",
                                c_.json(), c_.io);
      }
      if (quiet > 0 && !interrupt.Sleep(Backoff(quiet, status))) return kExitOk;
    }
  }

  // Prints the records of one event; true when --limit is reached.
  bool Print(const v1::SubscribeToShardResponse& event) {
    for (const v1::Record& record : event.records()) {
      if (c_.json()) {
        PrintJson(record, c_.io.out);
      } else {
        c_.io.out << RecordLine(record) << "\n";
      }
      if (limit_ && ++printed_ >= *limit_) break;
    }
    c_.io.out.flush();
    return limit_ && printed_ >= *limit_;
  }

  const CommandContext& c_;
  v1::StartingPosition position_;  // of the next subscription
  const std::optional<int64_t> limit_;
  std::string stream_arn_;
  std::string consumer_arn_;
  std::string shard_;
  int64_t printed_ = 0;
};

}  // namespace

int Subscribe(const CommandContext& c) {
  if (!c.args.Has("consumer")) return c.UsageError("subscribe needs --consumer NAME");
  v1::StartingPosition position;
  std::optional<int64_t> limit;
  int exit = kExitOk;
  if (!ReadPosition(c, v1::SHARD_ITERATOR_TYPE_LATEST, &position, &exit) ||
      !IntAtLeast(c, "limit", 1, &limit, &exit)) {
    return exit;
  }
  return Subscription(c, std::move(position), limit).Run();
}

}  // namespace thingtank::cli::streams
