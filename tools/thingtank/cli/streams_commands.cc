// `thingtank streams` create, describe, list, delete, retention, split,
// merge and update-shard-count, and the helpers every streams command
// shares.

#include "tools/thingtank/cli/streams_commands.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <random>
#include <thread>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "tools/thingtank/cli/compute_args.h"
#include "tools/thingtank/cli/streams_args.h"
#include "tools/thingtank/cli/streams_format.h"

namespace thingtank::cli::streams {
namespace {

using Clock = std::chrono::steady_clock;

// How often --wait asks whether the stream is ACTIVE.
constexpr auto kWaitPollInterval = std::chrono::milliseconds(100);

grpc::Status DescribeSummary(const CommandContext& c, v1::DescribeStreamSummaryResponse* out) {
  v1::DescribeStreamSummaryRequest request;
  request.set_stream_name(c.stream());
  return c.stub.DescribeStreamSummary(c.connection.NewContext().get(), request, out);
}

}  // namespace

// ---------------------------------------------------------------------------
// Shared helpers.

std::optional<int64_t> RetryDelayNanos(const grpc::Status& status) {
  google::rpc::Status rpc_status;
  if (status.error_details().empty() || !rpc_status.ParseFromString(status.error_details())) {
    return std::nullopt;
  }
  for (const google::protobuf::Any& any : rpc_status.details()) {
    google::rpc::RetryInfo retry;
    if (any.UnpackTo(&retry)) {
      return retry.retry_delay().seconds() * 1'000'000'000 + retry.retry_delay().nanos();
    }
  }
  return std::nullopt;
}

bool IsThrottled(const grpc::Status& status) {
  if (status.error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED) return false;
  const std::string reason = RpcErrorReason(status);
  if (reason == kThroughputExceeded) return true;
  return reason != "LimitExceededException" && RetryDelayNanos(status).has_value();
}

int64_t Backoff(int attempt, const grpc::Status& status) {
  thread_local std::mt19937 random(std::random_device{}());
  return BackoffNanos(attempt, RetryDelayNanos(status),
                      std::uniform_real_distribution<double>(0.0, 1.0)(random));
}

grpc::Status ListAllShards(const CommandContext& c, std::vector<v1::Shard>* out) {
  out->clear();
  v1::ListShardsRequest request;
  request.set_stream_name(c.stream());
  while (true) {
    v1::ListShardsResponse response;
    grpc::Status status = c.stub.ListShards(c.connection.NewContext().get(), request, &response);
    if (!status.ok()) return status;
    for (v1::Shard& shard : *response.mutable_shards()) out->push_back(std::move(shard));
    if (response.next_token().empty()) return grpc::Status::OK;
    request.Clear();  // next_token goes without the stream name
    request.set_next_token(response.next_token());
  }
}

bool IntAtLeast(const CommandContext& c, const std::string& flag, int64_t min,
                std::optional<int64_t>* out, int* exit) {
  if (!cli::IntFlag(c, flag, out, exit)) return false;
  if (*out && **out < min) {
    *exit = c.UsageError("--" + flag + ": must be at least " + std::to_string(min));
    return false;
  }
  return true;
}

bool ReadPosition(const CommandContext& c, v1::ShardIteratorType fallback,
                  v1::StartingPosition* position, int* exit) {
  v1::ShardIteratorType type = fallback;
  if (c.args.Has("from") && !ParseIteratorType(c.args.Get("from"), &type)) {
    *exit = c.UsageError("--from: \"" + c.args.Get("from") + "\" is not " + kIteratorTypeNames);
    return false;
  }
  position->set_type(type);
  const bool by_sequence = type == v1::SHARD_ITERATOR_TYPE_AT_SEQUENCE_NUMBER ||
                           type == v1::SHARD_ITERATOR_TYPE_AFTER_SEQUENCE_NUMBER;
  const bool by_time = type == v1::SHARD_ITERATOR_TYPE_AT_TIMESTAMP;
  const std::string from = IteratorTypeName(type);
  if (by_sequence != c.args.Has("sequence")) {
    *exit = c.UsageError(by_sequence ? "--from " + from + " needs --sequence"
                                     : "--sequence goes with --from at-sequence or after-sequence");
    return false;
  }
  if (by_time != c.args.Has("timestamp")) {
    *exit = c.UsageError(by_time ? "--from at-timestamp needs --timestamp"
                                 : "--timestamp goes with --from at-timestamp");
    return false;
  }
  if (by_sequence) position->set_sequence_number(c.args.Get("sequence"));
  if (by_time) {
    absl::Time time;
    std::string error;
    if (!compute::ParseTime(c.args.Get("timestamp"), absl::Now(), &time, &error)) {
      *exit = c.UsageError("--timestamp: " + error);
      return false;
    }
    compute::SetTimestamp(time, position->mutable_timestamp());
  }
  return true;
}

int FinishChange(const CommandContext& c, const google::protobuf::Message& response,
                 const std::function<void(std::ostream&)>& human) {
  if (!c.args.Bool("wait")) return Finish(c, grpc::Status::OK, response, human);
  const auto deadline =
      Clock::now() + std::chrono::nanoseconds(c.connection.options().timeout_nanos);
  v1::DescribeStreamSummaryResponse summary;
  while (true) {
    const grpc::Status status = DescribeSummary(c, &summary);
    if (!status.ok()) return ReportRpcError(status, c.connection.options(), c.io);
    const v1::StreamStatus state = summary.stream_description_summary().stream_status();
    if (state == v1::STREAM_STATUS_ACTIVE) break;
    if (state == v1::STREAM_STATUS_DELETING) {
      return ReportLocalError("stream " + c.stream() + " is being deleted", c.json(), c.io);
    }
    if (Clock::now() + kWaitPollInterval > deadline) {
      return ReportLocalError(
          "stream " + c.stream() + " is still " + StatusName(state) + " after " +
              FormatDurationNanos(c.connection.options().timeout_nanos) + " (raise --timeout?)",
          c.json(), c.io);
    }
    std::this_thread::sleep_for(kWaitPollInterval);
  }
  return Finish(c, grpc::Status::OK, summary, [&](std::ostream& os) {
    human(os);
    os << "stream " << c.stream() << " is ACTIVE ("
       << summary.stream_description_summary().open_shard_count() << " open shards)\n";
  });
}

// ---------------------------------------------------------------------------
// Streams.

int Create(const CommandContext& c) {
  v1::CreateStreamRequest request;
  request.set_stream_name(c.stream());
  v1::StreamMode mode = v1::STREAM_MODE_PROVISIONED;
  if (c.args.Has("mode") && !ParseStreamMode(c.args.Get("mode"), &mode)) {
    return c.UsageError("--mode: \"" + c.args.Get("mode") + "\" is not provisioned or on-demand");
  }
  std::optional<int64_t> shards;
  int exit = kExitOk;
  if (!IntAtLeast(c, "shards", 1, &shards, &exit)) return exit;
  if (shards && mode == v1::STREAM_MODE_ON_DEMAND) {
    return c.UsageError("--shards is for provisioned streams (on-demand streams start with 4)");
  }
  if (shards && *shards > std::numeric_limits<int32_t>::max()) {
    return c.UsageError("--shards: " + std::to_string(*shards) + " is too many");
  }
  request.set_stream_mode(mode);
  if (mode == v1::STREAM_MODE_PROVISIONED) {
    request.set_shard_count(static_cast<int32_t>(shards.value_or(1)));
  }
  v1::CreateStreamResponse response;
  const grpc::Status status =
      c.stub.CreateStream(c.connection.NewContext().get(), request, &response);
  if (!status.ok()) return ReportRpcError(status, c.connection.options(), c.io);
  return FinishChange(c, response, [&](std::ostream& os) {
    os << "created stream " << c.stream() << " (" << ModeName(mode);
    if (mode == v1::STREAM_MODE_PROVISIONED) os << ", " << request.shard_count() << " shards";
    os << ")\n";
  });
}

int Describe(const CommandContext& c) {
  v1::DescribeStreamRequest request;
  request.set_stream_name(c.stream());
  v1::DescribeStreamResponse all;
  // Page after page of shards, gathered into one description.
  while (true) {
    v1::DescribeStreamResponse page;
    const grpc::Status status =
        c.stub.DescribeStream(c.connection.NewContext().get(), request, &page);
    if (!status.ok()) return ReportRpcError(status, c.connection.options(), c.io);
    v1::StreamDescription* stream = page.mutable_stream_description();
    if (!all.has_stream_description()) {
      *all.mutable_stream_description() = *stream;
    } else {
      for (v1::Shard& shard : *stream->mutable_shards()) {
        *all.mutable_stream_description()->add_shards() = std::move(shard);
      }
    }
    if (!stream->has_more_shards() || stream->shards().empty()) break;
    request.set_exclusive_start_shard_id(
        all.stream_description().shards(all.stream_description().shards_size() - 1).shard_id());
  }
  all.mutable_stream_description()->set_has_more_shards(false);
  return Finish(c, grpc::Status::OK, all,
                [&](std::ostream& os) { PrintStreamDescription(all.stream_description(), os); });
}

int List(const CommandContext& c) {
  v1::ListStreamsRequest request;
  std::optional<int64_t> limit;
  int exit = kExitOk;
  if (!IntAtLeast(c, "limit", 1, &limit, &exit)) return exit;
  if (limit) request.set_limit(static_cast<int32_t>(std::min<int64_t>(*limit, 1'000'000)));
  request.set_next_token(c.args.Get("next-token"));
  v1::ListStreamsResponse response;
  const grpc::Status status =
      c.stub.ListStreams(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) { PrintStreamList(response, os); });
}

int Delete(const CommandContext& c) {
  v1::DeleteStreamRequest request;
  request.set_stream_name(c.stream());
  request.set_enforce_consumer_deletion(c.args.Bool("enforce-consumer-deletion"));
  v1::DeleteStreamResponse response;
  const grpc::Status status =
      c.stub.DeleteStream(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response,
                [&](std::ostream& os) { os << "deleting stream " << c.stream() << "\n"; });
}

int Retention(const CommandContext& c) {
  std::optional<int64_t> hours;
  int exit = kExitOk;
  if (!IntAtLeast(c, "hours", 1, &hours, &exit)) return exit;
  if (hours && *hours > std::numeric_limits<int32_t>::max()) {
    return c.UsageError("--hours: " + std::to_string(*hours) + " is too many");
  }
  v1::DescribeStreamSummaryResponse before;
  grpc::Status status = DescribeSummary(c, &before);
  if (!status.ok()) return ReportRpcError(status, c.connection.options(), c.io);
  const int32_t was = before.stream_description_summary().retention_period_hours();
  if (hours && *hours != was) {
    const auto target = static_cast<int32_t>(*hours);
    if (target > was) {
      v1::IncreaseStreamRetentionPeriodRequest request;
      request.set_stream_name(c.stream());
      request.set_retention_period_hours(target);
      v1::IncreaseStreamRetentionPeriodResponse response;
      status =
          c.stub.IncreaseStreamRetentionPeriod(c.connection.NewContext().get(), request, &response);
    } else {
      v1::DecreaseStreamRetentionPeriodRequest request;
      request.set_stream_name(c.stream());
      request.set_retention_period_hours(target);
      v1::DecreaseStreamRetentionPeriodResponse response;
      status =
          c.stub.DecreaseStreamRetentionPeriod(c.connection.NewContext().get(), request, &response);
    }
    if (!status.ok()) return ReportRpcError(status, c.connection.options(), c.io);
  }
  v1::DescribeStreamSummaryResponse after = before;
  if (hours && *hours != was) {
    status = DescribeSummary(c, &after);
    if (!status.ok()) return ReportRpcError(status, c.connection.options(), c.io);
  }
  const int32_t now = after.stream_description_summary().retention_period_hours();
  return Finish(c, grpc::Status::OK, after, [&](std::ostream& os) {
    os << "retention of " << c.stream() << ": " << now << " hours";
    if (hours && now != was) os << " (was " << was << ")";
    os << "\n";
  });
}

// ---------------------------------------------------------------------------
// Resharding.

int Split(const CommandContext& c) {
  if (!c.args.Has("shard")) return c.UsageError("split needs --shard (the shard to split)");
  v1::SplitShardRequest request;
  request.set_stream_name(c.stream());
  request.set_shard_to_split(c.args.Get("shard"));
  if (c.args.Has("hash-key")) {
    request.set_new_starting_hash_key(c.args.Get("hash-key"));
  } else {
    std::vector<v1::Shard> shards;
    const grpc::Status status = ListAllShards(c, &shards);
    if (!status.ok()) return ReportRpcError(status, c.connection.options(), c.io);
    const v1::Shard* found = nullptr;
    for (const v1::Shard& shard : shards) {
      if (shard.shard_id() == request.shard_to_split()) found = &shard;
    }
    if (found == nullptr) {
      return ReportLocalError("stream " + c.stream() + " has no shard " + request.shard_to_split(),
                              c.json(), c.io);
    }
    std::string error;
    if (!MidpointHashKey(found->hash_key_range(), request.mutable_new_starting_hash_key(),
                         &error)) {
      return ReportLocalError("cannot split " + request.shard_to_split() + ": " + error, c.json(),
                              c.io);
    }
  }
  v1::SplitShardResponse response;
  const grpc::Status status =
      c.stub.SplitShard(c.connection.NewContext().get(), request, &response);
  if (!status.ok()) return ReportRpcError(status, c.connection.options(), c.io);
  return FinishChange(c, response, [&](std::ostream& os) {
    os << "split " << request.shard_to_split() << " at hash key " << request.new_starting_hash_key()
       << "\n";
  });
}

int Merge(const CommandContext& c) {
  v1::MergeShardsRequest request;
  request.set_stream_name(c.stream());
  request.set_shard_to_merge(c.args.positional().at(1));
  request.set_adjacent_shard_to_merge(c.args.positional().at(2));
  v1::MergeShardsResponse response;
  const grpc::Status status =
      c.stub.MergeShards(c.connection.NewContext().get(), request, &response);
  if (!status.ok()) return ReportRpcError(status, c.connection.options(), c.io);
  return FinishChange(c, response, [&](std::ostream& os) {
    os << "merged " << request.shard_to_merge() << " and " << request.adjacent_shard_to_merge()
       << "\n";
  });
}

int UpdateShardCount(const CommandContext& c) {
  const std::string& text = c.args.positional().at(1);
  int64_t count = 0;
  if (!ParseInt64(text, 11, &count) || count < 1 || count > std::numeric_limits<int32_t>::max()) {
    return c.UsageError("<count>: \"" + text + "\" is not a shard count (1 or more)");
  }
  v1::UpdateShardCountRequest request;
  request.set_stream_name(c.stream());
  request.set_target_shard_count(static_cast<int32_t>(count));
  request.set_scaling_type(v1::SCALING_TYPE_UNIFORM_SCALING);
  v1::UpdateShardCountResponse response;
  const grpc::Status status =
      c.stub.UpdateShardCount(c.connection.NewContext().get(), request, &response);
  if (!status.ok()) return ReportRpcError(status, c.connection.options(), c.io);
  return FinishChange(c, response, [&](std::ostream& os) {
    os << "shards of " << c.stream() << ": " << response.current_shard_count() << " -> "
       << response.target_shard_count() << "\n";
  });
}

}  // namespace thingtank::cli::streams
