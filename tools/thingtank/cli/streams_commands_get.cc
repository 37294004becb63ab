// `thingtank streams get`: records through shard iterators, from one shard
// or the whole stream (parents before their children), until caught up or,
// with --follow, until Ctrl-C: GetRecords in a loop on every shard being
// read, the children of a shard once it is closed and drained, a backoff
// when throttled, a new iterator when one expired.

#include <algorithm>
#include <chrono>
#include <limits>

#include "tools/thingtank/cli/streams_args.h"
#include "tools/thingtank/cli/streams_commands.h"
#include "tools/thingtank/cli/streams_format.h"
#include "tools/thingtank/cli/streams_interrupt.h"

namespace thingtank::cli::streams {
namespace {

using Clock = std::chrono::steady_clock;

// --follow: how soon a shard that had nothing new is asked again (each shard
// takes 5 GetRecords calls a second).
constexpr auto kIdlePoll = std::chrono::milliseconds(250);
constexpr int64_t kMaxGetLimit = 10'000;

// One shard being read.
struct Reader {
  std::string shard_id;
  // Where it started (again there when the iterator expired before a record).
  v1::StartingPosition position;
  std::string iterator;
  // The last record printed (where to go on when the iterator expired).
  std::string last_sequence;
  Clock::time_point next_poll;
  int throttled = 0;  // calls throttled in a row
};

class StreamGet {
 public:
  StreamGet(const CommandContext& c, v1::StartingPosition position, std::optional<int64_t> limit)
      : c_(c), position_(std::move(position)), limit_(limit), follow_(c.args.Bool("follow")) {}

  int Run() {
    std::vector<std::string> shards;
    if (c_.args.Has("shard")) {
      shards.push_back(c_.args.Get("shard"));
    } else {
      std::vector<v1::Shard> listed;
      const grpc::Status status = ListAllShards(c_, &listed);
      if (!status.ok()) return Fail(status);
      shards = StartingShards(listed, position_.type() == v1::SHARD_ITERATOR_TYPE_LATEST);
    }
    for (const std::string& shard : shards) {
      walk_.Start(shard);
      if (!Open(shard, position_, "")) return OpenFailed();
    }
    if (follow_ && !c_.json()) {
      c_.io.err << "following " << readers_.size() << (readers_.size() == 1 ? " shard" : " shards")
                << " of " << c_.stream() << " from " << IteratorTypeName(position_.type())
                << " (Ctrl-C to stop)\n";
      c_.io.err.flush();
    }
    while (!readers_.empty()) {
      // Without --follow one shard after the other; with it, whichever is due.
      const size_t reader =
          follow_ ? static_cast<size_t>(std::min_element(readers_.begin(), readers_.end(),
                                                         [](const Reader& a, const Reader& b) {
                                                           return a.next_poll < b.next_poll;
                                                         }) -
                                        readers_.begin())
                  : 0;
      const auto wait = readers_[reader].next_poll - Clock::now();
      if (wait > Clock::duration::zero() &&
          !interrupt_.Sleep(std::chrono::duration_cast<std::chrono::nanoseconds>(wait).count())) {
        return kExitOk;
      }
      if (interrupt_.interrupted()) return kExitOk;
      int exit = kExitOk;
      // Poll may add readers (at the end): `reader` stays valid as an index.
      if (!Poll(reader, &exit)) return exit;
      if (readers_[reader].iterator.empty()) {
        readers_.erase(readers_.begin() + static_cast<std::ptrdiff_t>(reader));
      }
    }
    return kExitOk;
  }

 private:
  int Fail(const grpc::Status& status) {
    return ReportRpcError(status, c_.connection.options(), c_.io);
  }

  // The exit code after Open returned false: reported, or interrupted.
  int OpenFailed() const { return interrupt_.interrupted() ? kExitOk : kExitFailure; }

  // Adds a reader of `shard` at `position` (after `last_sequence` when not
  // empty); false when the iterator could not be had (reported) or Ctrl-C
  // came during a backoff.
  bool Open(const std::string& shard, const v1::StartingPosition& position,
            const std::string& last_sequence) {
    v1::GetShardIteratorRequest request;
    request.set_stream_name(c_.stream());
    request.set_shard_id(shard);
    if (!last_sequence.empty()) {
      request.set_shard_iterator_type(v1::SHARD_ITERATOR_TYPE_AFTER_SEQUENCE_NUMBER);
      request.set_starting_sequence_number(last_sequence);
    } else {
      request.set_shard_iterator_type(position.type());
      request.set_starting_sequence_number(position.sequence_number());
      if (position.has_timestamp()) *request.mutable_timestamp() = position.timestamp();
    }
    v1::GetShardIteratorResponse response;
    grpc::Status status;
    for (int attempt = 1;; ++attempt) {
      status = c_.stub.GetShardIterator(c_.connection.NewContext().get(), request, &response);
      if (status.ok() || !IsThrottled(status)) break;
      if (!interrupt_.Sleep(Backoff(attempt, status))) return false;
    }
    if (!status.ok()) {
      Fail(status);
      return false;
    }
    readers_.push_back(
        Reader{shard, position, response.shard_iterator(), last_sequence, Clock::now(), 0});
    return true;
  }

  // One GetRecords of readers_[index]: prints its records and says when to
  // call again; an empty iterator when the shard is done. False with *exit
  // set when the command ends (a failure, or --limit reached).
  bool Poll(size_t index, int* exit) {
    Reader* reader = &readers_[index];
    v1::GetRecordsRequest request;
    request.set_shard_iterator(reader->iterator);
    if (limit_) request.set_limit(static_cast<int32_t>(std::min(*limit_ - printed_, kMaxGetLimit)));
    v1::GetRecordsResponse response;
    const grpc::Status status =
        c_.stub.GetRecords(c_.connection.NewContext().get(), request, &response);
    if (IsThrottled(status)) {
      ++reader->throttled;
      reader->next_poll =
          Clock::now() + std::chrono::nanoseconds(Backoff(reader->throttled, status));
      return true;
    }
    if (RpcErrorReason(status) == "ExpiredIteratorException") {
      // Again from where this reader was; a new reader takes its place.
      const Reader expired = *reader;
      reader->iterator.clear();
      if (!Open(expired.shard_id, expired.position, expired.last_sequence)) {
        *exit = OpenFailed();
        return false;
      }
      return true;
    }
    if (!status.ok()) {
      *exit = Fail(status);
      return false;
    }
    reader->throttled = 0;
    for (const v1::Record& record : response.records()) {
      if (c_.json()) {
        PrintJson(record, c_.io.out);
      } else {
        c_.io.out << RecordLine(record) << "\n";
      }
      reader->last_sequence = record.sequence_number();
      if (limit_ && ++printed_ >= *limit_) {
        c_.io.out.flush();
        *exit = kExitOk;
        return false;
      }
    }
    c_.io.out.flush();  // a record as soon as it is read, also into a pipe
    reader->iterator = response.next_shard_iterator();
    if (reader->iterator.empty()) {
      // Closed and drained: its children, once all their parents are.
      std::vector<v1::ChildShard> children(response.child_shards().begin(),
                                           response.child_shards().end());
      const std::string shard = reader->shard_id;
      // Open adds readers: `reader` is not used after this.
      for (const std::string& child : walk_.Drained(shard, children)) {
        if (!Open(child, position_for_children(), "")) {
          *exit = OpenFailed();
          return false;
        }
      }
      return true;
    }
    const bool caught_up = response.records().empty() && response.millis_behind_latest() == 0;
    if (caught_up && !follow_) {
      reader->iterator.clear();  // done with this shard
    } else {
      reader->next_poll =
          Clock::now() + (response.records().empty() ? kIdlePoll : Clock::duration::zero());
    }
    return true;
  }

  // A child shard is read from its start (its records all follow its
  // parents'), or from the timestamp asked for.
  v1::StartingPosition position_for_children() const {
    v1::StartingPosition position;
    if (position_.type() == v1::SHARD_ITERATOR_TYPE_AT_TIMESTAMP) return position_;
    position.set_type(v1::SHARD_ITERATOR_TYPE_TRIM_HORIZON);
    return position;
  }

  const CommandContext& c_;
  const v1::StartingPosition position_;
  const std::optional<int64_t> limit_;
  const bool follow_;
  Interrupt interrupt_;
  ShardWalk walk_;
  std::vector<Reader> readers_;
  int64_t printed_ = 0;
};

}  // namespace

int Get(const CommandContext& c) {
  const bool follow = c.args.Bool("follow");
  v1::StartingPosition position;
  std::optional<int64_t> limit;
  int exit = kExitOk;
  const v1::ShardIteratorType fallback =
      follow ? v1::SHARD_ITERATOR_TYPE_LATEST : v1::SHARD_ITERATOR_TYPE_TRIM_HORIZON;
  if (!ReadPosition(c, fallback, &position, &exit) || !IntAtLeast(c, "limit", 1, &limit, &exit)) {
    return exit;
  }
  if (!position.sequence_number().empty() && !c.args.Has("shard")) {
    return c.UsageError("--from " + IteratorTypeName(position.type()) +
                        " needs --shard (a sequence number is of one shard)");
  }
  return StreamGet(c, std::move(position), limit).Run();
}

}  // namespace thingtank::cli::streams
