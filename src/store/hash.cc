#include "store/hash.h"

#include <openssl/evp.h>

#include "base/check.h"

namespace baton::store {

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  // EVP_Digest fails only on allocation failure or a broken OpenSSL build.
  BATON_CHECK(EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr) == 1);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(static_cast<size_t>(length) * 2);
  for (unsigned int byte_idx = 0; byte_idx < length; ++byte_idx) {
    out.push_back(kHex[digest[byte_idx] >> 4]);
    out.push_back(kHex[digest[byte_idx] & 0x0f]);
  }
  return out;
}

}  // namespace baton::store
