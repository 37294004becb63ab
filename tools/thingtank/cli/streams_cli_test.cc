// Unit tests of `thingtank streams`: hash keys and the default split point,
// starting positions, PutRecords batching and what is retried, the backoff,
// which shards a whole-stream reader takes in which order, the record line
// and the describe output, and the command table (help and usage errors,
// which need no server).

#include "tools/thingtank/cli/streams_cli.h"

#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "tools/thingtank/cli/streams_args.h"
#include "tools/thingtank/cli/streams_format.h"

namespace thingtank::cli::streams {
namespace {

constexpr const char* kMaxKey = "340282366920938463463374607431768211455";  // 2^128 - 1
constexpr const char* kHalf = "170141183460469231731687303715884105728";    // 2^127

// ---------------------------------------------------------------------------
// Hash keys

TEST(HashKey, DecimalRoundTripUpTo2To128Minus1) {
  for (const char* text : {"0", "1", "9", "10", "18446744073709551616", kHalf, kMaxKey}) {
    HashKey key = 0;
    ASSERT_TRUE(ParseHashKey(text, &key)) << text;
    EXPECT_EQ(FormatHashKey(key), text);
  }
  HashKey key = 0;
  ASSERT_TRUE(ParseHashKey(kMaxKey, &key));
  EXPECT_EQ(key, ~HashKey{0});
}

TEST(HashKey, RejectsWhatIsNoKey) {
  for (const char* text :
       {"", "-1", "+1", "01", "1.5", "1e3", " 1", "abc",
        "340282366920938463463374607431768211456",  // 2^128
        "999999999999999999999999999999999999999", "1000000000000000000000000000000000000000"}) {
    HashKey key = 7;
    EXPECT_FALSE(ParseHashKey(text, &key)) << text;
    EXPECT_EQ(key, 7u) << text;
  }
}

v1::HashKeyRange Range(const std::string& start, const std::string& end) {
  v1::HashKeyRange range;
  range.set_starting_hash_key(start);
  range.set_ending_hash_key(end);
  return range;
}

TEST(HashKey, MidpointSplitsEvenly) {
  std::string key;
  std::string error;
  ASSERT_TRUE(MidpointHashKey(Range("0", kMaxKey), &key, &error)) << error;
  EXPECT_EQ(key, kHalf);  // children [0, 2^127-1] and [2^127, 2^128-1]
  ASSERT_TRUE(MidpointHashKey(Range("0", "9"), &key, &error));
  EXPECT_EQ(key, "5");  // [0,4] and [5,9]
  ASSERT_TRUE(MidpointHashKey(Range("10", "11"), &key, &error));
  EXPECT_EQ(key, "11");  // [10,10] and [11,11]
  ASSERT_TRUE(MidpointHashKey(Range(kHalf, kMaxKey), &key, &error));
  EXPECT_EQ(key, "255211775190703847597530955573826158592");  // 2^127 + 2^126
}

TEST(HashKey, MidpointOfNoRangeIsAnError) {
  std::string key = "unchanged";
  std::string error;
  EXPECT_FALSE(MidpointHashKey(Range("5", "5"), &key, &error));
  EXPECT_NE(error.find("the one hash key 5"), std::string::npos) << error;
  EXPECT_FALSE(MidpointHashKey(Range("9", "5"), &key, &error));
  EXPECT_NE(error.find("not two ordered decimal hash keys"), std::string::npos) << error;
  EXPECT_FALSE(MidpointHashKey(Range("x", "5"), &key, &error));
  EXPECT_EQ(key, "unchanged");
}

// ---------------------------------------------------------------------------
// Flag values

TEST(Flags, IteratorTypesByTheirCliNames) {
  const struct {
    const char* name;
    v1::ShardIteratorType type;
  } kCases[] = {
      {"trim-horizon", v1::SHARD_ITERATOR_TYPE_TRIM_HORIZON},
      {"latest", v1::SHARD_ITERATOR_TYPE_LATEST},
      {"at-sequence", v1::SHARD_ITERATOR_TYPE_AT_SEQUENCE_NUMBER},
      {"after-sequence", v1::SHARD_ITERATOR_TYPE_AFTER_SEQUENCE_NUMBER},
      {"at-timestamp", v1::SHARD_ITERATOR_TYPE_AT_TIMESTAMP},
  };
  for (const auto& c : kCases) {
    v1::ShardIteratorType type = v1::SHARD_ITERATOR_TYPE_UNSPECIFIED;
    ASSERT_TRUE(ParseIteratorType(c.name, &type)) << c.name;
    EXPECT_EQ(type, c.type) << c.name;
    EXPECT_EQ(IteratorTypeName(c.type), c.name);
  }
  v1::ShardIteratorType type = v1::SHARD_ITERATOR_TYPE_UNSPECIFIED;
  EXPECT_TRUE(ParseIteratorType("TRIM-HORIZON", &type));
  EXPECT_FALSE(ParseIteratorType("TRIM_HORIZON", &type));
  EXPECT_FALSE(ParseIteratorType("oldest", &type));
  EXPECT_FALSE(ParseIteratorType("", &type));
  EXPECT_EQ(IteratorTypeName(v1::SHARD_ITERATOR_TYPE_UNSPECIFIED), "");
}

TEST(Flags, StreamModes) {
  v1::StreamMode mode = v1::STREAM_MODE_UNSPECIFIED;
  ASSERT_TRUE(ParseStreamMode("on-demand", &mode));
  EXPECT_EQ(mode, v1::STREAM_MODE_ON_DEMAND);
  ASSERT_TRUE(ParseStreamMode("Provisioned", &mode));
  EXPECT_EQ(mode, v1::STREAM_MODE_PROVISIONED);
  EXPECT_FALSE(ParseStreamMode("ondemand", &mode));
  EXPECT_FALSE(ParseStreamMode("", &mode));
}

// ---------------------------------------------------------------------------
// PutRecords batches and retries

TEST(Batch, FiveHundredRecordsOrFiveMiB) {
  v1::PutRecordsRequestEntry entry;
  entry.set_data("hello");
  entry.set_partition_key("pk");
  EXPECT_EQ(EntryBytes(entry), 7u);
  EXPECT_TRUE(BatchHasRoom(0, 0, 7));
  EXPECT_TRUE(BatchHasRoom(499, 499 * 7, 7));
  EXPECT_FALSE(BatchHasRoom(500, 500 * 7, 7));
  EXPECT_TRUE(BatchHasRoom(4, kMaxBatchBytes - 100, 100));
  EXPECT_FALSE(BatchHasRoom(4, kMaxBatchBytes - 100, 101));
  // One record larger than a batch still goes alone (the server refuses it).
  EXPECT_TRUE(BatchHasRoom(0, 0, kMaxBatchBytes + 1));
}

TEST(Batch, OnlyThrottledRecordsAreSentAgain) {
  v1::PutRecordsResponse response;
  response.add_records()->set_sequence_number("1");
  response.add_records()->set_error_code(kThroughputExceeded);
  response.add_records()->set_error_code("InternalFailure");
  response.add_records()->set_sequence_number("2");
  response.add_records()->set_error_code(kThroughputExceeded);
  EXPECT_EQ(ThrottledRecords(response), (std::vector<int>{1, 4}));
  EXPECT_TRUE(ThrottledRecords(v1::PutRecordsResponse()).empty());
}

TEST(Backoff, DoublesFrom100msTo2sWithJitterInTheUpperHalf) {
  EXPECT_EQ(BackoffNanos(1, std::nullopt, 1.0), 100'000'000);
  EXPECT_EQ(BackoffNanos(1, std::nullopt, 0.0), 50'000'000);
  EXPECT_EQ(BackoffNanos(2, std::nullopt, 1.0), 200'000'000);
  EXPECT_EQ(BackoffNanos(5, std::nullopt, 1.0), 1'600'000'000);
  EXPECT_EQ(BackoffNanos(6, std::nullopt, 1.0), 2'000'000'000);
  EXPECT_EQ(BackoffNanos(60, std::nullopt, 1.0), 2'000'000'000);
  EXPECT_EQ(BackoffNanos(60, std::nullopt, 0.5), 1'500'000'000);
  // The server's RetryInfo is a floor.
  EXPECT_EQ(BackoffNanos(1, 700'000'000, 1.0), 700'000'000);
  EXPECT_EQ(BackoffNanos(6, 700'000'000, 1.0), 2'000'000'000);
}

// ---------------------------------------------------------------------------
// Reading a whole stream

v1::Shard MakeShard(const std::string& id, const std::string& parent = "",
                    const std::string& adjacent = "", bool closed = false) {
  v1::Shard shard;
  shard.set_shard_id(id);
  shard.set_parent_shard_id(parent);
  shard.set_adjacent_parent_shard_id(adjacent);
  shard.mutable_sequence_number_range()->set_starting_sequence_number("1");
  if (closed) shard.mutable_sequence_number_range()->set_ending_sequence_number("9");
  return shard;
}

v1::ChildShard Child(const std::string& id, std::vector<std::string> parents) {
  v1::ChildShard child;
  child.set_shard_id(id);
  for (const std::string& p : parents) child.add_parent_shards(p);
  return child;
}

TEST(Walk, RootsFirstOrOpenShardsFromLatest) {
  // 0 split into 1 and 2; 1 and 2 merged into 3; 4 never resharded.
  const std::vector<v1::Shard> shards = {
      MakeShard("s0", "", "", true), MakeShard("s1", "s0", "", true),
      MakeShard("s2", "s0", "", true), MakeShard("s3", "s1", "s2"), MakeShard("s4")};
  EXPECT_EQ(StartingShards(shards, false), (std::vector<std::string>{"s0", "s4"}));
  EXPECT_EQ(StartingShards(shards, true), (std::vector<std::string>{"s3", "s4"}));
  // A parent trimmed away (no longer listed) makes its children roots.
  const std::vector<v1::Shard> trimmed = {MakeShard("s1", "s0"), MakeShard("s2", "s0")};
  EXPECT_EQ(StartingShards(trimmed, false), (std::vector<std::string>{"s1", "s2"}));
}

TEST(Walk, ChildrenAfterEveryParentBeingRead) {
  ShardWalk walk;
  EXPECT_TRUE(walk.Start("s0"));
  EXPECT_FALSE(walk.Start("s0"));
  EXPECT_EQ(walk.Drained("s0", {Child("s1", {"s0"}), Child("s2", {"s0"})}),
            (std::vector<std::string>{"s1", "s2"}));
  // The merge's child waits for its second parent.
  EXPECT_TRUE(walk.Drained("s1", {Child("s3", {"s1", "s2"})}).empty());
  EXPECT_EQ(walk.Drained("s2", {Child("s3", {"s1", "s2"})}), (std::vector<std::string>{"s3"}));
  // Never twice.
  EXPECT_TRUE(walk.Drained("s2", {Child("s3", {"s1", "s2"})}).empty());
  EXPECT_FALSE(walk.Start("s3"));
}

TEST(Walk, AParentNotReadDoesNotHoldAChildBack) {
  ShardWalk walk;
  walk.Start("s1");  // --shard s1: s2 is not read
  EXPECT_EQ(walk.Drained("s1", {Child("s3", {"s1", "s2"})}), (std::vector<std::string>{"s3"}));
}

// ---------------------------------------------------------------------------
// Output

TEST(Format, DataAsTextWhenPrintableElseBase64) {
  EXPECT_TRUE(IsPrintableText(""));
  EXPECT_TRUE(IsPrintableText("hello world"));
  EXPECT_TRUE(IsPrintableText("température 21 °C, ✓, 😀"));
  EXPECT_FALSE(IsPrintableText("two\nlines"));
  EXPECT_FALSE(IsPrintableText("tab\there"));
  EXPECT_FALSE(IsPrintableText(std::string("nul\0", 4)));
  EXPECT_FALSE(IsPrintableText("\x7f"));
  EXPECT_FALSE(IsPrintableText("\xc2\x85"));          // U+0085, a C1 control
  EXPECT_FALSE(IsPrintableText("\xff\xfe"));          // not UTF-8
  EXPECT_FALSE(IsPrintableText("\xc0\xaf"));          // overlong "/"
  EXPECT_FALSE(IsPrintableText("\xed\xa0\x80"));      // a surrogate
  EXPECT_FALSE(IsPrintableText("caf\xc3"));           // cut short
  EXPECT_FALSE(IsPrintableText("\xf4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_EQ(DataText("plain text"), "plain text");
  EXPECT_EQ(DataText(std::string("\x00\x01\x02\xff", 4)), "AAEC/w==");
  EXPECT_EQ(DataText("a\nb"), "YQpi");
}

TEST(Format, RecordLine) {
  v1::Record record;
  record.set_sequence_number("49590338271490256608559692538361571095921575989136588898");
  record.set_partition_key("sensor-7");
  record.set_data("21.5 C");
  EXPECT_EQ(RecordLine(record),
            "49590338271490256608559692538361571095921575989136588898 sensor-7 21.5 C");
  record.set_data(std::string("\x01\x02", 2));
  EXPECT_EQ(RecordLine(record),
            "49590338271490256608559692538361571095921575989136588898 sensor-7 AQI=");
}

TEST(Format, DescriptionWithItsShards) {
  v1::StreamDescription stream;
  stream.set_stream_name("orders");
  stream.set_stream_arn("arn:aws:kinesis:us-east-1:000000000000:stream/orders");
  stream.set_stream_status(v1::STREAM_STATUS_UPDATING);
  stream.set_stream_mode(v1::STREAM_MODE_PROVISIONED);
  stream.set_retention_period_hours(48);
  stream.set_encryption_type(v1::ENCRYPTION_TYPE_NONE);
  stream.mutable_stream_creation_timestamp()->set_seconds(1796205600);  // 2026-12-02T10:00:00Z
  *stream.add_shards() = MakeShard("shardId-000000000000", "", "", true);
  *stream.add_shards() = MakeShard("shardId-000000000001", "shardId-000000000000");
  *stream.mutable_shards(0)->mutable_hash_key_range() = Range("0", kMaxKey);
  *stream.mutable_shards(1)->mutable_hash_key_range() = Range("0", kMaxKey);
  std::ostringstream os;
  PrintStreamDescription(stream, os);
  EXPECT_EQ(os.str(),
            "name:       orders\n"
            "arn:        arn:aws:kinesis:us-east-1:000000000000:stream/orders\n"
            "status:     UPDATING\n"
            "mode:       PROVISIONED\n"
            "retention:  48 hours\n"
            "encryption: NONE\n"
            "created:    2026-12-02T10:00:00Z\n"
            "shards:     2 (1 open)\n"
            "\n"
            "SHARD                 STATE   PARENTS               HASH KEYS\n"
            "shardId-000000000000  closed  -                     0-" +
                std::string(kMaxKey) +
                "\n"
                "shardId-000000000001  open    shardId-000000000000  0-" +
                kMaxKey + "\n");
}

TEST(Format, EnumNamesAsKinesisWritesThem) {
  EXPECT_EQ(StatusName(v1::STREAM_STATUS_ACTIVE), "ACTIVE");
  EXPECT_EQ(StatusName(v1::STREAM_STATUS_UNSPECIFIED), "-");
  EXPECT_EQ(ModeName(v1::STREAM_MODE_ON_DEMAND), "ON_DEMAND");
  EXPECT_EQ(ModeName(v1::STREAM_MODE_UNSPECIFIED), "PROVISIONED");
  EXPECT_EQ(EncryptionName(v1::ENCRYPTION_TYPE_KMS), "KMS");
  EXPECT_EQ(ConsumerStatusName(v1::CONSUMER_STATUS_CREATING), "CREATING");
}

TEST(Format, ListOfStreams) {
  v1::ListStreamsResponse response;
  std::ostringstream empty;
  PrintStreamList(response, empty);
  EXPECT_EQ(empty.str(), "no streams\n");
  v1::StreamSummary* a = response.add_stream_summaries();
  a->set_stream_name("a");
  a->set_stream_status(v1::STREAM_STATUS_ACTIVE);
  a->set_stream_mode(v1::STREAM_MODE_ON_DEMAND);
  a->mutable_stream_creation_timestamp()->set_seconds(1796205600);
  response.add_stream_names("a");
  response.set_next_token("tok");
  std::ostringstream os;
  PrintStreamList(response, os);
  EXPECT_EQ(os.str(), "a  ACTIVE  ON_DEMAND  2026-12-02T10:00:00Z\n(more: --next-token tok)\n");
}

// ---------------------------------------------------------------------------
// The command table, without a server: help and usage errors.

struct Result {
  int code;
  std::string out;
  std::string err;
};

Result RunCli(const std::vector<std::string>& args, const std::string& stdin_text = "") {
  std::istringstream in(stdin_text);
  std::ostringstream out;
  std::ostringstream err;
  const Io io{in, out, err, [](const std::string& name) -> std::optional<std::string> {
                // Nothing listens here: a command that got as far as calling fails (1), not 2.
                if (name == "THINGTANK_ENDPOINT") return std::string("127.0.0.1:1");
                return std::nullopt;
              }};
  const int code = RunStreams(args, io);
  return {code, out.str(), err.str()};
}

TEST(Commands, HelpListsEveryCommandAndEachHasItsOwnHelp) {
  const Result help = RunCli({"--help"});
  ASSERT_EQ(help.code, 0) << help.err;
  for (const char* name : {"create", "describe", "list", "delete", "put", "get", "subscribe",
                           "split", "merge", "update-shard-count", "retention"}) {
    EXPECT_NE(help.out.find(std::string("\n  ") + name + " "), std::string::npos) << name;
    const Result one = RunCli({name, "--help"});
    EXPECT_EQ(one.code, 0) << name << ": " << one.err;
    EXPECT_NE(one.out.find(std::string("usage: thingtank streams ") + name), std::string::npos)
        << one.out;
    std::set<std::string> flags;
    std::istringstream lines(one.out.substr(one.out.find("flags:")));
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("  --", 0) != 0) continue;
      const std::string flag = line.substr(2, line.find(' ', 2) - 2);
      EXPECT_TRUE(flags.insert(flag).second) << name << " declares " << flag << " twice";
    }
  }
}

TEST(Commands, BadCommandLinesAreUsageErrorsBeforeAnyCall) {
  const struct {
    std::vector<std::string> args;
    const char* says;
  } kCases[] = {
      {{"create"}, "missing <name>"},
      {{"create", "s", "--shards", "0"}, "--shards: must be at least 1"},
      {{"create", "s", "--shards", "two"}, "--shards: \"two\" is not an integer"},
      {{"create", "s", "--mode", "serverless"}, "--mode: \"serverless\" is not provisioned or"},
      {{"create", "s", "--mode", "on-demand", "--shards", "2"}, "--shards is for provisioned"},
      {{"describe", "s", "extra"}, "unexpected argument \"extra\""},
      {{"list", "--limit", "0"}, "--limit: must be at least 1"},
      {{"put", "s"}, "give the data as <data> or the records as --file lines"},
      {{"put", "s", "data", "--file", "f"}, "give the data as <data> or the records as --file"},
      {{"put", "s", "data"}, "put needs --partition-key"},
      {{"put", "s", "--file", "/nonexistent/lines.txt"},
       "cannot read --file /nonexistent/lines.txt"},
      {{"get", "s", "--from", "oldest"}, "--from: \"oldest\" is not trim-horizon, latest,"},
      {{"get", "s", "--from", "at-sequence", "--shard", "x"},
       "--from at-sequence needs --sequence"},
      {{"get", "s", "--from", "after-sequence", "--sequence", "1"},
       "--from after-sequence needs --shard"},
      {{"get", "s", "--sequence", "1"},
       "--sequence goes with --from at-sequence or after-sequence"},
      {{"get", "s", "--from", "at-timestamp"}, "--from at-timestamp needs --timestamp"},
      {{"get", "s", "--from", "at-timestamp", "--timestamp", "yesterday"},
       "--timestamp: \"yesterday\" is not a time"},
      {{"get", "s", "--timestamp", "now"}, "--timestamp goes with --from at-timestamp"},
      {{"get", "s", "--limit", "-3"}, "--limit: must be at least 1"},
      {{"subscribe", "s"}, "subscribe needs --consumer NAME"},
      {{"subscribe", "s", "--consumer", "c", "--from", "nowhere"}, "--from: \"nowhere\" is not"},
      {{"split", "s"}, "split needs --shard"},
      {{"merge", "s", "shardId-000000000000"}, "missing <adjacent-shard>"},
      {{"update-shard-count", "s"}, "missing <count>"},
      {{"update-shard-count", "s", "0"}, "<count>: \"0\" is not a shard count"},
      {{"update-shard-count", "s", "many"}, "<count>: \"many\" is not a shard count"},
      {{"retention", "s", "--hours", "x"}, "--hours: \"x\" is not an integer"},
      {{"frobnicate"}, "unknown command \"frobnicate\""},
  };
  for (const auto& c : kCases) {
    const Result r = RunCli(c.args);
    const int expected = std::string(c.says).rfind("cannot read", 0) == 0 ? 1 : 2;
    EXPECT_EQ(r.code, expected) << c.args[0] << " " << c.args.back() << ": " << r.err;
    EXPECT_NE(r.err.find(std::string("error: ") + c.says), std::string::npos)
        << c.args[0] << " " << c.args.back() << ": " << r.err;
  }
}

TEST(Commands, JsonUsageErrors) {
  const Result r = RunCli({"create", "s", "--shards", "0", "--json"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("\"code\":\"USAGE\""), std::string::npos) << r.err;
}

TEST(Commands, AcceptedLinesGetAsFarAsTheCall) {
  const std::vector<std::vector<std::string>> kCases = {
      {"create", "s", "--shards", "2", "--wait"},
      {"create", "s", "--mode", "on-demand"},
      {"describe", "s"},
      {"list", "--limit", "5"},
      {"delete", "s", "--enforce-consumer-deletion"},
      {"put", "s", "hello", "--partition-key", "k"},
      {"put", "--stream", "s", "hello", "--partition-key", "k", "--explicit-hash-key", "7"},
      {"put", "s", "--file", "-"},
      {"get", "s"},
      {"get", "s", "--shard", "shardId-000000000000", "--from", "at-sequence", "--sequence", "1"},
      {"get", "s", "--from", "at-timestamp", "--timestamp", "-1h", "--follow"},
      {"subscribe", "s", "--consumer", "c", "--shard", "shardId-000000000000"},
      {"split", "s", "--shard", "shardId-000000000000"},
      {"split", "s", "--shard", "shardId-000000000000", "--hash-key", "5"},
      {"merge", "s", "shardId-000000000001", "shardId-000000000002"},
      {"update-shard-count", "s", "4", "--wait"},
      {"retention", "s", "--hours", "48"},
  };
  for (std::vector<std::string> args : kCases) {
    args.insert(args.end(), {"--timeout", "2s"});
    const Result r = RunCli(args, "one line\n");
    EXPECT_EQ(r.code, 1) << args[0] << " " << args[1] << ": " << r.err;
    EXPECT_NE(r.err.find("cannot reach ThingTank"), std::string::npos)
        << args[0] << " " << args[1] << ": " << r.err;
  }
}

}  // namespace
}  // namespace thingtank::cli::streams
