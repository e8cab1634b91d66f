// StaticFiles: conditional requests (RFC 9110 §13) and range requests (§14).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/unit/http_static_fixture.h"

namespace epolld::http {
namespace {

using testing::bigContent;
using testing::kBigSize;
using testing::kMtimeText;
using testing::readBody;
using testing::StaticFilesTest;

// Conditional requests (§13).

TEST_F(StaticFilesTest, NotModifiedWhenIfNoneMatchMatches) {
  const std::string etag = field(get("/page.html"), "ETag");
  ASSERT_FALSE(etag.empty());
  for (const std::string& value : {etag, "W/" + etag, "\"other\", " + etag, std::string("*")}) {
    SCOPED_TRACE(value);
    const FileResponse response = get("/page.html", {"If-None-Match: " + value});
    EXPECT_EQ(response.status, 304);
    EXPECT_FALSE(response.body.has_value());
    EXPECT_TRUE(response.content_type.empty());
    EXPECT_EQ(response.content_length, 11U);  // RFC 9110 §8.6: the 200's length, if any
    EXPECT_EQ(field(response, "ETag"), etag);
    EXPECT_EQ(field(response, "Last-Modified"), kMtimeText);
  }
  EXPECT_EQ(get("/page.html", {"If-None-Match: \"other\""}).status, 200);
}

TEST_F(StaticFilesTest, EntityTagChangesWithTheFile) {
  const std::string before = field(get("/page.html"), "ETag");
  write(root_ / "page.html", "<p>page!</p>");
  EXPECT_NE(field(get("/page.html"), "ETag"), before);
  EXPECT_EQ(get("/page.html", {"If-None-Match: " + before}).status, 200);
}

TEST_F(StaticFilesTest, NotModifiedWhenIfModifiedSinceIsNotBeforeMtime) {
  EXPECT_EQ(get("/page.html", {"If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT"}).status, 304);
  EXPECT_EQ(get("/page.html", {"If-Modified-Since: Sunday, 06-Nov-94 08:49:38 GMT"}).status, 304);
  EXPECT_EQ(get("/page.html", {"If-Modified-Since: Sun Nov  6 08:49:36 1994"}).status, 200);
  EXPECT_EQ(get("/page.html", {"If-Modified-Since: yesterday"}).status, 200);
  // §13.1.3: ignored when If-None-Match is present.
  EXPECT_EQ(get("/page.html", {"If-None-Match: \"x\"", "If-Modified-Since: Sun, 06 Nov 2094 08:49:37 GMT"}).status,
            200);
}

TEST_F(StaticFilesTest, FailedIfMatchOrIfUnmodifiedSinceIs412) {
  const std::string etag = field(get("/page.html"), "ETag");
  EXPECT_EQ(get("/page.html", {"If-Match: " + etag}).status, 200);
  expectRefused(get("/page.html", {"If-Match: \"other\""}), 412);
  expectRefused(get("/page.html", {"If-Match: W/" + etag}), 412);  // §13.1.1: strong comparison
  EXPECT_EQ(get("/page.html", {"If-Unmodified-Since: Sun, 06 Nov 1994 08:49:37 GMT"}).status, 200);
  expectRefused(get("/page.html", {"If-Unmodified-Since: Sun, 06 Nov 1994 08:49:36 GMT"}), 412);
}

// Range requests (§14).

struct RangeCase {
  std::string range;
  std::uint64_t first;
  std::uint64_t length;
  std::string content_range;
};

TEST_F(StaticFilesTest, SingleRangeIs206WithExactContentRange) {
  const std::string big = bigContent();
  for (const RangeCase& range : std::vector<RangeCase>{
           {"bytes=0-9", 0, 10, "bytes 0-9/65536"},
           {"bytes=65000-", 65000, 536, "bytes 65000-65535/65536"},
           {"bytes=-100", 65436, 100, "bytes 65436-65535/65536"},
           {"bytes=100-999999", 100, 65436, "bytes 100-65535/65536"},
           {"bytes=-999999", 0, 65536, "bytes 0-65535/65536"},
           {"BYTES=5-5", 5, 1, "bytes 5-5/65536"},
           {"bytes=, 7-8 ,", 7, 2, "bytes 7-8/65536"},
       }) {
    SCOPED_TRACE(range.range);
    const FileResponse response = get("/big.bin", {"Range: " + range.range});
    EXPECT_EQ(response.status, 206);
    EXPECT_EQ(field(response, "Content-Range"), range.content_range);
    EXPECT_EQ(response.content_length, range.length);
    ASSERT_TRUE(response.body.has_value());
    EXPECT_EQ(response.body->offset, static_cast<off_t>(range.first));
    EXPECT_EQ(readBody(*response.body), big.substr(range.first, range.length));
  }
}

TEST_F(StaticFilesTest, UnsatisfiableRangeIs416WithTheLength) {
  for (const std::string range : {"bytes=65536-", "bytes=70000-70010", "bytes=-0"}) {
    SCOPED_TRACE(range);
    const FileResponse response = get("/big.bin", {"Range: " + range});
    expectRefused(response, 416);
    EXPECT_EQ(field(response, "Content-Range"), "bytes */65536");
  }
  EXPECT_EQ(field(get("/empty.txt", {"Range: bytes=-5"}), "Content-Range"), "bytes */0");
}

TEST_F(StaticFilesTest, IgnoredRangeSendsTheWholeFile) {
  // Several ranges (§14.2 lets a server ignore them), other units, and
  // ranges that do not parse.
  for (const std::string range : {"bytes=0-1,5-6", "bytes=0-1, -3", "items=0-1", "bytes=abc", "bytes=5-1",
                                  "bytes=1-2-3", "bytes=--1", "bytes", "bytes=99999999999999999999-"}) {
    SCOPED_TRACE(range);
    const FileResponse response = get("/big.bin", {"Range: " + range});
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.content_length, kBigSize);
    EXPECT_EQ(field(response, "Content-Range"), "");
  }
}

TEST_F(StaticFilesTest, HeadIgnoresRange) {
  // §14.2: range handling is defined for GET only.
  const FileResponse response = respond("HEAD /big.bin HTTP/1.1", {"Range: bytes=0-9"});
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.content_length, kBigSize);
  EXPECT_FALSE(response.body.has_value());
}

TEST_F(StaticFilesTest, IfRangeServesTheRangeOnlyWhileTheValidatorMatches) {
  const std::string etag = field(get("/big.bin"), "ETag");
  EXPECT_EQ(get("/big.bin", {"Range: bytes=0-9", "If-Range: " + etag}).status, 206);
  EXPECT_EQ(get("/big.bin", {"Range: bytes=0-9", "If-Range: " + std::string(kMtimeText)}).status, 206);
  EXPECT_EQ(get("/big.bin", {"Range: bytes=0-9", "If-Range: \"stale\""}).status, 200);
  EXPECT_EQ(get("/big.bin", {"Range: bytes=0-9", "If-Range: W/" + etag}).status, 200);
  EXPECT_EQ(get("/big.bin", {"Range: bytes=0-9", "If-Range: Sun, 06 Nov 1994 08:49:38 GMT"}).status, 200);
}

TEST_F(StaticFilesTest, NotModifiedTakesPrecedenceOverRange) {
  const std::string etag = field(get("/big.bin"), "ETag");
  EXPECT_EQ(get("/big.bin", {"Range: bytes=0-9", "If-None-Match: " + etag}).status, 304);
}

}  // namespace
}  // namespace epolld::http
