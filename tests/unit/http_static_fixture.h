// A static root for the StaticFiles tests: a tree of files, symlinks and a
// FIFO under a fresh temporary directory, and requests run through the real
// RequestParser before StaticFiles answers them.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "protocols/http/request_parser.h"
#include "protocols/http/static_files.h"

namespace epolld::http::testing {

namespace fs = std::filesystem;

// Every file's mtime, so that dates in the tests are known: the RFC's own
// example date, Sun, 06 Nov 1994 08:49:37 GMT.
inline constexpr time_t kMtime = 784111777;
inline constexpr std::string_view kMtimeText = "Sun, 06 Nov 1994 08:49:37 GMT";
inline constexpr std::size_t kBigSize = 64 * 1024;

inline std::string bigContent() {
  std::string bytes(kBigSize, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    bytes[i] = static_cast<char>(i * 7 + i / 251);
  }
  return bytes;
}

// The bytes a FileBody sends, sent as the engine sends them: with sendfile
// from its offset, here into a memory file.
inline std::string readBody(const FileBody& body) {
  const UniqueFd sink(::memfd_create("body", MFD_CLOEXEC));
  off_t offset = body.offset;
  std::uint64_t left = body.remaining;
  while (left > 0) {
    const ssize_t sent = ::sendfile(sink.get(), body.file.get(), &offset, left);
    if (sent <= 0) {
      ADD_FAILURE() << "sendfile: " << (sent < 0 ? std::strerror(errno) : "end of file");
      break;
    }
    left -= static_cast<std::uint64_t>(sent);
  }
  std::string bytes(body.remaining - left, '\0');
  EXPECT_EQ(::pread(sink.get(), bytes.data(), bytes.size(), 0), static_cast<ssize_t>(bytes.size()));
  return bytes;
}

inline std::size_t openFdCount() {
  std::size_t count = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator("/proc/self/fd")) {
    ++count;
  }
  return count;
}

// A tree under a fresh temporary directory:
//
//   outside/secret.txt         next to the root, never to be served
//   root/empty.txt, one.bin, big.bin, page.html, "a b.txt"
//   root/dir/index.html        root/plain/file.txt (no index)
//   root/link.html -> page.html              (symlink inside the root)
//   root/escape.txt -> ../outside/secret.txt (symlink leaving it)
//   root/absolute.txt -> <root>/page.html    (absolute symlink)
//   root/outdir -> ../outside                (directory symlink leaving it)
//   root/fifo                                (a FIFO, no writer)
class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "epolld-static-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    base_ = pattern;
    root_ = base_ / "root";
    fs::create_directories(root_ / "dir");
    fs::create_directories(root_ / "plain");
    fs::create_directories(base_ / "outside");
    write(base_ / "outside/secret.txt", "secret");
    write(root_ / "empty.txt", "");
    write(root_ / "one.bin", "x");
    write(root_ / "big.bin", bigContent());
    write(root_ / "page.html", "<p>page</p>");
    write(root_ / "a b.txt", "spaced");
    write(root_ / "dir/index.html", "<p>index</p>");
    write(root_ / "plain/file.txt", "plain");
    fs::create_symlink("page.html", root_ / "link.html");
    fs::create_symlink("../outside/secret.txt", root_ / "escape.txt");
    fs::create_symlink(root_ / "page.html", root_ / "absolute.txt");
    fs::create_symlink("../outside", root_ / "outdir");
    ASSERT_EQ(::mkfifo((root_ / "fifo").c_str(), 0644), 0);
    files_.emplace(root_.string());
  }

  void TearDown() override { fs::remove_all(base_); }

  static void write(const fs::path& path, std::string_view content) {
    std::ofstream(path, std::ios::binary) << content;
    const timespec times[2] = {{kMtime, 0}, {kMtime, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  }

  // Parses the request text with the real parser, then asks StaticFiles. A
  // request the parser refuses gets the parser's status, as from the session.
  FileResponse respond(const std::string& request_line, const std::vector<std::string>& fields = {}) const {
    std::string text = request_line + "\r\nHost: a\r\n";
    for (const std::string& field : fields) {
      text += field + "\r\n";
    }
    text += "\r\n";
    RequestParser parser(ParserLimits::from(HttpOptions{}));
    const RequestParser::Result result = parser.feed(text);
    if (result.event == RequestParser::Event::kError) {
      FileResponse refused;
      refused.status = parser.error().status;
      return refused;
    }
    EXPECT_EQ(result.event, RequestParser::Event::kHead) << text;
    const bool head = parser.request().method == "HEAD";
    return files_->respond(parser.request(), head);
  }

  // A GET of the origin-form `target` that no parser has checked: what
  // StaticFiles does on its own with a path the parser would refuse.
  FileResponse getUnparsed(std::string_view target) const {
    Request request;
    request.method = "GET";
    request.target = request.path = target;
    request.form = TargetForm::kOrigin;
    return files_->respond(request, false);
  }

  FileResponse get(const std::string& target, const std::vector<std::string>& fields = {}) const {
    return respond("GET " + target + " HTTP/1.1", fields);
  }

  // The response must be a 200 that sends exactly `content` as `content_type`.
  static void expectServed(const FileResponse& response, std::string_view content_type, const std::string& content) {
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.content_type, content_type);
    EXPECT_EQ(response.content_length, content.size());
    ASSERT_TRUE(response.body.has_value());
    EXPECT_EQ(response.body->offset, 0);
    EXPECT_EQ(readBody(*response.body), content);
  }

  // The response must be `status` with nothing to send.
  static void expectRefused(const FileResponse& response, int status) {
    EXPECT_EQ(response.status, status);
    EXPECT_FALSE(response.body.has_value());
    EXPECT_EQ(response.content_length, 0U);
  }

  // The value of the field line `name` in `fields`, or "" when absent.
  static std::string field(const FileResponse& response, std::string_view name) {
    const std::string prefix = std::string(name) + ": ";
    const std::size_t begin = response.fields.find(prefix);
    if (begin == std::string::npos) {
      return "";
    }
    const std::size_t value = begin + prefix.size();
    return response.fields.substr(value, response.fields.find("\r\n", value) - value);
  }

  fs::path base_;
  fs::path root_;
  std::optional<StaticFiles> files_;
};

}  // namespace epolld::http::testing
