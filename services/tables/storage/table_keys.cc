#include "services/tables/storage/table_keys.h"

#include "services/common/status.h"
#include "services/common/storage/key_codec.h"
#include "services/tables/decimal.h"

namespace thingtank::tables::storage {

KeySchema KeySchema::From(const v1::TableDescription& d) {
  KeySchema s;
  auto type_of = [&](const std::string& name) {
    for (const auto& def : d.attribute_definitions()) {
      if (def.attribute_name() == name) return def.attribute_type();
    }
    return v1::SCALAR_ATTRIBUTE_TYPE_UNSPECIFIED;
  };
  for (const auto& e : d.key_schema()) {
    if (e.key_type() == v1::KEY_TYPE_HASH) {
      s.hash_name = e.attribute_name();
      s.hash_type = type_of(s.hash_name);
    } else if (e.key_type() == v1::KEY_TYPE_RANGE) {
      s.range_name = e.attribute_name();
      s.range_type = type_of(s.range_name);
    }
  }
  return s;
}

std::string TablePrefix(uint64_t table_id) {
  std::string id8;
  keys::AppendUint64(&id8, table_id);
  std::string out;
  keys::AppendResource(&out, id8);
  return out;
}

absl::Status AppendScalar(const v1::AttributeValue& v, std::string* out) {
  switch (v.value_case()) {
    case v1::AttributeValue::kS:
      out->append(v.s());
      return absl::OkStatus();
    case v1::AttributeValue::kB:
      out->append(v.b());
      return absl::OkStatus();
    case v1::AttributeValue::kN: {
      TT_ASSIGN_OR_RETURN(Decimal d, Decimal::Parse(v.n()));
      d.AppendOrderedKey(out);
      return absl::OkStatus();
    }
    default:
      return absl::InvalidArgumentError("key value is not a scalar");
  }
}

absl::StatusOr<std::string> HashPrefix(uint64_t table_id, const v1::AttributeValue& hash) {
  std::string encoded;
  TT_RETURN_IF_ERROR(AppendScalar(hash, &encoded));
  std::string out = TablePrefix(table_id);
  keys::AppendResource(&out, encoded);
  return out;
}

absl::StatusOr<std::string> ItemKey(
    uint64_t table_id, const KeySchema& schema,
    const google::protobuf::Map<std::string, v1::AttributeValue>& item) {
  auto h = item.find(schema.hash_name);
  if (h == item.end()) return absl::InvalidArgumentError("missing hash key");
  TT_ASSIGN_OR_RETURN(std::string key, HashPrefix(table_id, h->second));
  if (schema.has_range()) {
    auto r = item.find(schema.range_name);
    if (r == item.end()) return absl::InvalidArgumentError("missing range key");
    TT_RETURN_IF_ERROR(AppendScalar(r->second, &key));
  }
  return key;
}

std::string_view HashPart(std::string_view item_key, size_t prefix_len) {
  if (item_key.size() < prefix_len) return {};
  std::string_view rest = item_key.substr(prefix_len);
  std::optional<std::string_view> hash = keys::ConsumeResource(&rest);
  return hash ? *hash : std::string_view();
}

uint32_t SegmentOf(std::string_view encoded_hash, uint32_t total_segments) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : encoded_hash) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return total_segments == 0 ? 0 : static_cast<uint32_t>(h % total_segments);
}

std::string Successor(std::string_view key) {
  std::string out(key);
  out.push_back('\0');
  return out;
}

std::string TableRecordKey(std::string_view name) {
  std::string out = "T";
  keys::AppendResource(&out, name);
  return out;
}

std::string NextTableIdKey() { return "N"; }

std::string CountersKey(uint64_t table_id) {
  std::string out = "S";
  keys::AppendUint64(&out, table_id);
  return out;
}

std::string TokenKey(std::string_view token) {
  std::string out = "K";
  keys::AppendResource(&out, token);
  return out;
}

}  // namespace thingtank::tables::storage
