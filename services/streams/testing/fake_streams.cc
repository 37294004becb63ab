#include "services/streams/testing/fake_streams.h"

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/time_util.h"
#include "services/common/status.h"
#include "thingtank/streams/v1/streams.grpc.pb.h"

namespace thingtank::streams {

namespace sv1 = ::thingtank::streams::v1;

namespace {

using HashKey = unsigned __int128;
constexpr HashKey kMaxHashKey = ~HashKey{0};
constexpr size_t kMaxRecordBytes = 1 << 20;

std::string Method(const std::string& name) {
  return absl::StrCat(sv1::StreamsService::service_full_name(), ".", name);
}

absl::Status Invalid(const std::string& field, const std::string& what) {
  return InvalidField(field, what, "InvalidArgumentException");
}

absl::Status NotFound(const std::string& what) {
  return ErrorWithReason(absl::StatusCode::kNotFound, "ResourceNotFoundException", what);
}

std::string Decimal(HashKey v) {
  if (v == 0) return "0";
  std::string out;
  while (v > 0) {
    out.push_back(static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

bool ParseDecimal(const std::string& s, HashKey* out) {
  if (s.empty() || s.size() > 39) return false;
  HashKey v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    const HashKey next = v * 10 + static_cast<HashKey>(c - '0');
    if (next / 10 != v) return false;  // past 2^128 - 1
    v = next;
  }
  *out = v;
  return true;
}

// 64-bit FNV-1a of the partition key, as the top half of a hash key.
HashKey PartitionHash(const std::string& key) {
  uint64_t h = 1469598103934665603ull;
  for (char c : key) {
    h ^= static_cast<uint8_t>(c);
    h *= 1099511628211ull;
  }
  return static_cast<HashKey>(h) << 64;
}

}  // namespace

FakeStreams::FakeStreams(FakeBackend* backend) {
  RegisterStreams(backend);
  RegisterRecords(backend);
  RegisterResharding(backend);
}

std::vector<FakeStreams::StoredRecord> FakeStreams::Records(const std::string& stream) const {
  std::vector<StoredRecord> out;
  absl::MutexLock lock(&mu_);
  auto s = streams_.find(stream);
  if (s == streams_.end()) return out;
  for (const Shard& shard : s->second.shards) {
    for (const Record& r : shard.records) {
      out.push_back({shard.id, r.sequence_number, r.partition_key, r.data});
    }
  }
  std::sort(out.begin(), out.end(), [](const StoredRecord& a, const StoredRecord& b) {
    return a.sequence_number < b.sequence_number;
  });
  return out;
}

void FakeStreams::FailNext(const std::string& method, int n, absl::Status status) {
  absl::MutexLock lock(&mu_);
  failures_[method].push_back(Failure{n, std::move(status)});
}

absl::Status FakeStreams::Throttled(absl::Duration retry_delay) {
  return QuotaExceeded("ProvisionedThroughputExceededException", "shard",
                       "Rate exceeded for shard in stream under account 000000000000.",
                       retry_delay);
}

void FakeStreams::ExpireIterators() {
  absl::MutexLock lock(&mu_);
  ++iterator_epoch_;
}

absl::Status FakeStreams::TakeFailure(const std::string& method) {
  absl::MutexLock lock(&mu_);
  auto it = failures_.find(method);
  if (it == failures_.end() || it->second.empty()) return absl::OkStatus();
  Failure& f = it->second.front();
  absl::Status status = f.status;
  if (--f.left <= 0) it->second.erase(it->second.begin());
  return status;
}

absl::StatusOr<FakeStreams::Stream*> FakeStreams::Named(const std::string& name) {
  auto s = streams_.find(name);
  if (s == streams_.end()) {
    return NotFound(absl::StrCat("Stream ", name, " under account 000000000000 not found."));
  }
  return &s->second;
}

absl::StatusOr<FakeStreams::Shard*> FakeStreams::ShardOf(Stream* stream, const std::string& id,
                                                         const std::string& field) {
  for (Shard& shard : stream->shards) {
    if (shard.id == id) return &shard;
  }
  return NotFound(absl::StrCat(field, ": no shard ", id));
}

std::string FakeStreams::NextSequence() { return absl::StrFormat("%056d", next_sequence_++); }

FakeStreams::Shard& FakeStreams::AddShard(Stream* stream, HashKey start, HashKey end) {
  Shard shard;
  shard.id = absl::StrFormat("shardId-%012d", stream->next_shard++);
  shard.start = start;
  shard.end = end;
  shard.starting_sequence = NextSequence();
  stream->shards.push_back(std::move(shard));
  return stream->shards.back();
}

std::string FakeStreams::Iterator(const std::string& stream, uint64_t incarnation,
                                  const std::string& shard, size_t index) const {
  return absl::StrCat("fake|", incarnation, "|", iterator_epoch_, "|", index, "|", shard, "|",
                      stream);
}

void FakeStreams::RegisterStreams(FakeBackend* backend) {
  backend->On<sv1::CreateStreamRequest, sv1::CreateStreamResponse>(
      Method("CreateStream"),
      [this](const FakeCall&, const sv1::CreateStreamRequest& req, sv1::CreateStreamResponse*) {
        TT_RETURN_IF_ERROR(TakeFailure("CreateStream"));
        if (req.shard_count() < 1) return Invalid("shard_count", "must be at least 1");
        absl::MutexLock lock(&mu_);
        if (streams_.count(req.stream_name()) > 0) {
          return ErrorWithReason(absl::StatusCode::kFailedPrecondition, "ResourceInUseException",
                                 absl::StrCat("Stream ", req.stream_name(), " already exists"));
        }
        Stream& s = streams_[req.stream_name()];
        s.incarnation = next_incarnation_++;
        const HashKey width = kMaxHashKey / static_cast<HashKey>(req.shard_count());
        for (int i = 0; i < req.shard_count(); ++i) {
          const HashKey start = width * static_cast<HashKey>(i);
          AddShard(&s, start, i + 1 == req.shard_count() ? kMaxHashKey : start + width - 1);
        }
        return absl::OkStatus();
      });
  backend->On<sv1::DeleteStreamRequest, sv1::DeleteStreamResponse>(
      Method("DeleteStream"),
      [this](const FakeCall&, const sv1::DeleteStreamRequest& req, sv1::DeleteStreamResponse*) {
        TT_RETURN_IF_ERROR(TakeFailure("DeleteStream"));
        absl::MutexLock lock(&mu_);
        TT_RETURN_IF_ERROR(Named(req.stream_name()).status());
        streams_.erase(req.stream_name());
        return absl::OkStatus();
      });
  backend->On<sv1::ListShardsRequest, sv1::ListShardsResponse>(
      Method("ListShards"),
      [this](const FakeCall&, const sv1::ListShardsRequest& req, sv1::ListShardsResponse* out) {
        TT_RETURN_IF_ERROR(TakeFailure("ListShards"));
        if (!req.next_token().empty()) return Invalid("next_token", "the fake gives no tokens");
        absl::MutexLock lock(&mu_);
        TT_ASSIGN_OR_RETURN(Stream * s, Named(req.stream_name()));
        for (const Shard& shard : s->shards) {
          sv1::Shard* o = out->add_shards();
          o->set_shard_id(shard.id);
          o->set_parent_shard_id(shard.parent);
          o->set_adjacent_parent_shard_id(shard.adjacent_parent);
          o->mutable_hash_key_range()->set_starting_hash_key(Decimal(shard.start));
          o->mutable_hash_key_range()->set_ending_hash_key(Decimal(shard.end));
          o->mutable_sequence_number_range()->set_starting_sequence_number(shard.starting_sequence);
          o->mutable_sequence_number_range()->set_ending_sequence_number(shard.ending_sequence);
        }
        return absl::OkStatus();
      });
}

void FakeStreams::RegisterRecords(FakeBackend* backend) {
  backend->On<sv1::PutRecordRequest, sv1::PutRecordResponse>(
      Method("PutRecord"),
      [this](const FakeCall&, const sv1::PutRecordRequest& req, sv1::PutRecordResponse* out) {
        TT_RETURN_IF_ERROR(TakeFailure("PutRecord"));
        if (req.partition_key().empty() || req.partition_key().size() > 256) {
          return Invalid("partition_key", "must have 1 to 256 characters");
        }
        if (req.data().size() + req.partition_key().size() > kMaxRecordBytes) {
          return Invalid("data", "the record is larger than 1 MiB");
        }
        HashKey hash = PartitionHash(req.partition_key());
        if (!req.explicit_hash_key().empty() && !ParseDecimal(req.explicit_hash_key(), &hash)) {
          return Invalid("explicit_hash_key", "is not a decimal from 0 to 2^128 - 1");
        }
        absl::MutexLock lock(&mu_);
        TT_ASSIGN_OR_RETURN(Stream * s, Named(req.stream_name()));
        for (Shard& shard : s->shards) {
          if (!shard.open() || hash < shard.start || hash > shard.end) continue;
          Record r{NextSequence(), req.partition_key(), req.data(), absl::Now()};
          out->set_shard_id(shard.id);
          out->set_sequence_number(r.sequence_number);
          shard.records.push_back(std::move(r));
          return absl::OkStatus();
        }
        return absl::InternalError("the fake has no open shard for the hash key");
      });
  backend->On<sv1::GetShardIteratorRequest, sv1::GetShardIteratorResponse>(
      Method("GetShardIterator"), [this](const FakeCall&, const sv1::GetShardIteratorRequest& req,
                                         sv1::GetShardIteratorResponse* out) {
        TT_RETURN_IF_ERROR(TakeFailure("GetShardIterator"));
        absl::MutexLock lock(&mu_);
        TT_ASSIGN_OR_RETURN(Stream * s, Named(req.stream_name()));
        TT_ASSIGN_OR_RETURN(Shard * shard, ShardOf(s, req.shard_id(), "shard_id"));
        const std::string& seq = req.starting_sequence_number();
        size_t index = 0;
        switch (req.shard_iterator_type()) {
          case sv1::SHARD_ITERATOR_TYPE_TRIM_HORIZON:
            break;
          case sv1::SHARD_ITERATOR_TYPE_LATEST:
            index = shard->records.size();
            break;
          case sv1::SHARD_ITERATOR_TYPE_AT_SEQUENCE_NUMBER:
          case sv1::SHARD_ITERATOR_TYPE_AFTER_SEQUENCE_NUMBER: {
            if (seq.empty()) return Invalid("starting_sequence_number", "is required");
            const bool after =
                req.shard_iterator_type() == sv1::SHARD_ITERATOR_TYPE_AFTER_SEQUENCE_NUMBER;
            while (index < shard->records.size() &&
                   (after ? shard->records[index].sequence_number <= seq
                          : shard->records[index].sequence_number < seq)) {
              ++index;
            }
            break;
          }
          default:
            return Invalid("shard_iterator_type",
                           "the fake knows TRIM_HORIZON, LATEST, "
                           "AT_ and AFTER_SEQUENCE_NUMBER");
        }
        out->set_shard_iterator(Iterator(req.stream_name(), s->incarnation, shard->id, index));
        return absl::OkStatus();
      });
  backend->On<sv1::GetRecordsRequest, sv1::GetRecordsResponse>(
      Method("GetRecords"),
      [this](const FakeCall&, const sv1::GetRecordsRequest& req, sv1::GetRecordsResponse* out) {
        TT_RETURN_IF_ERROR(TakeFailure("GetRecords"));
        std::vector<std::string> parts =
            absl::StrSplit(req.shard_iterator(), absl::MaxSplits('|', 5));
        uint64_t incarnation = 0, epoch = 0;
        size_t index = 0;
        if (parts.size() != 6 || parts[0] != "fake" || !absl::SimpleAtoi(parts[1], &incarnation) ||
            !absl::SimpleAtoi(parts[2], &epoch) || !absl::SimpleAtoi(parts[3], &index)) {
          return Invalid("shard_iterator", "is not an iterator of this fake");
        }
        absl::MutexLock lock(&mu_);
        TT_ASSIGN_OR_RETURN(Stream * s, Named(parts[5]));
        if (s->incarnation != incarnation) {
          return Invalid("shard_iterator", "belongs to an earlier stream of that name");
        }
        if (epoch < iterator_epoch_) {
          return ErrorWithReason(absl::StatusCode::kFailedPrecondition, "ExpiredIteratorException",
                                 "Iterator expired.");
        }
        TT_ASSIGN_OR_RETURN(Shard * shard, ShardOf(s, parts[4], "shard_iterator"));
        const size_t limit = req.limit() > 0 ? static_cast<size_t>(req.limit()) : 10000;
        for (; index < shard->records.size() && static_cast<size_t>(out->records_size()) < limit;
             ++index) {
          const Record& r = shard->records[index];
          sv1::Record* o = out->add_records();
          o->set_sequence_number(r.sequence_number);
          o->set_partition_key(r.partition_key);
          o->set_data(r.data);
          *o->mutable_approximate_arrival_timestamp() =
              google::protobuf::util::TimeUtil::MillisecondsToTimestamp(
                  absl::ToUnixMillis(r.arrival));
        }
        if (shard->open() || index < shard->records.size()) {
          out->set_next_shard_iterator(Iterator(parts[5], incarnation, shard->id, index));
          return absl::OkStatus();
        }
        for (const Shard& child : s->shards) {  // closed and read to its end
          if (child.parent != shard->id && child.adjacent_parent != shard->id) continue;
          sv1::ChildShard* c = out->add_child_shards();
          c->set_shard_id(child.id);
          c->add_parent_shards(child.parent);
          if (!child.adjacent_parent.empty()) c->add_parent_shards(child.adjacent_parent);
          c->mutable_hash_key_range()->set_starting_hash_key(Decimal(child.start));
          c->mutable_hash_key_range()->set_ending_hash_key(Decimal(child.end));
        }
        return absl::OkStatus();
      });
}

void FakeStreams::RegisterResharding(FakeBackend* backend) {
  backend->On<sv1::SplitShardRequest, sv1::SplitShardResponse>(
      Method("SplitShard"),
      [this](const FakeCall&, const sv1::SplitShardRequest& req, sv1::SplitShardResponse*) {
        TT_RETURN_IF_ERROR(TakeFailure("SplitShard"));
        HashKey at = 0;
        if (!ParseDecimal(req.new_starting_hash_key(), &at)) {
          return Invalid("new_starting_hash_key", "is not a decimal from 0 to 2^128 - 1");
        }
        absl::MutexLock lock(&mu_);
        TT_ASSIGN_OR_RETURN(Stream * s, Named(req.stream_name()));
        TT_ASSIGN_OR_RETURN(Shard * shard, ShardOf(s, req.shard_to_split(), "shard_to_split"));
        if (!shard->open()) return Invalid("shard_to_split", "is closed");
        if (at <= shard->start || at > shard->end) {
          return Invalid("new_starting_hash_key", "is not inside the shard's hash key range");
        }
        shard->ending_sequence = NextSequence();
        const std::string parent = shard->id;
        const HashKey start = shard->start, end = shard->end;  // AddShard may move shards
        AddShard(s, start, at - 1).parent = parent;
        AddShard(s, at, end).parent = parent;
        return absl::OkStatus();
      });
  backend->On<sv1::MergeShardsRequest, sv1::MergeShardsResponse>(
      Method("MergeShards"),
      [this](const FakeCall&, const sv1::MergeShardsRequest& req, sv1::MergeShardsResponse*) {
        TT_RETURN_IF_ERROR(TakeFailure("MergeShards"));
        absl::MutexLock lock(&mu_);
        TT_ASSIGN_OR_RETURN(Stream * s, Named(req.stream_name()));
        TT_ASSIGN_OR_RETURN(Shard * a, ShardOf(s, req.shard_to_merge(), "shard_to_merge"));
        TT_ASSIGN_OR_RETURN(Shard * b,
                            ShardOf(s, req.adjacent_shard_to_merge(), "adjacent_shard_to_merge"));
        if (!a->open() || !b->open() || a == b) {
          return Invalid("adjacent_shard_to_merge", "both shards must be open and different");
        }
        if (a->end + 1 != b->start && b->end + 1 != a->start) {
          return Invalid("adjacent_shard_to_merge", "is not adjacent to shard_to_merge");
        }
        a->ending_sequence = NextSequence();
        b->ending_sequence = NextSequence();
        const std::string pa = a->id, pb = b->id;
        const HashKey start = std::min(a->start, b->start), end = std::max(a->end, b->end);
        Shard& child = AddShard(s, start, end);
        child.parent = pa;
        child.adjacent_parent = pb;
        return absl::OkStatus();
      });
}

}  // namespace thingtank::streams
