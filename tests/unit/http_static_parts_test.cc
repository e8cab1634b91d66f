// The pure pieces static files are built from: target paths, content types,
// HTTP dates and byte ranges. StaticFiles itself: http_static_files_test.cc.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "protocols/http/byte_range.h"
#include "protocols/http/http_date.h"
#include "protocols/http/mime_types.h"
#include "protocols/http/target_path.h"

namespace epolld::http {
namespace {

TEST(TargetPath, DecodesThenRemovesDotSegments) {
  struct Case {
    std::string path;
    std::string relative;
    bool trailing_slash;
  };
  for (const Case& c : std::vector<Case>{
           {"/", ".", true},
           {"/a", "a", false},
           {"/a/", "a", true},
           {"/a/b/../c", "a/c", false},
           {"/a/b/..", "a", true},
           {"/a/.", "a", true},
           {"//a///b", "a/b", false},
           {"/%61%2Fb", "a/b", false},
           {"/a%2f%2e%2e", ".", true},
           {"/a%20b", "a b", false},
           {"/...", "...", false},
       }) {
    SCOPED_TRACE(c.path);
    const std::optional<TargetPath> target = parseTargetPath(c.path);
    ASSERT_TRUE(target.has_value());
    EXPECT_EQ(target->relative, c.relative);
    EXPECT_EQ(target->trailing_slash, c.trailing_slash);
  }
}

TEST(TargetPath, SplitsOffTheQuery) {
  const std::optional<TargetPath> target = parseTargetPath("/a/?x=%zz&y=/..");
  ASSERT_TRUE(target.has_value());
  EXPECT_EQ(target->relative, "a");
  EXPECT_EQ(target->query, "x=%zz&y=/..");
  // An absolute-form target without a path: RFC 9112 §3.2.2.
  EXPECT_EQ(parseTargetPath("?q")->relative, ".");
}

TEST(TargetPath, RejectsEscapesClimbingAndRelativePaths) {
  for (const std::string path : {"/..", "/a/../..", "/%2e%2e", "/a/%2e%2e%2f..", "/%2f..", "/%00", "/a%00b", "/%",
                                 "/%a", "/%ag", "a/b", "*"}) {
    SCOPED_TRACE(path);
    EXPECT_FALSE(parseTargetPath(path).has_value());
  }
}

TEST(TargetPath, EncodingKeepsPathCharactersOnly) {
  EXPECT_EQ(percentEncodePath("a b/c%d?e#f/~x:@!$&'()*+,;="), "a%20b/c%25d%3Fe%23f/~x:@!$&'()*+,;=");
  EXPECT_EQ(percentEncodePath("caf\xc3\xa9\n"), "caf%C3%A9%0A");
}

TEST(ContentType, FollowsTheExtensionInAnyCase) {
  EXPECT_EQ(contentTypeFor("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(contentTypeFor("dir/STYLE.CSS"), "text/css; charset=utf-8");
  EXPECT_EQ(contentTypeFor("a.tar.gz"), "application/gzip");
  EXPECT_EQ(contentTypeFor("font.woff2"), "font/woff2");
  EXPECT_EQ(contentTypeFor("image.jpeg"), "image/jpeg");
}

TEST(ContentType, UnknownOrMissingExtensionIsOctetStream) {
  for (const std::string name : {"README", "a.unknown", ".html", "dir.html/file", "file."}) {
    SCOPED_TRACE(name);
    EXPECT_EQ(contentTypeFor(name), "application/octet-stream");
  }
}

TEST(HttpDate, ReadsAllThreeFormats) {
  // RFC 9110 §5.6.7's examples, all the same instant.
  constexpr std::int64_t kExample = 784111777;
  EXPECT_EQ(parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), kExample);
  EXPECT_EQ(parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT"), kExample);
  EXPECT_EQ(parseHttpDate("Sun Nov  6 08:49:37 1994"), kExample);
  EXPECT_EQ(parseHttpDate("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
  EXPECT_EQ(parseHttpDate("Tue, 29 Feb 2028 23:59:60 GMT"), 1835481600);
}

TEST(HttpDate, TwoDigitYearsAreNeverMoreThan50YearsAhead) {
  EXPECT_EQ(parseHttpDate("Friday, 31-Dec-99 00:00:00 GMT"), 946598400);
  EXPECT_EQ(parseHttpDate("Saturday, 01-Jan-00 00:00:00 GMT"), 946684800);
}

TEST(HttpDate, RejectsOtherText) {
  for (const std::string text : {"", "yesterday", "Sun, 06 Nov 1994 08:49:37 UTC", "sun, 06 Nov 1994 08:49:37 GMT",
                                 "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 GMT ",
                                 "Sun, 30 Feb 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT",
                                 "Sun, 06 Nov 1994 08:60:00 GMT", "Sun, 06 Foo 1994 08:49:37 GMT",
                                 "Sun Nov 6 08:49:37 1994", "Sun, 06-Nov-94 08:49:37 GMT", "1994-11-06T08:49:37Z"}) {
    SCOPED_TRACE(text);
    EXPECT_FALSE(parseHttpDate(text).has_value());
  }
}

using Kind = RangeSelection::Kind;

TEST(ByteRange, SelectsOneRangeClampedToTheFile) {
  struct Case {
    std::string range;
    std::uint64_t first;
    std::uint64_t length;
  };
  for (const Case& c : std::vector<Case>{{"bytes=0-0", 0, 1},
                                         {"bytes=0-", 0, 100},
                                         {"bytes=99-", 99, 1},
                                         {"bytes=10-1000", 10, 90},
                                         {"bytes=-1", 99, 1},
                                         {"bytes=-1000", 0, 100},
                                         {"Bytes=1-2", 1, 2}}) {
    SCOPED_TRACE(c.range);
    const RangeSelection selection = selectRange(c.range, 100);
    EXPECT_EQ(selection.kind, Kind::kPart);
    EXPECT_EQ(selection.first, c.first);
    EXPECT_EQ(selection.length, c.length);
  }
}

TEST(ByteRange, RangesWithNothingToSendAreUnsatisfiable) {
  EXPECT_EQ(selectRange("bytes=100-", 100).kind, Kind::kUnsatisfiable);
  EXPECT_EQ(selectRange("bytes=-0", 100).kind, Kind::kUnsatisfiable);
  EXPECT_EQ(selectRange("bytes=0-", 0).kind, Kind::kUnsatisfiable);
  EXPECT_EQ(selectRange("bytes=-1", 0).kind, Kind::kUnsatisfiable);
}

TEST(ByteRange, InvalidOrSeveralRangesAreIgnored) {
  for (const std::string range : {"", "bytes=", "bytes=,", "bytes=1-2,3-4", "bytes=5-4", "bytes=a-b", "bytes=-",
                                  "bytes=1", "bytes=+1-2", "bytes=1 -2", "lines=1-2", "bytes 1-2"}) {
    SCOPED_TRACE(range);
    EXPECT_EQ(selectRange(range, 100).kind, Kind::kWhole);
  }
}

}  // namespace
}  // namespace epolld::http
