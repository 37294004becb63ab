// WAMP-CRA primitives on OpenSSL, byte-for-byte as Autobahn computes them.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cstdlib>

#include "services/wamp/auth/auth.h"
#include "services/wamp/auth/internal.h"

namespace thingtank::wamp {
namespace auth_internal {

std::string Base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  unsigned char da[SHA256_DIGEST_LENGTH], db[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(a.data()), a.size(), da);
  SHA256(reinterpret_cast<const unsigned char*>(b.data()), b.size(), db);
  // Equal digests of unequal inputs would be a SHA-256 collision.
  return CRYPTO_memcmp(da, db, sizeof(da)) == 0;
}

std::optional<std::string> RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    return std::nullopt;
  }
  return out;
}

}  // namespace auth_internal

std::string ComputeWcsSignature(std::string_view key, std::string_view challenge) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(challenge.data()), challenge.size(), mac,
           &mac_len) == nullptr) {
    abort();  // Only fails on allocation failure or a broken OpenSSL.
  }
  return auth_internal::Base64(
      std::string_view(reinterpret_cast<const char*>(mac), mac_len));
}

std::string DeriveKey(std::string_view secret, std::string_view salt, int iterations,
                      int keylen) {
  if (iterations < 1 || keylen < 1) abort();  // ParseWampConfig rejects these.
  std::string key(static_cast<size_t>(keylen), '\0');
  if (PKCS5_PBKDF2_HMAC(secret.data(), static_cast<int>(secret.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()),
                        static_cast<int>(salt.size()), iterations, EVP_sha256(), keylen,
                        reinterpret_cast<unsigned char*>(key.data())) != 1) {
    abort();
  }
  return auth_internal::Base64(key);
}

}  // namespace thingtank::wamp
