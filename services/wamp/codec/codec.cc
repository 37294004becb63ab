#include "services/wamp/codec/codec.h"

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace thingtank::wamp {
namespace {

using nlohmann::json;

// True when `s` is well-formed UTF-8 (no overlongs, surrogates or code points
// above U+10FFFF). The JSON lexer checks this itself; MessagePack and CBOR
// readers do not.
bool IsValidUtf8(const std::string& s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    const uint8_t c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int extra;
    uint8_t lo = 0x80;
    uint8_t hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
      extra = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
      extra = 2;
      if (c == 0xe0) lo = 0xa0;  // overlong
      if (c == 0xed) hi = 0x9f;  // surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      extra = 3;
      if (c == 0xf0) lo = 0x90;  // overlong
      if (c == 0xf4) hi = 0x8f;  // above U+10FFFF
    } else {
      return false;
    }
    if (end - p <= extra) return false;
    if (p[1] < lo || p[1] > hi) return false;
    for (int i = 2; i <= extra; ++i) {
      if ((p[i] & 0xc0) != 0x80) return false;
    }
    p += extra + 1;
  }
  return true;
}

// SAX handler that builds the DOM through nlohmann's own DOM builder but
// stops at kMaxNestingDepth (the MessagePack and CBOR readers recurse once
// per level, so a frame of nested one-element arrays would otherwise exhaust
// the stack), validates UTF-8 in binary formats, and turns JSON "\0"+base64
// strings into binary values.
class DecodeHandler {
 public:
  DecodeHandler(Serializer serializer, json* result)
      : serializer_(serializer), dom_(*result, /*allow_exceptions=*/false) {}

  const std::string& error() const { return error_; }

  bool null() { return dom_.null(); }
  bool boolean(bool value) { return dom_.boolean(value); }
  bool number_integer(json::number_integer_t value) { return dom_.number_integer(value); }
  bool number_unsigned(json::number_unsigned_t value) { return dom_.number_unsigned(value); }
  bool number_float(json::number_float_t value, const json::string_t& text) {
    return dom_.number_float(value, text);
  }
  bool string(json::string_t& value) {
    if (serializer_ == Serializer::kJson) {
      if (!value.empty() && value[0] == '\0') return JsonBinary(value);
    } else if (!IsValidUtf8(value)) {
      return Fail("invalid UTF-8 in a string");
    }
    return dom_.string(value);
  }
  bool binary(json::binary_t& value) { return dom_.binary(value); }
  bool key(json::string_t& value) {
    if (serializer_ != Serializer::kJson && !IsValidUtf8(value)) {
      return Fail("invalid UTF-8 in a map key");
    }
    return dom_.key(value);
  }
  bool start_object(std::size_t size) { return Enter() && dom_.start_object(size); }
  bool end_object() {
    --depth_;
    return dom_.end_object();
  }
  bool start_array(std::size_t size) { return Enter() && dom_.start_array(size); }
  bool end_array() {
    --depth_;
    return dom_.end_array();
  }
  bool parse_error(std::size_t position, const std::string& last_token,
                   const nlohmann::detail::exception& ex) {
    return Fail(ex.what());
  }

 private:
  bool Enter() {
    if (++depth_ > kMaxNestingDepth) {
      return Fail(absl::StrCat("nesting deeper than ", kMaxNestingDepth, " levels"));
    }
    return true;
  }
  bool JsonBinary(const json::string_t& value) {
    std::string bytes;
    if (!absl::Base64Unescape(absl::string_view(value.data() + 1, value.size() - 1), &bytes)) {
      return Fail("invalid base64 in a binary string (a string starting with \\u0000)");
    }
    json::binary_t binary(std::vector<uint8_t>(bytes.begin(), bytes.end()));
    return dom_.binary(binary);
  }
  bool Fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return false;
  }

  Serializer serializer_;
  nlohmann::detail::json_sax_dom_parser<json> dom_;
  int depth_ = 0;
  std::string error_;
};

nlohmann::detail::input_format_t InputFormat(Serializer serializer) {
  switch (serializer) {
    case Serializer::kJson: return nlohmann::detail::input_format_t::json;
    case Serializer::kMsgPack: return nlohmann::detail::input_format_t::msgpack;
    case Serializer::kCbor: return nlohmann::detail::input_format_t::cbor;
  }
  return nlohmann::detail::input_format_t::json;
}

// JSON encoding of a value holding binary values somewhere. nlohmann would
// print binary as {"bytes": [...]}; WAMP wants "\0" + base64. Subtrees without
// binary go straight to nlohmann's serializer, writing into the same string.
class JsonBinaryWriter {
 public:
  explicit JsonBinaryWriter(std::string* out)
      : out_(out),
        serializer_(nlohmann::detail::output_adapter<char>(*out), ' ',
                    json::error_handler_t::replace) {}

  void Write(const json& value) {
    switch (value.type()) {
      case json::value_t::binary: {
        const json::binary_t& bytes = value.get_binary();
        out_->append("\"\\u0000");
        out_->append(absl::Base64Escape(absl::string_view(
            reinterpret_cast<const char*>(bytes.data()), bytes.size())));
        out_->push_back('"');
        return;
      }
      case json::value_t::array:
        if (!ContainsBinary(value)) break;
        out_->push_back('[');
        for (auto it = value.begin(); it != value.end(); ++it) {
          if (it != value.begin()) out_->push_back(',');
          Write(*it);
        }
        out_->push_back(']');
        return;
      case json::value_t::object:
        if (!ContainsBinary(value)) break;
        out_->push_back('{');
        for (auto it = value.begin(); it != value.end(); ++it) {
          if (it != value.begin()) out_->push_back(',');
          serializer_.dump(json(it.key()), false, false, 0);  // escapes the key
          out_->push_back(':');
          Write(it.value());
        }
        out_->push_back('}');
        return;
      default:
        break;
    }
    serializer_.dump(value, false, false, 0);
  }

  static bool ContainsBinary(const json& value) {
    switch (value.type()) {
      case json::value_t::binary:
        return true;
      case json::value_t::array:
      case json::value_t::object:
        for (const json& element : value) {  // values, for objects too
          if (ContainsBinary(element)) return true;
        }
        return false;
      default:
        return false;
    }
  }

 private:
  std::string* out_;
  nlohmann::detail::serializer<json> serializer_;
};

}  // namespace

std::optional<Serializer> SerializerForSubprotocol(std::string_view subprotocol) {
  if (subprotocol == "wamp.2.json") return Serializer::kJson;
  if (subprotocol == "wamp.2.msgpack") return Serializer::kMsgPack;
  if (subprotocol == "wamp.2.cbor") return Serializer::kCbor;
  return std::nullopt;
}

std::string_view SubprotocolName(Serializer serializer) {
  switch (serializer) {
    case Serializer::kJson: return "wamp.2.json";
    case Serializer::kMsgPack: return "wamp.2.msgpack";
    case Serializer::kCbor: return "wamp.2.cbor";
  }
  return "wamp.2.json";
}

bool IsBinary(Serializer serializer) { return serializer != Serializer::kJson; }

absl::StatusOr<json> Decode(Serializer serializer, std::string_view bytes) {
  const char* format_name = serializer == Serializer::kJson      ? "JSON"
                            : serializer == Serializer::kMsgPack ? "MessagePack"
                                                                 : "CBOR";
  // A raw NUL is never valid JSON, but nlohmann's lexer takes it for the end of
  // input and would ignore whatever follows.
  if (serializer == Serializer::kJson && bytes.find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError("invalid JSON: NUL byte");
  }
  json result;
  DecodeHandler handler(serializer, &result);
  try {
    // The string_view overload would take the bytes as a C string; iterators
    // keep embedded NULs (binary formats). strict: trailing bytes are an error.
    const bool ok = json::sax_parse(bytes.begin(), bytes.end(), &handler,
                                    InputFormat(serializer), /*strict=*/true);
    if (ok) return result;
  } catch (const json::exception& ex) {  // e.g. excessive container size
    return absl::InvalidArgumentError(absl::StrCat("invalid ", format_name, ": ", ex.what()));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "invalid ", format_name, ": ", handler.error().empty() ? "malformed input" : handler.error()));
}

std::string Encode(Serializer serializer, const json& value) {
  std::string out;
  switch (serializer) {
    case Serializer::kJson:
      if (JsonBinaryWriter::ContainsBinary(value)) {
        JsonBinaryWriter(&out).Write(value);
      } else {
        nlohmann::detail::serializer<json>(nlohmann::detail::output_adapter<char>(out), ' ',
                                           json::error_handler_t::replace)
            .dump(value, false, false, 0);
      }
      break;
    case Serializer::kMsgPack:
      json::to_msgpack(value, nlohmann::detail::output_adapter<char>(out));
      break;
    case Serializer::kCbor:
      json::to_cbor(value, nlohmann::detail::output_adapter<char>(out));
      break;
  }
  return out;
}

}  // namespace thingtank::wamp
