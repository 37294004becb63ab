#include "services/objects/core/crc32c.h"

#include <array>
#include <atomic>
#include <cstddef>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#define THINGTANK_CRC32C_SSE42 1
#endif

namespace thingtank::objects {
namespace {

constexpr uint32_t kPolynomial = 0x82F63B78;  // Castagnoli, reflected

using Tables = std::array<std::array<uint32_t, 256>, 8>;

// tables[0][b]: the CRC of byte b; tables[k][b]: of b followed by k zero bytes.
constexpr Tables MakeTables() {
  Tables t{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t crc = b;
    for (int i = 0; i < 8; ++i) crc = (crc >> 1) ^ ((crc & 1) ? kPolynomial : 0);
    t[0][b] = crc;
  }
  for (size_t k = 1; k < 8; ++k) {
    for (uint32_t b = 0; b < 256; ++b) {
      t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xff];
    }
  }
  return t;
}

constexpr Tables kTables = MakeTables();

inline uint32_t LoadLe32(const unsigned char* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

// Both paths work on the raw register (already inverted).
uint32_t ExtendPortable(uint32_t crc, const unsigned char* p, size_t n) {
  while (n >= 8) {
    const uint32_t lo = crc ^ LoadLe32(p);
    const uint32_t hi = LoadLe32(p + 4);
    crc = kTables[7][lo & 0xff] ^ kTables[6][(lo >> 8) & 0xff] ^
          kTables[5][(lo >> 16) & 0xff] ^ kTables[4][lo >> 24] ^
          kTables[3][hi & 0xff] ^ kTables[2][(hi >> 8) & 0xff] ^
          kTables[1][(hi >> 16) & 0xff] ^ kTables[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) crc = (crc >> 8) ^ kTables[0][(crc ^ *p++) & 0xff];
  return crc;
}

#ifdef THINGTANK_CRC32C_SSE42
__attribute__((target("sse4.2"))) uint32_t ExtendSse42(uint32_t crc, const unsigned char* p,
                                                       size_t n) {
  while (n > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    crc = _mm_crc32_u8(crc, *p++);
    --n;
  }
  uint64_t c = crc;
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, p, sizeof(word));
    c = _mm_crc32_u64(c, word);
    p += 8;
    n -= 8;
  }
  crc = static_cast<uint32_t>(c);
  while (n-- > 0) crc = _mm_crc32_u8(crc, *p++);
  return crc;
}

bool CpuHasSse42() {
  static const bool has = __builtin_cpu_supports("sse4.2");
  return has;
}
#endif

std::atomic<bool> force_portable{false};

const unsigned char* Bytes(std::string_view data) {
  return reinterpret_cast<const unsigned char*>(data.data());
}

}  // namespace

uint32_t Crc32c(uint32_t crc, std::string_view data) {
  if (crc32c_internal::Crc32cHardwareAvailable() &&
      !force_portable.load(std::memory_order_relaxed)) {
    return crc32c_internal::Crc32cHardware(crc, data);
  }
  return crc32c_internal::Crc32cPortable(crc, data);
}

namespace crc32c_internal {

uint32_t Crc32cPortable(uint32_t crc, std::string_view data) {
  return ~ExtendPortable(~crc, Bytes(data), data.size());
}

bool Crc32cHardwareAvailable() {
#ifdef THINGTANK_CRC32C_SSE42
  return CpuHasSse42();
#else
  return false;
#endif
}

uint32_t Crc32cHardware(uint32_t crc, std::string_view data) {
#ifdef THINGTANK_CRC32C_SSE42
  return ~ExtendSse42(~crc, Bytes(data), data.size());
#else
  return Crc32cPortable(crc, data);
#endif
}

void ForceCrc32cPortableForTesting(bool force) {
  force_portable.store(force, std::memory_order_relaxed);
}

}  // namespace crc32c_internal
}  // namespace thingtank::objects
