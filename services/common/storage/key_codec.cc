#include "services/common/storage/key_codec.h"

namespace thingtank::keys {

void AppendUint64(std::string* out, uint64_t v) {
  char buf[8];
  for (int i = 7; i >= 0; --i) {
    buf[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  out->append(buf, 8);
}

void AppendInt64(std::string* out, int64_t v) {
  AppendUint64(out, static_cast<uint64_t>(v) ^ (uint64_t{1} << 63));
}

void AppendResource(std::string* out, std::string_view name) {
  const auto n = static_cast<uint32_t>(name.size());
  const char len[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                       static_cast<char>(n >> 8), static_cast<char>(n)};
  out->append(len, 4);
  out->append(name);
}

std::optional<uint64_t> ConsumeUint64(std::string_view* in) {
  if (in->size() < 8) return std::nullopt;
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>((*in)[i]);
  in->remove_prefix(8);
  return v;
}

std::optional<int64_t> ConsumeInt64(std::string_view* in) {
  auto v = ConsumeUint64(in);
  if (!v) return std::nullopt;
  return static_cast<int64_t>(*v ^ (uint64_t{1} << 63));
}

std::optional<std::string_view> ConsumeResource(std::string_view* in) {
  if (in->size() < 4) return std::nullopt;
  uint32_t n = 0;
  for (int i = 0; i < 4; ++i) n = (n << 8) | static_cast<uint8_t>((*in)[i]);
  if (in->size() - 4 < n) return std::nullopt;
  std::string_view name = in->substr(4, n);
  in->remove_prefix(4 + n);
  return name;
}

std::string PrefixSuccessor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty()) {
    auto& c = reinterpret_cast<unsigned char&>(s.back());
    if (c != 0xff) {
      ++c;
      return s;
    }
    s.pop_back();
  }
  return s;
}

}  // namespace thingtank::keys
