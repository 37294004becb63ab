#include "services/tables/storage/encoded_item.h"

#include "services/tables/item_validation.h"

namespace thingtank::tables::storage {

namespace {

// A cursor over protobuf wire format (only what Item uses: varints and
// length-delimited fields).
class Wire {
 public:
  explicit Wire(std::string_view bytes) : p_(bytes.data()), end_(bytes.data() + bytes.size()) {}
  bool done() const { return p_ == end_; }
  bool Varint(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64 && p_ < end_; shift += 7) {
      const uint8_t b = static_cast<uint8_t>(*p_++);
      *v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }
  // Reads a tag; for length-delimited fields also the payload.
  bool Field(uint32_t* number, uint32_t* wire_type, std::string_view* payload, uint64_t* value) {
    uint64_t tag;
    if (!Varint(&tag)) return false;
    *number = static_cast<uint32_t>(tag >> 3);
    *wire_type = static_cast<uint32_t>(tag & 7);
    switch (*wire_type) {
      case 0: return Varint(value);
      case 2: {
        uint64_t len;
        if (!Varint(&len) || len > static_cast<uint64_t>(end_ - p_)) return false;
        *payload = std::string_view(p_, len);
        p_ += len;
        return true;
      }
      case 1: if (end_ - p_ < 8) return false; p_ += 8; return true;
      case 5: if (end_ - p_ < 4) return false; p_ += 4; return true;
      default: return false;
    }
  }

 private:
  const char* p_;
  const char* end_;
};

constexpr int kMaxDepth = 40;

bool ValueSize(std::string_view value, int depth, int64_t* size, std::string_view* number);

// Sum over a repeated field's members (sets: strings or numbers; lists: values).
bool SumRepeated(std::string_view message, int kind, int depth, int64_t* size) {
  Wire w(message);
  while (!w.done()) {
    uint32_t number, type;
    std::string_view payload;
    uint64_t v;
    if (!w.Field(&number, &type, &payload, &v)) return false;
    if (number != 1 || type != 2) continue;
    switch (kind) {
      case 's': *size += static_cast<int64_t>(payload.size()); break;
      case 'n': *size += NumberSize(payload); break;
      case 'l': {
        int64_t element = 0;
        if (!ValueSize(payload, depth + 1, &element, nullptr)) return false;
        *size += 1 + element;
        break;
      }
    }
  }
  return true;
}

// Map entries {1: name, 2: value}: sum of name + value (+1 each inside an M).
bool SumMap(std::string_view message, int depth, bool nested, int64_t* size,
            std::string_view ttl_attribute, std::optional<std::string_view>* ttl) {
  Wire w(message);
  while (!w.done()) {
    uint32_t number, type;
    std::string_view entry;
    uint64_t v;
    if (!w.Field(&number, &type, &entry, &v)) return false;
    if (number != 1 || type != 2) continue;
    std::string_view name, value;
    Wire e(entry);
    while (!e.done()) {
      uint32_t n, t;
      std::string_view p;
      uint64_t x;
      if (!e.Field(&n, &t, &p, &x)) return false;
      if (t != 2) continue;
      if (n == 1) name = p;
      if (n == 2) value = p;
    }
    int64_t value_size = 0;
    std::string_view number_text;
    if (!ValueSize(value, depth + 1, &value_size, &number_text)) return false;
    *size += (nested ? 1 : 0) + static_cast<int64_t>(name.size()) + value_size;
    if (ttl != nullptr && !ttl_attribute.empty() && name == ttl_attribute &&
        number_text.data() != nullptr) {
      *ttl = number_text;
    }
  }
  return true;
}

// One AttributeValue (see ValueSize() in item_validation.cc). `number` gets
// the text of an N.
bool ValueSize(std::string_view value, int depth, int64_t* size, std::string_view* number) {
  if (depth > kMaxDepth) return false;
  Wire w(value);
  int64_t result = 0;
  std::string_view n_text;
  while (!w.done()) {
    uint32_t field, type;
    std::string_view p;
    uint64_t v;
    if (!w.Field(&field, &type, &p, &v)) return false;
    n_text = {};
    result = 0;
    switch (field) {
      case 1: case 3: result = static_cast<int64_t>(p.size()); break;     // S, B
      case 2: result = NumberSize(p); n_text = p; break;                   // N
      case 4: case 5: result = 1; break;                                   // BOOL, NULL
      case 6: result = 3; if (!SumRepeated(p, 'l', depth, &result)) return false; break;
      case 7: result = 3; if (!SumMap(p, depth, true, &result, {}, nullptr)) return false; break;
      case 8: case 10: if (!SumRepeated(p, 's', depth, &result)) return false; break;  // SS, BS
      case 9: if (!SumRepeated(p, 'n', depth, &result)) return false; break;           // NS
      default: break;
    }
  }
  *size = result;
  if (number != nullptr && n_text.data() != nullptr) *number = n_text;
  return true;
}

}  // namespace

absl::StatusOr<EncodedItemInfo> InspectEncodedItem(std::string_view bytes,
                                                   std::string_view ttl_attribute) {
  EncodedItemInfo info;
  if (!SumMap(bytes, 0, false, &info.size, ttl_attribute, &info.ttl_number)) {
    return absl::DataLossError("tables: corrupt item");
  }
  return info;
}

void AppendItemField(std::string_view item_bytes, std::string* out) {
  out->push_back(0x0a);  // field 1, length-delimited
  uint64_t len = item_bytes.size();
  while (len >= 0x80) {
    out->push_back(static_cast<char>((len & 0x7f) | 0x80));
    len >>= 7;
  }
  out->push_back(static_cast<char>(len));
  out->append(item_bytes.data(), item_bytes.size());
}

}  // namespace thingtank::tables::storage
