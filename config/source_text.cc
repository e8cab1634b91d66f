#include "config/source_text.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "config/loader.h"
#include "config/yaml_reader.h"

namespace epolld::config {
namespace {

constexpr std::string_view kTooLarge = "larger than 1 MiB: not a configuration (is it the right file?)";

// Closes on every path out, exceptions included.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string_view kindOf(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

[[noreturn]] void failReading(const std::string& path, std::string_view what) {
  failAt(path, YAML::Mark::null_mark(), what);
}

// The length of the UTF-8 sequence starting at text[i], or 0 when it is not valid
// UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
std::size_t utf8Length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  std::size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xbf;  // the range of the second byte
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead == 0xe0) low = 0xa0;
    if (lead == 0xed) high = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead == 0xf0) low = 0x90;
    if (lead == 0xf4) high = 0x8f;
  } else {
    return 0;
  }
  if (i + length > text.size() || byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) return 0;
  }
  return length;
}

}  // namespace

std::string readConfigFile(const std::string& path) {
  // O_NONBLOCK: opening a FIFO with no writer must not wait for one.
  const FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (fd.get() < 0) failReading(path, std::string("cannot open: ") + std::strerror(errno));
  struct stat status {};
  if (::fstat(fd.get(), &status) != 0) failReading(path, std::string("cannot read: ") + std::strerror(errno));
  // Only a regular file holds a configuration: a FIFO or a device could block or never end.
  if (S_ISDIR(status.st_mode)) failReading(path, std::string("cannot read: ") + std::strerror(EISDIR));
  if (!S_ISREG(status.st_mode)) {
    failReading(path, "cannot read: " + std::string(kindOf(status.st_mode)) + ", not a regular file");
  }
  if (static_cast<std::size_t>(status.st_size) > kMaxConfigBytes) failReading(path, kTooLarge);
  // Bounded even when st_size lies (files under /proc say 0, a file may grow meanwhile).
  std::string text;
  char chunk[16 * 1024];
  for (;;) {
    const ssize_t got = ::read(fd.get(), chunk, sizeof chunk);
    if (got == 0) return text;
    if (got < 0) {
      if (errno == EINTR) continue;
      failReading(path, std::string("cannot read: ") + std::strerror(errno));
    }
    if (text.size() + static_cast<std::size_t>(got) > kMaxConfigBytes) failReading(path, kTooLarge);
    text.append(chunk, static_cast<std::size_t>(got));
  }
}

void checkText(std::string_view text, const std::string& source) {
  if (text.size() > kMaxConfigBytes) failAt(source, YAML::Mark::null_mark(), kTooLarge);
  YAML::Mark mark;
  mark.pos = mark.line = mark.column = 0;
  for (std::size_t i = 0; i < text.size();) {
    const auto byte = static_cast<unsigned char>(text[i]);
    std::size_t length = 1;
    if (byte >= 0x80) {
      length = utf8Length(text, i);
      if (length == 0) {
        failAt(source, mark, "byte " + quote(text.substr(i, 1)) + " is not UTF-8 text: is this a configuration file?");
      }
    } else if ((byte < 0x20 && byte != '\t' && byte != '\n' && byte != '\r') || byte == 0x7f) {
      failAt(source, mark, "byte " + quote(text.substr(i, 1)) + " is not text: is this a configuration file?");
    }
    if (byte == '\n') {
      ++mark.line;
      mark.column = 0;
    } else {
      ++mark.column;
    }
    i += length;
    mark.pos = static_cast<int>(i);
  }
}

}  // namespace epolld::config
