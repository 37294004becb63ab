#pragma once

// Human-readable output of streams responses (the --json form is the
// response itself, or one Record object a line). Times are RFC 3339 UTC on
// the server's clock. Internal to tools/thingtank/cli.

#include <ostream>
#include <string>
#include <string_view>

#include "thingtank/streams/v1/streams.pb.h"

namespace thingtank::cli::streams {

namespace v1 = thingtank::streams::v1;

// "ACTIVE", "PROVISIONED", "ON_DEMAND", "KMS": the Kinesis names.
std::string StatusName(v1::StreamStatus status);
std::string ModeName(v1::StreamMode mode);
std::string EncryptionName(v1::EncryptionType type);
std::string ConsumerStatusName(v1::ConsumerStatus status);

// True when `data` is valid UTF-8 without control characters (so it prints
// as one line of text); false for anything else, including tabs and
// newlines.
bool IsPrintableText(std::string_view data);

// The data as text when IsPrintableText, else in base64.
std::string DataText(const std::string& data);

// "<sequence number> <partition key> <data>" (DataText) of one record.
std::string RecordLine(const v1::Record& record);

// "key: value" lines of a stream, then one line per shard: id, open or
// closed, parents ("-" for none), hash key range.
void PrintStreamDescription(const v1::StreamDescription& stream, std::ostream& os);

// "key: value" lines of a stream's summary (with its open shard and consumer
// counts).
void PrintStreamSummary(const v1::StreamDescriptionSummary& summary, std::ostream& os);

// One line per stream: name, status, mode, creation time; then a hint with
// the next token if any; "no streams" when there are none.
void PrintStreamList(const v1::ListStreamsResponse& response, std::ostream& os);

}  // namespace thingtank::cli::streams
