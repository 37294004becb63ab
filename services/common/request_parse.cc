#include "services/common/request_parse.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/stubs/common.h"
#include "grpcpp/support/proto_buffer_reader.h"
#include "services/common/status.h"

namespace thingtank {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

// Walks the wire format of one message with its descriptor, the way
// protobuf's parser would, and records the first thing that makes it fail.
class Diagnoser {
 public:
  Diagnoser(std::string* field, std::string* what) : field_(field), what_(what) {}

  // Walks `data` as a `descriptor` message (null: an unknown field's bytes,
  // only checked for wire validity when it is a group). `end_group` is the
  // field number whose end-group tag ends this part, 0 for a whole message.
  // Returns false once something is wrong.
  bool Walk(const Descriptor* descriptor, absl::string_view* data, const std::string& path,
            int depth, uint32_t end_group) {
    if (depth > google::protobuf::io::CodedInputStream::GetDefaultRecursionLimit()) {
      return Fail(path, absl::StrCat("messages are nested more than ",
                                     google::protobuf::io::CodedInputStream::GetDefaultRecursionLimit(),
                                     " levels deep"));
    }
    while (!data->empty()) {
      const size_t offset = total_ - data->size();
      uint64_t tag = 0;
      if (!ReadVarint(data, &tag)) return Fail(path, absl::StrCat("truncated tag at byte ", offset));
      const uint32_t number = static_cast<uint32_t>(tag >> 3);
      const int wire_type = static_cast<int>(tag & 7);
      if (number == 0) return Fail(path, absl::StrCat("field number 0 at byte ", offset));
      const FieldDescriptor* fd = descriptor != nullptr ? descriptor->FindFieldByNumber(number) : nullptr;
      const std::string here =
          fd != nullptr ? (path.empty() ? fd->name() : absl::StrCat(path, ".", fd->name())) : path;
      switch (wire_type) {
        case 0: {
          uint64_t ignored;
          if (!ReadVarint(data, &ignored)) return Fail(here, absl::StrCat("truncated varint at byte ", offset));
          break;
        }
        case 1:
        case 5: {
          const size_t n = wire_type == 1 ? 8 : 4;
          if (data->size() < n) return Fail(here, absl::StrCat("truncated fixed-width value at byte ", offset));
          data->remove_prefix(n);
          break;
        }
        case 2: {
          uint64_t length = 0;
          if (!ReadVarint(data, &length) || length > data->size()) {
            return Fail(here, absl::StrCat("truncated length-delimited field at byte ", offset));
          }
          absl::string_view payload = data->substr(0, length);
          data->remove_prefix(length);
          if (fd == nullptr) break;
          if (fd->type() == FieldDescriptor::TYPE_MESSAGE) {
            if (!Walk(fd->message_type(), &payload, here, depth + 1, 0)) return false;
          } else if (fd->type() == FieldDescriptor::TYPE_STRING &&
                     fd->file()->syntax() == google::protobuf::FileDescriptor::SYNTAX_PROTO3 &&
                     !google::protobuf::internal::IsStructurallyValidUTF8(
                         payload.data(), static_cast<int>(payload.size()))) {
            return Fail(here, "invalid UTF-8 in a string field (use bytes for binary data)");
          }
          break;
        }
        case 3:
          // Our protos have no groups: an unknown group is skipped, if well formed.
          if (!Walk(nullptr, data, here, depth + 1, number)) return false;
          break;
        case 4:
          if (number == end_group) return true;
          return Fail(here, absl::StrCat("end-group tag without a start-group tag at byte ", offset));
        default:
          return Fail(here, absl::StrCat("invalid wire type ", wire_type, " at byte ", offset));
      }
    }
    if (end_group != 0) return Fail(path, "a group is not ended");
    return true;
  }

  void set_total(size_t total) { total_ = total; }

 private:
  static bool ReadVarint(absl::string_view* data, uint64_t* out) {
    uint64_t value = 0;
    for (int shift = 0; shift < 64 && !data->empty(); shift += 7) {
      const uint8_t byte = static_cast<uint8_t>(data->front());
      data->remove_prefix(1);
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        *out = value;
        return true;
      }
    }
    return false;
  }
  bool Fail(const std::string& field, std::string what) {
    *field_ = field;
    *what_ = std::move(what);
    return false;
  }

  std::string* const field_;
  std::string* const what_;
  size_t total_ = 0;
};

}  // namespace

bool DiagnoseMalformed(const Descriptor* descriptor, absl::string_view data, std::string* field,
                       std::string* what) {
  Diagnoser diagnoser(field, what);
  diagnoser.set_total(data.size());
  return !diagnoser.Walk(descriptor, &data, "", 1, 0);
}

absl::Status ParseRequest(const grpc::ByteBuffer& bytes, google::protobuf::Message* out) {
  grpc::ByteBuffer copy(bytes);  // shares the slices; the reader consumes its buffer
  grpc::ProtoBufferReader reader(&copy);
  if (reader.status().ok() && out->ParseFromZeroCopyStream(&reader)) return absl::OkStatus();
  // Rare: flatten the bytes and find out what is wrong.
  std::vector<grpc::Slice> slices;
  std::string data;
  if (bytes.Dump(&slices).ok()) {
    for (const auto& s : slices) data.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  std::string field, what;
  if (!DiagnoseMalformed(out->GetDescriptor(), data, &field, &what)) {
    what = "it does not parse";
  }
  constexpr char kPrefix[] = "the request is not a valid protobuf message";
  if (!field.empty()) {
    // InvalidField's details (BadRequest, ErrorInfo) under the full message.
    const absl::Status named = InvalidField(field, what, "MalformedRequest");
    absl::Status status(absl::StatusCode::kInvalidArgument,
                        absl::StrCat(kPrefix, ": ", field, ": ", what));
    named.ForEachPayload([&status](absl::string_view url, const absl::Cord& payload) {
      status.SetPayload(url, payload);
    });
    return status;
  }
  return ErrorWithReason(absl::StatusCode::kInvalidArgument, "MalformedRequest",
                         absl::StrCat(kPrefix, ": ", what));
}

}  // namespace thingtank
