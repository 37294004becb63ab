#pragma once

// CRC32C (Castagnoli), the checksum S3 offers as x-amz-checksum-crc32c:
// slicing-by-8 tables, and the SSE4.2 crc32 instruction when the CPU has it
// (chosen once at run time).

#include <cstdint>
#include <string_view>

namespace thingtank::objects {

// CRC32C (Castagnoli, reflected 0x82F63B78) in zlib's convention: pass 0 to
// start, the previous result to continue. Uses SSE4.2 when the CPU has it.
uint32_t Crc32c(uint32_t crc, std::string_view data);

namespace crc32c_internal {
// The portable slicing-by-8 path, always available.
uint32_t Crc32cPortable(uint32_t crc, std::string_view data);
// Whether the SSE4.2 path exists on this CPU (and build).
bool Crc32cHardwareAvailable();
// The SSE4.2 path; only call when Crc32cHardwareAvailable().
uint32_t Crc32cHardware(uint32_t crc, std::string_view data);
// Test hook: when true, Crc32c (and so ContentHasher) uses the portable path.
void ForceCrc32cPortableForTesting(bool force);
}  // namespace crc32c_internal

}  // namespace thingtank::objects
