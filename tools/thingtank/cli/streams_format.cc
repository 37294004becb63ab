#include "tools/thingtank/cli/streams_format.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <iomanip>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "tools/thingtank/cli/compute_format.h"

namespace thingtank::cli::streams {
namespace {

using Rows = std::vector<std::pair<std::string, std::string>>;

void PrintRows(const Rows& rows, std::ostream& os) {
  size_t width = 0;
  for (const auto& row : rows) width = std::max(width, row.first.size());
  for (const auto& [key, value] : rows) {
    os << std::left << std::setw(static_cast<int>(width + 2)) << (key + ":") << value << "\n";
  }
}

std::string Time(bool has, const google::protobuf::Timestamp& ts) {
  return has ? google::protobuf::util::TimeUtil::ToString(ts) : "-";
}

// The enum value's name without its prefix ("STREAM_STATUS_ACTIVE" ->
// "ACTIVE"); "-" for UNSPECIFIED.
std::string Strip(const std::string& name, const std::string& prefix) {
  if (name.empty() || name == prefix + "UNSPECIFIED") return "-";
  return name.compare(0, prefix.size(), prefix) == 0 ? name.substr(prefix.size()) : name;
}

std::string Hours(int32_t hours) { return std::to_string(hours) + " hours"; }

// The code point of the UTF-8 sequence at data[*pos], advancing *pos; -1
// when the bytes there are no valid sequence (overlong, surrogate, past
// U+10FFFF or cut short).
int32_t NextCodePoint(std::string_view data, size_t* pos) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(data[i]); };
  const unsigned char lead = byte(*pos);
  int length = 0;
  int32_t code = 0;
  int32_t min = 0;
  if (lead < 0x80) {
    ++*pos;
    return lead;
  } else if ((lead & 0xe0) == 0xc0) {
    length = 2, code = lead & 0x1f, min = 0x80;
  } else if ((lead & 0xf0) == 0xe0) {
    length = 3, code = lead & 0x0f, min = 0x800;
  } else if ((lead & 0xf8) == 0xf0) {
    length = 4, code = lead & 0x07, min = 0x10000;
  } else {
    return -1;
  }
  if (*pos + length > data.size()) return -1;
  for (int i = 1; i < length; ++i) {
    const unsigned char next = byte(*pos + i);
    if ((next & 0xc0) != 0x80) return -1;
    code = (code << 6) | (next & 0x3f);
  }
  if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return -1;
  *pos += length;
  return code;
}

}  // namespace

std::string StatusName(v1::StreamStatus status) {
  return Strip(v1::StreamStatus_Name(status), "STREAM_STATUS_");
}

std::string ModeName(v1::StreamMode mode) {
  // UNSPECIFIED means provisioned (the proto says so).
  if (mode == v1::STREAM_MODE_UNSPECIFIED) return "PROVISIONED";
  return Strip(v1::StreamMode_Name(mode), "STREAM_MODE_");
}

std::string EncryptionName(v1::EncryptionType type) {
  if (type == v1::ENCRYPTION_TYPE_UNSPECIFIED) return "NONE";
  return Strip(v1::EncryptionType_Name(type), "ENCRYPTION_TYPE_");
}

std::string ConsumerStatusName(v1::ConsumerStatus status) {
  return Strip(v1::ConsumerStatus_Name(status), "CONSUMER_STATUS_");
}

bool IsPrintableText(std::string_view data) {
  size_t pos = 0;
  while (pos < data.size()) {
    const int32_t code = NextCodePoint(data, &pos);
    if (code < 0x20 || code == 0x7f || (code >= 0x80 && code < 0xa0)) return false;
  }
  return true;
}

std::string DataText(const std::string& data) {
  return IsPrintableText(data) ? data : absl::Base64Escape(data);
}

std::string RecordLine(const v1::Record& record) {
  return record.sequence_number() + " " + record.partition_key() + " " + DataText(record.data());
}

void PrintStreamDescription(const v1::StreamDescription& stream, std::ostream& os) {
  int open = 0;
  for (const v1::Shard& shard : stream.shards()) {
    if (shard.sequence_number_range().ending_sequence_number().empty()) ++open;
  }
  Rows rows = {
      {"name", stream.stream_name()},
      {"arn", stream.stream_arn()},
      {"status", StatusName(stream.stream_status())},
      {"mode", ModeName(stream.stream_mode())},
      {"retention", Hours(stream.retention_period_hours())},
      {"encryption", EncryptionName(stream.encryption_type())},
      {"created", Time(stream.has_stream_creation_timestamp(), stream.stream_creation_timestamp())},
      {"shards", std::to_string(stream.shards_size()) + " (" + std::to_string(open) + " open)"},
  };
  if (!stream.key_id().empty()) rows.emplace_back("key id", stream.key_id());
  PrintRows(rows, os);
  if (stream.shards().empty()) return;
  std::vector<compute::Row> table = {{"SHARD", "STATE", "PARENTS", "HASH KEYS"}};
  for (const v1::Shard& shard : stream.shards()) {
    std::string parents = shard.parent_shard_id();
    if (!shard.adjacent_parent_shard_id().empty()) {
      parents += (parents.empty() ? "" : ",") + shard.adjacent_parent_shard_id();
    }
    const bool closed = !shard.sequence_number_range().ending_sequence_number().empty();
    table.push_back({shard.shard_id(), closed ? "closed" : "open", parents.empty() ? "-" : parents,
                     shard.hash_key_range().starting_hash_key() + "-" +
                         shard.hash_key_range().ending_hash_key()});
  }
  os << "\n";
  compute::PrintTable(table, os);
}

void PrintStreamSummary(const v1::StreamDescriptionSummary& summary, std::ostream& os) {
  Rows rows = {
      {"name", summary.stream_name()},
      {"arn", summary.stream_arn()},
      {"status", StatusName(summary.stream_status())},
      {"mode", ModeName(summary.stream_mode())},
      {"retention", Hours(summary.retention_period_hours())},
      {"encryption", EncryptionName(summary.encryption_type())},
      {"created",
       Time(summary.has_stream_creation_timestamp(), summary.stream_creation_timestamp())},
      {"open shards", std::to_string(summary.open_shard_count())},
      {"consumers", std::to_string(summary.consumer_count())},
  };
  if (!summary.key_id().empty()) rows.emplace_back("key id", summary.key_id());
  PrintRows(rows, os);
}

void PrintStreamList(const v1::ListStreamsResponse& response, std::ostream& os) {
  std::vector<compute::Row> table;
  std::set<std::string> summarized;
  for (const v1::StreamSummary& s : response.stream_summaries()) {
    summarized.insert(s.stream_name());
    table.push_back({s.stream_name(), StatusName(s.stream_status()), ModeName(s.stream_mode()),
                     Time(s.has_stream_creation_timestamp(), s.stream_creation_timestamp())});
  }
  // A server that only gives names still lists them.
  for (const std::string& name : response.stream_names()) {
    if (summarized.count(name) == 0) table.push_back({name});
  }
  if (table.empty()) os << "no streams\n";
  compute::PrintTable(table, os);
  if (!response.next_token().empty()) {
    os << "(more: --next-token " << response.next_token() << ")\n";
  }
}

}  // namespace thingtank::cli::streams
