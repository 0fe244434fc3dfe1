// Content hashes of the store: lowercase hex SHA-256 (OpenSSL EVP). Pure functions,
// thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace baton::store {

// Lowercase hex SHA-256 of `data` (64 characters).
std::string Sha256Hex(std::string_view data);

}  // namespace baton::store
