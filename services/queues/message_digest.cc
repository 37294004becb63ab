#include "services/queues/message_digest.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace thingtank::queues {
namespace {

std::string HexDigest(const std::string& data, const EVP_MD* md) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out, &len, md, nullptr) != 1) abort();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    hex.push_back(kHex[out[i] >> 4]);
    hex.push_back(kHex[out[i] & 0xf]);
  }
  return hex;
}

void AppendLengthPrefixed(std::string* out, const std::string& s) {
  const uint32_t n = static_cast<uint32_t>(s.size());
  out->push_back(static_cast<char>((n >> 24) & 0xff));
  out->push_back(static_cast<char>((n >> 16) & 0xff));
  out->push_back(static_cast<char>((n >> 8) & 0xff));
  out->push_back(static_cast<char>(n & 0xff));
  out->append(s);
}

}  // namespace

std::string Md5Hex(const std::string& data) { return HexDigest(data, EVP_md5()); }

std::string Sha256Hex(const std::string& data) { return HexDigest(data, EVP_sha256()); }

std::string MessageAttributesMd5(
    const google::protobuf::Map<std::string, v1::MessageAttributeValue>& attributes) {
  if (attributes.empty()) return "";
  std::vector<const std::string*> names;
  names.reserve(attributes.size());
  for (const auto& [name, value] : attributes) names.push_back(&name);
  std::sort(names.begin(), names.end(),
            [](const std::string* a, const std::string* b) { return *a < *b; });
  std::string buf;
  for (const std::string* name : names) {
    const v1::MessageAttributeValue& value = attributes.at(*name);
    AppendLengthPrefixed(&buf, *name);
    AppendLengthPrefixed(&buf, value.data_type());
    if (value.value_case() == v1::MessageAttributeValue::kBinaryValue) {
      buf.push_back(2);
      AppendLengthPrefixed(&buf, value.binary_value());
    } else {
      buf.push_back(1);
      AppendLengthPrefixed(&buf, value.string_value());
    }
  }
  return Md5Hex(buf);
}

}  // namespace thingtank::queues
