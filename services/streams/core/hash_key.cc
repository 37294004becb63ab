#include "services/streams/core/hash_key.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "services/streams/core/kinesis_errors.h"

namespace thingtank::streams {

HashKey HashOfPartitionKey(std::string_view partition_key) {
  // The digest is fetched once and each thread keeps its context: EVP_Digest
  // would look MD5 up and allocate a context per record (14% of a
  // PutRecords' CPU, by perf).
  static EVP_MD *const md5 = EVP_MD_fetch(nullptr, "MD5", nullptr);
  thread_local std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(
      EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  // An OpenSSL failure means a broken installation, not bad input.
  if (md5 == nullptr || ctx == nullptr ||
      EVP_DigestInit_ex2(ctx.get(), md5, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), partition_key.data(), partition_key.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), digest, &size) != 1 || size != 16) {
    std::abort();
  }
  HashKey key = 0;
  for (unsigned int i = 0; i < size; ++i)
    key = (key << 8) | digest[i];
  return key;
}

std::string FormatHashKey(HashKey key) {
  std::string out;
  do {
    out.push_back(static_cast<char>('0' + static_cast<int>(key % 10)));
    key /= 10;
  } while (key != 0);
  std::reverse(out.begin(), out.end());
  return out;
}

absl::StatusOr<HashKey> ParseHashKey(std::string_view text,
                                     std::string_view field) {
  const auto bad = [field] {
    return FieldError(
        field, "InvalidArgumentException",
        "must be a decimal integer from 0 to 2^128-1 without leading zeros");
  };
  if (text.empty() || text.size() > 39 || (text.size() > 1 && text[0] == '0'))
    return bad();
  HashKey key = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return bad();
    const auto digit = static_cast<unsigned>(c - '0');
    if (key > (kMaxHashKey - digit) / 10)
      return bad(); // 10*key + digit would overflow
    key = key * 10 + digit;
  }
  return key;
}

std::vector<std::pair<HashKey, HashKey>> UniformRanges(int n) {
  if (n < 1)
    std::abort(); // a caller's broken invariant
  const auto count = static_cast<HashKey>(n);
  // floor(2^128 / n) without 2^128: 2^128 = q*n + (r+1) for q, r of 2^128-1.
  HashKey step = kMaxHashKey / count;
  if (kMaxHashKey % count == count - 1)
    ++step; // n divides 2^128 (wraps only for n == 1)
  std::vector<std::pair<HashKey, HashKey>> ranges;
  ranges.reserve(n);
  for (int i = 0; i < n; ++i) {
    const HashKey start = step * static_cast<HashKey>(i);
    const HashKey end =
        i == n - 1 ? kMaxHashKey : step * static_cast<HashKey>(i + 1) - 1;
    ranges.emplace_back(start, end);
  }
  return ranges;
}

} // namespace thingtank::streams
