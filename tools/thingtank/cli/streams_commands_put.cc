// `thingtank streams put`: one record with PutRecord, or every line of a
// file as a record with PutRecords (batches of up to 500 records and 5 MiB),
// sending the records the server throttled again after a backoff.

#include <fstream>
#include <istream>
#include <thread>

#include "tools/thingtank/cli/streams_args.h"
#include "tools/thingtank/cli/streams_commands.h"

namespace thingtank::cli::streams {
namespace {

// Tries of one call or one batch's records before giving up on throttling.
constexpr int kMaxAttempts = 20;

void SleepNanos(int64_t nanos) { std::this_thread::sleep_for(std::chrono::nanoseconds(nanos)); }

int PutOne(const CommandContext& c) {
  if (!c.args.Has("partition-key")) return c.UsageError("put needs --partition-key");
  v1::PutRecordRequest request;
  request.set_stream_name(c.stream());
  request.set_data(c.args.positional().at(1));
  request.set_partition_key(c.args.Get("partition-key"));
  request.set_explicit_hash_key(c.args.Get("explicit-hash-key"));
  v1::PutRecordResponse response;
  grpc::Status status;
  for (int attempt = 1;; ++attempt) {
    status = c.stub.PutRecord(c.connection.NewContext().get(), request, &response);
    if (status.ok() || !IsThrottled(status) || attempt == kMaxAttempts) break;
    SleepNanos(Backoff(attempt, status));
  }
  return Finish(c, status, response, [&](std::ostream& os) {
    os << response.shard_id() << " " << response.sequence_number() << "\n";
  });
}

// The records of a file, put batch by batch.
class FilePut {
 public:
  explicit FilePut(const CommandContext& c) : c_(c) {}

  // Puts every line of `in`; the exit code.
  int Run(std::istream& in) {
    std::vector<v1::PutRecordsRequestEntry> batch;
    size_t batch_bytes = 0;
    std::string line;
    while (std::getline(in, line)) {
      v1::PutRecordsRequestEntry entry;
      ++lines_;
      entry.set_data(std::move(line));
      entry.set_partition_key(c_.args.Get("partition-key", std::to_string(lines_)));
      entry.set_explicit_hash_key(c_.args.Get("explicit-hash-key"));
      const size_t bytes = EntryBytes(entry);
      if (!BatchHasRoom(static_cast<int>(batch.size()), batch_bytes, bytes)) {
        if (!Send(&batch)) return kExitFailure;
        batch_bytes = 0;
      }
      batch.push_back(std::move(entry));
      batch_bytes += bytes;
    }
    if (in.bad()) {
      ReportLocalError("cannot read " + source() + " after " + std::to_string(lines_) + " lines",
                       c_.json(), c_.io);
      return kExitFailure;
    }
    if (!batch.empty() && !Send(&batch)) return kExitFailure;
    return Report();
  }

 private:
  std::string source() const {
    return c_.args.Get("file") == "-" ? "stdin" : "--file " + c_.args.Get("file");
  }

  // Sends `batch` (then empties it) until every record is written or failed
  // for good; false when a call failed (reported).
  bool Send(std::vector<v1::PutRecordsRequestEntry>* batch) {
    const int64_t first = put_ + failed_;  // index in the file of batch[0]
    v1::PutRecordsRequest request;
    request.set_stream_name(c_.stream());
    for (v1::PutRecordsRequestEntry& entry : *batch) *request.add_records() = std::move(entry);
    batch->clear();
    // Where each record of `request` is in the batch.
    std::vector<int> index(static_cast<size_t>(request.records_size()));
    for (size_t i = 0; i < index.size(); ++i) index[i] = static_cast<int>(i);
    std::vector<v1::PutRecordsResultEntry> results(index.size());
    ++batches_;
    for (int attempt = 1;; ++attempt) {
      v1::PutRecordsResponse response;
      const grpc::Status status =
          c_.stub.PutRecords(c_.connection.NewContext().get(), request, &response);
      if (!status.ok()) {
        if (IsThrottled(status) && attempt < kMaxAttempts) {
          SleepNanos(Backoff(attempt, status));
          continue;
        }
        ReportRpcError(status, c_.connection.options(), c_.io);
        if (!c_.json()) {
          int64_t written = put_;
          for (const v1::PutRecordsResultEntry& result : results) {
            if (!result.sequence_number().empty()) ++written;
          }
          c_.io.err << written << " records were put before this failure (in the batch from line "
                    << first + 1 << ")\n";
        }
        return false;
      }
      if (response.records_size() != request.records_size()) {
        ReportLocalError("PutRecords answered " + std::to_string(response.records_size()) +
                             " results for " + std::to_string(request.records_size()) + " records",
                         c_.json(), c_.io);
        return false;
      }
      const std::vector<int> throttled = ThrottledRecords(response);
      for (int i = 0; i < response.records_size(); ++i) {
        results[static_cast<size_t>(index[static_cast<size_t>(i)])] = response.records(i);
      }
      if (throttled.empty() || attempt == kMaxAttempts) break;
      // Again: only the throttled records, in their order.
      retried_ += static_cast<int64_t>(throttled.size());
      v1::PutRecordsRequest again;
      again.set_stream_name(c_.stream());
      std::vector<int> again_index;
      for (int i : throttled) {
        *again.add_records() = std::move(*request.mutable_records(i));
        again_index.push_back(index[static_cast<size_t>(i)]);
      }
      request = std::move(again);
      index = std::move(again_index);
      SleepNanos(Backoff(attempt, grpc::Status::OK));
    }
    for (v1::PutRecordsResultEntry& result : results) {
      if (result.error_code().empty()) {
        ++put_;
      } else {
        ++failed_;
        if (first_error_.empty()) {
          first_error_ = result.error_code() + ": " + result.error_message();
        }
      }
      if (c_.json()) *all_.add_records() = std::move(result);
    }
    return true;
  }

  int Report() {
    all_.set_failed_record_count(static_cast<int32_t>(failed_));
    if (c_.json()) {
      PrintJson(all_, c_.io.out);
    } else {
      c_.io.out << "put " << put_ << " records to " << c_.stream() << " (" << batches_
                << (batches_ == 1 ? " batch" : " batches");
      if (retried_ > 0) c_.io.out << "; " << retried_ << " throttled and sent again";
      c_.io.out << ")\n";
    }
    if (failed_ == 0) return kExitOk;
    return ReportLocalError(std::to_string(failed_) + " of " + std::to_string(lines_) +
                                " records were not put; the first: " + first_error_,
                            c_.json(), c_.io);
  }

  const CommandContext& c_;
  int64_t lines_ = 0;
  int64_t put_ = 0;
  int64_t failed_ = 0;
  int64_t retried_ = 0;
  int64_t batches_ = 0;
  std::string first_error_;
  v1::PutRecordsResponse all_;  // with --json: every record's result, in file order
};

}  // namespace

int Put(const CommandContext& c) {
  const bool data = c.args.positional().size() > 1;
  if (data == c.args.Has("file")) {
    return c.UsageError("give the data as <data> or the records as --file lines, one of them");
  }
  if (data) return PutOne(c);
  const std::string path = c.args.Get("file");
  if (path == "-") return FilePut(c).Run(c.io.in);
  std::ifstream file(path, std::ios::binary);
  if (!file) return ReportLocalError("cannot read --file " + path, c.json(), c.io);
  return FilePut(c).Run(file);
}

}  // namespace thingtank::cli::streams
