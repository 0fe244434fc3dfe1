#include "base/uri.h"

#include <gtest/gtest.h>

namespace baton {
namespace {

TEST(UriTest, PercentEncodeKeepsUnreservedAndRequestedCharacters) {
  EXPECT_EQ(PercentEncode("aZ09-._~"), "aZ09-._~");
  EXPECT_EQ(PercentEncode("a b&c=d/e"), "a%20b%26c%3Dd%2Fe");
  EXPECT_EQ(PercentEncode("ns/name:1", "/:"), "ns/name:1");
  EXPECT_EQ(PercentEncode("é"), "%C3%A9");
  EXPECT_EQ(PercentEncode(std::string_view("\0\x7f", 2)), "%00%7F");
}

}  // namespace
}  // namespace baton
