// StaticFiles: which files a request reaches, and how they are served.
// Conditional and range requests: http_static_conditions_test.cc.
#include "protocols/http/static_files.h"

#include <fcntl.h>

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <stdexcept>
#include <string>

#include "tests/unit/http_static_fixture.h"

namespace epolld::http {
namespace {

using testing::bigContent;
using testing::kBigSize;
using testing::kMtimeText;
using testing::openFdCount;
using testing::StaticFilesTest;

TEST_F(StaticFilesTest, ServesFileWithLengthTypeAndExactBytes) {
  const FileResponse response = get("/big.bin");
  expectServed(response, "application/octet-stream", bigContent());
  EXPECT_EQ(field(response, "Accept-Ranges"), "bytes");
  EXPECT_EQ(field(response, "Last-Modified"), kMtimeText);
}

TEST_F(StaticFilesTest, ServesOneByteFile) { expectServed(get("/one.bin"), "application/octet-stream", "x"); }

TEST_F(StaticFilesTest, EmptyFileHasLengthZeroAndNoBody) {
  const FileResponse response = get("/empty.txt");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.content_type, "text/plain; charset=utf-8");
  EXPECT_EQ(response.content_length, 0U);
  EXPECT_FALSE(response.body.has_value());
}

TEST_F(StaticFilesTest, HeadHasTheSameHeadAndNoOpenFile) {
  const FileResponse full = get("/page.html");
  const std::size_t fds_before = openFdCount();
  const FileResponse head = respond("HEAD /page.html HTTP/1.1");
  EXPECT_EQ(openFdCount(), fds_before);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(head.content_length, full.content_length);
  EXPECT_EQ(head.fields, full.fields);
  EXPECT_FALSE(head.body.has_value());
}

TEST_F(StaticFilesTest, QueryIsNotPartOfTheFileName) {
  EXPECT_EQ(get("/page.html?v=2&x=/../..").status, 200);
}

TEST_F(StaticFilesTest, AbsoluteFormTargetIsServedByItsPath) {
  expectServed(get("http://example.com/one.bin"), "application/octet-stream", "x");
}

TEST_F(StaticFilesTest, MissingFileIs404) {
  expectRefused(get("/nothing.html"), 404);
  expectRefused(get("/one.bin/below"), 404);  // ENOTDIR
}

TEST_F(StaticFilesTest, PercentEncodedNamesAreDecoded) {
  EXPECT_EQ(get("/a%20b.txt").status, 200);
  EXPECT_EQ(get("/%6fne.bin").status, 200);
  EXPECT_EQ(get("/dir%2Findex.html").status, 200);  // %2F is "/", as in nginx
}

TEST_F(StaticFilesTest, DotSegmentsInsideRootAreResolved) {
  EXPECT_EQ(get("/dir/../one.bin").status, 200);
  EXPECT_EQ(get("/./dir/./index.html").status, 200);
  EXPECT_EQ(get("//dir//index.html").status, 200);
  EXPECT_EQ(get("/dir/%2e%2e/one.bin").status, 200);
}

// The parser refuses these first; StaticFiles refuses them on its own too.
TEST_F(StaticFilesTest, TraversalAboveRootIs400) {
  for (const std::string target :
       {"/../etc/passwd", "/../outside/secret.txt", "/%2e%2e/outside/secret.txt", "/%2E%2E/%2e%2e/etc/passwd",
        "/dir/../../outside/secret.txt", "/%2f..%2f", "/%2f..%2foutside%2fsecret.txt",
        "/dir/..%2f..%2foutside/secret.txt", "/.%2e/outside/secret.txt", "/.."}) {
    SCOPED_TRACE(target);
    expectRefused(get(target), 400);
    expectRefused(getUnparsed(target), 400);
  }
  expectRefused(get("http://a/../outside/secret.txt"), 400);
}

TEST_F(StaticFilesTest, BadEscapesAre400) {
  for (const std::string target : {"/one.bin%00", "/%00/../one.bin", "/%zz", "/%4", "/one.bin%", "/%0g"}) {
    SCOPED_TRACE(target);
    expectRefused(get(target), 400);
    expectRefused(getUnparsed(target), 400);
  }
}

// Defect 9: a regular file named as a directory was served.
TEST_F(StaticFilesTest, FileNamedAsADirectoryIs404) {
  for (const std::string target : {"/one.bin/", "/one.bin/.", "/one.bin//", "/dir/index.html/", "/one.bin%2f",
                                   "/link.html/", "/plain/../one.bin/", "/one.bin/?q"}) {
    SCOPED_TRACE(target);
    expectRefused(get(target), 404);
  }
  expectRefused(get("/fifo/"), 404);  // ENOTDIR for open(2) too, not 403
  EXPECT_EQ(get("/one.bin/..").status, 403);  // the root, which has no index
}

TEST_F(StaticFilesTest, SymlinkInsideRootIsServed) {
  expectServed(get("/link.html"), "text/html; charset=utf-8", "<p>page</p>");
}

TEST_F(StaticFilesTest, SymlinkLeavingRootIsRefused) {
  expectRefused(get("/escape.txt"), 403);
  expectRefused(get("/outdir/secret.txt"), 403);
}

// RESOLVE_BENEATH refuses every absolute symlink, even one that points back
// inside the root: the root's own path means nothing beneath it.
TEST_F(StaticFilesTest, AbsoluteSymlinkIsRefused) { expectRefused(get("/absolute.txt"), 403); }

TEST_F(StaticFilesTest, DirectoryServesItsIndex) {
  expectServed(get("/dir/"), "text/html; charset=utf-8", "<p>index</p>");
  EXPECT_EQ(get("/dir/.").status, 200);
  EXPECT_EQ(get("/plain/../dir/").status, 200);
}

TEST_F(StaticFilesTest, DirectoryWithoutSlashIsRedirectedToIt) {
  const FileResponse response = get("/dir");
  expectRefused(response, 301);
  EXPECT_EQ(field(response, "Location"), "/dir/");
  EXPECT_EQ(field(get("/dir?a=1"), "Location"), "/dir/?a=1");
  // Built from the normalised path, so "//x" cannot become a
  // scheme-relative "//x/" that sends the client to another host.
  EXPECT_EQ(field(get("//dir"), "Location"), "/dir/");
  EXPECT_EQ(field(get("/di%72"), "Location"), "/dir/");
}

TEST_F(StaticFilesTest, DirectoryWithoutIndexIs403) {
  expectRefused(get("/plain/"), 403);
  expectRefused(get("/"), 403);
}

TEST_F(StaticFilesTest, FifoIs403WithoutWaitingForAWriter) {
  std::future<FileResponse> response = std::async(std::launch::async, [this] { return get("/fifo"); });
  if (response.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    // A writer ends the open's wait, so the test fails instead of hanging.
    const UniqueFd writer(::open((root_ / "fifo").c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
    ADD_FAILURE() << "opening the FIFO waited for a writer";
  }
  expectRefused(response.get(), 403);
}

TEST_F(StaticFilesTest, RootThatCannotBeOpenedThrows) {
  const std::string missing = (base_ / "missing").string();
  try {
    StaticFiles files(missing);
    FAIL() << "no exception";
  } catch (const std::runtime_error& error) {
    EXPECT_EQ(std::string(error.what()), "root '" + missing + "': No such file or directory");
  }
  EXPECT_THROW(StaticFiles((root_ / "page.html").string()), std::runtime_error);
}

}  // namespace
}  // namespace epolld::http
