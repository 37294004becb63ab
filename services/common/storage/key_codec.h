#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace thingtank::keys {

// Order-preserving key encodings. Every stored key starts with a resource
// prefix (AppendResource) so one resource's key space can never run into
// another's, whatever names users pick; the parts after it compare bytewise in
// the order of their values.

// A 4-byte big-endian length followed by the bytes. Use for names.
void AppendResource(std::string* out, std::string_view name);
// 8 bytes big-endian: unsigned order.
void AppendUint64(std::string* out, uint64_t v);
// 8 bytes big-endian with the sign bit flipped: signed order.
void AppendInt64(std::string* out, int64_t v);

// Readers consume from the front of `in`; nullopt when `in` is too short.
std::optional<std::string_view> ConsumeResource(std::string_view* in);
std::optional<uint64_t> ConsumeUint64(std::string_view* in);
std::optional<int64_t> ConsumeInt64(std::string_view* in);

// The smallest key greater than every key starting with `prefix` (empty when
// there is none, i.e. the prefix is all 0xff).
std::string PrefixSuccessor(std::string_view prefix);

}  // namespace thingtank::keys
