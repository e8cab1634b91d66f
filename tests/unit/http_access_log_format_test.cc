#include "protocols/http/access_log_format.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <random>
#include <string>

namespace epolld::http {
namespace {

using std::chrono::minutes;
using std::chrono::sys_days;

// 2026-12-06 17:34:15.123456 UTC
std::chrono::system_clock::time_point exampleTime() {
  using namespace std::chrono;
  return sys_days(year(2026) / December / 6) + hours(17) + minutes(34) + seconds(15) + microseconds(123'456);
}

AccessLogEntry exampleEntry() {
  AccessLogEntry entry;
  entry.remote_addr = "127.0.0.1";
  entry.remote_port = 53422;
  entry.time = exampleTime();
  entry.method = "GET";
  entry.target = "/index.html?q=1";
  entry.protocol = "HTTP/1.1";
  entry.status = 200;
  entry.body_bytes_sent = 13;
  entry.user_agent = "curl/8.1";
  entry.duration_us = 42;
  return entry;
}

std::string combined(const AccessLogEntry& entry) {
  std::string line;
  appendCombinedLine(line, entry);
  return line;
}

std::string json(const AccessLogEntry& entry) {
  std::string line;
  appendJsonLine(line, entry);
  return line;
}

// --- combined ---

TEST(HttpAccessLogCombined, WritesNginxCombinedThenTheRequestTime) {
  EXPECT_EQ(combined(exampleEntry()),
            "127.0.0.1 - - [06/Dec/2026:17:34:15 +0000] \"GET /index.html?q=1 HTTP/1.1\" 200 13 \"-\" \"curl/8.1\" "
            "0.000042\n");
}

TEST(HttpAccessLogCombined, AbsentHeadersPrintADashAndEmptyOnesPrintNothing) {
  AccessLogEntry entry = exampleEntry();
  entry.user_agent.reset();
  entry.referer = "";
  EXPECT_EQ(combined(entry),
            "127.0.0.1 - - [06/Dec/2026:17:34:15 +0000] \"GET /index.html?q=1 HTTP/1.1\" 200 13 \"\" \"-\" 0.000042\n");
  entry.referer = "http://example.com/";
  EXPECT_NE(combined(entry).find(" 13 \"http://example.com/\" \"-\" "), std::string::npos);
}

TEST(HttpAccessLogCombined, TimeLocalUsesTheOffsetGiven) {
  AccessLogEntry entry = exampleEntry();
  entry.utc_offset = minutes(5 * 60 + 30);
  EXPECT_NE(combined(entry).find("[06/Dec/2026:23:04:15 +0530]"), std::string::npos) << combined(entry);
  entry.utc_offset = minutes(9 * 60);  // past midnight: the next day
  EXPECT_NE(combined(entry).find("[07/Dec/2026:02:34:15 +0900]"), std::string::npos) << combined(entry);
  entry.utc_offset = -minutes(18 * 60 + 30);  // before midnight: the day before
  EXPECT_NE(combined(entry).find("[05/Dec/2026:23:04:15 -1830]"), std::string::npos) << combined(entry);
}

TEST(HttpAccessLogCombined, RequestTimeIsSecondsWithMicroseconds) {
  AccessLogEntry entry = exampleEntry();
  for (const auto& [us, text] : {std::pair<std::uint64_t, std::string>{0, " 0.000000\n"},
                                 {999'999, " 0.999999\n"},
                                 {1'000'000, " 1.000000\n"},
                                 {61'234'567, " 61.234567\n"}}) {
    entry.duration_us = us;
    EXPECT_TRUE(combined(entry).ends_with(text)) << combined(entry);
  }
}

TEST(HttpAccessLogCombined, EscapesQuotesBackslashesAndControlBytesInTargetAndUserAgent) {
  AccessLogEntry entry = exampleEntry();
  entry.target = "/a\"b\\c\x01\x1f\x7f";
  entry.user_agent = "x\" \"forged\nline\r\t";
  entry.referer = "r\"";
  EXPECT_EQ(combined(entry),
            "127.0.0.1 - - [06/Dec/2026:17:34:15 +0000] \"GET /a\\\"b\\\\c\\x01\\x1F\\x7F HTTP/1.1\" 200 13 "
            "\"r\\\"\" \"x\\\" \\\"forged\\x0Aline\\x0D\\x09\" 0.000042\n");
}

TEST(HttpAccessLogCombined, EscapesBytesFrom0x7FUpAsNginxDoes) {
  AccessLogEntry entry = exampleEntry();
  entry.target = "/caf\xc3\xa9\xff";
  EXPECT_NE(combined(entry).find("\"GET /caf\\xC3\\xA9\\xFF HTTP/1.1\""), std::string::npos) << combined(entry);
}

TEST(HttpAccessLogCombined, UnparsedRequestLinePrintsTheRawBytesEscapedOrADash) {
  AccessLogEntry entry = exampleEntry();
  entry.method = entry.target = entry.protocol = "";
  entry.status = 400;
  entry.raw_request_line = "\x16\x03\x01 garbage\"";
  EXPECT_NE(combined(entry).find("] \"\\x16\\x03\\x01 garbage\\\"\" 400 "), std::string::npos) << combined(entry);
  entry.raw_request_line = "";
  EXPECT_NE(combined(entry).find("] \"-\" 400 "), std::string::npos) << combined(entry);
}

TEST(HttpAccessLogCombined, RequestLineWithoutAVersionHasNoTrailingSpace) {
  AccessLogEntry entry = exampleEntry();
  entry.protocol = "";
  EXPECT_NE(combined(entry).find("\"GET /index.html?q=1\" 200"), std::string::npos) << combined(entry);
}

// The connection learns the duration only once the response is sent: the
// line is written in two parts then, and must read as if written at once.
TEST(HttpAccessLogCombined, HeadThenTailIsTheWholeLineInEitherFormat) {
  for (const AccessLogFormat format : {AccessLogFormat::kCombined, AccessLogFormat::kJson}) {
    AccessLogEntry entry = exampleEntry();
    std::string whole;
    appendAccessLogLine(whole, format, entry);
    std::string parts;
    entry.duration_us = 999'999'999;  // the head must not read it
    appendLineHead(parts, format, entry);
    appendLineTail(parts, format, exampleEntry().duration_us);
    EXPECT_EQ(parts, whole);
  }
}

TEST(HttpAccessLogCombined, AppendsToWhatTheStringHolds) {
  std::string lines = "first\n";
  appendAccessLogLine(lines, AccessLogFormat::kCombined, exampleEntry());
  EXPECT_EQ(lines, "first\n" + combined(exampleEntry()));
}

// Reads a quoted combined field back: the escapes are unambiguous.
std::string unescapeCombined(std::string_view text) {
  std::string bytes;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      bytes += text[i];
    } else if (text[i + 1] == 'x') {
      bytes += static_cast<char>(std::stoi(std::string(text.substr(i + 2, 2)), nullptr, 16));
      i += 3;
    } else {
      bytes += text[++i];
    }
  }
  return bytes;
}

TEST(HttpAccessLogCombined, AnyBytesGiveOnePrintableAsciiLineThatReadsBack) {
  const std::uint64_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed) + " (replace random_device{}() with it to replay)");
  std::mt19937_64 random(seed);
  for (int round = 0; round < 2'000; ++round) {
    std::string agent(random() % 40, '\0');
    for (char& c : agent) {
      c = static_cast<char>(random());
    }
    AccessLogEntry entry = exampleEntry();
    entry.user_agent = agent;
    const std::string line = combined(entry);
    ASSERT_TRUE(line.ends_with(" 0.000042\n"));
    for (std::size_t i = 0; i + 1 < line.size(); ++i) {
      ASSERT_TRUE(line[i] >= 0x20 && line[i] < 0x7f) << "byte " << i << " of " << line;
    }
    const std::size_t start = line.find("\"-\" \"") + 5;
    const std::size_t stop = line.size() - std::string_view("\" 0.000042\n").size();
    ASSERT_EQ(unescapeCombined(std::string_view(line).substr(start, stop - start)), agent) << line;
  }
}

// --- JSON ---

TEST(HttpAccessLogJson, WritesEveryKeyInOrderWithNumbersAsNumbers) {
  EXPECT_EQ(json(exampleEntry()),
            "{\"time\":\"2026-12-06T17:34:15.123+00:00\",\"remote_addr\":\"127.0.0.1\",\"remote_port\":53422,"
            "\"method\":\"GET\",\"target\":\"/index.html?q=1\",\"protocol\":\"HTTP/1.1\",\"status\":200,"
            "\"bytes_sent\":13,\"user_agent\":\"curl/8.1\",\"duration_us\":42}\n");
}

TEST(HttpAccessLogJson, AbsentUserAgentIsNull) {
  AccessLogEntry entry = exampleEntry();
  entry.user_agent.reset();
  EXPECT_NE(json(entry).find(",\"user_agent\":null,"), std::string::npos) << json(entry);
  entry.user_agent = "";
  EXPECT_NE(json(entry).find(",\"user_agent\":\"\","), std::string::npos) << json(entry);
}

TEST(HttpAccessLogJson, TimeHasMillisecondsAndTheOffsetWithAColon) {
  AccessLogEntry entry = exampleEntry();
  entry.utc_offset = -minutes(3 * 60 + 30);
  EXPECT_TRUE(json(entry).starts_with("{\"time\":\"2026-12-06T14:04:15.123-03:30\",")) << json(entry);
  entry.utc_offset = minutes(14 * 60);
  EXPECT_TRUE(json(entry).starts_with("{\"time\":\"2026-12-07T07:34:15.123+14:00\",")) << json(entry);
  entry.time = std::chrono::sys_days(std::chrono::year(2027) / 1 / 1) - std::chrono::milliseconds(1);
  entry.utc_offset = minutes(0);
  EXPECT_TRUE(json(entry).starts_with("{\"time\":\"2026-12-31T23:59:59.999+00:00\",")) << json(entry);
}

TEST(HttpAccessLogJson, UnparsedRequestLineGivesNullMethodTargetAndProtocol) {
  AccessLogEntry entry = exampleEntry();
  entry.method = entry.target = entry.protocol = "";
  entry.raw_request_line = "garbage";
  entry.status = 400;
  EXPECT_NE(json(entry).find(",\"method\":null,\"target\":null,\"protocol\":null,\"status\":400,"), std::string::npos)
      << json(entry);
}

TEST(HttpAccessLogJson, EscapesQuotesBackslashesAndControls) {
  AccessLogEntry entry = exampleEntry();
  entry.target = "/\"\\\b\f\n\r\t\x01\x1f\x7f";
  EXPECT_NE(json(entry).find(",\"target\":\"/\\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u001f\\u007f\","), std::string::npos)
      << json(entry);
}

TEST(HttpAccessLogJson, KeepsValidUtf8AndEscapesWhatIsNot) {
  AccessLogEntry entry = exampleEntry();
  // é, €, 😀 kept; C1 control U+0085 and U+2028 escaped as characters; a lone
  // 0xFF, a cut-off sequence, an overlong '/' and a surrogate escaped by byte.
  entry.user_agent = "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80|\xc2\x85|\xe2\x80\xa8|\xff|\xe2\x82|\xc0\xaf|\xed\xa0\x80";
  EXPECT_NE(json(entry).find(",\"user_agent\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80|\\u0085|\\u2028|\\u00ff|"
                             "\\u00e2\\u0082|\\u00c0\\u00af|\\u00ed\\u00a0\\u0080\","),
            std::string::npos)
      << json(entry);
}

// A strict reader for the lines appendJsonLine() writes: one flat object of
// strings, non-negative integers and null, then '\n', with strings decoded to
// UTF-8. It is the test's own, so it shares no bug with the writer.
class JsonLineReader {
 public:
  explicit JsonLineReader(std::string_view line) : text_(line) {}

  bool read(std::vector<std::pair<std::string, std::optional<std::string>>>& fields) {
    if (!take('{')) {
      return false;
    }
    do {
      std::string key;
      if (!readString(key) || !take(':')) {
        return false;
      }
      std::optional<std::string> value;
      if (peek() == '"') {
        value.emplace();
        if (!readString(*value)) {
          return false;
        }
      } else if (text_.starts_with("null")) {
        text_.remove_prefix(4);
      } else if (!readNumber()) {
        return false;
      }
      fields.emplace_back(std::move(key), std::move(value));
    } while (take(','));
    return take('}') && take('\n') && text_.empty();
  }

 private:
  char peek() const { return text_.empty() ? '\0' : text_.front(); }
  bool take(char c) {
    if (peek() != c) {
      return false;
    }
    text_.remove_prefix(1);
    return true;
  }
  bool readNumber() {
    std::size_t digits = 0;
    while (digits < text_.size() && text_[digits] >= '0' && text_[digits] <= '9') {
      ++digits;
    }
    if (digits == 0 || (digits > 1 && text_[0] == '0')) {
      return false;
    }
    text_.remove_prefix(digits);
    return true;
  }
  static void appendUtf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xc0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      out += static_cast<char>(0xe0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }
  bool readString(std::string& out) {
    if (!take('"')) {
      return false;
    }
    while (!text_.empty()) {
      const auto c = static_cast<unsigned char>(text_.front());
      text_.remove_prefix(1);
      if (c == '"') {
        return true;
      }
      if (c < 0x20) {
        return false;  // raw control characters are not JSON
      }
      if (c >= 0x80) {
        // Raw non-ASCII must be valid UTF-8 (RFC 3629).
        std::size_t length = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
        if (length == 0 || c > 0xf4 || text_.size() < length - 1) {
          return false;
        }
        unsigned cp = c & (0x7f >> length);
        for (std::size_t i = 0; i + 1 < length; ++i) {
          const auto next = static_cast<unsigned char>(text_[i]);
          if ((next & 0xc0) != 0x80) {
            return false;
          }
          cp = cp << 6 | (next & 0x3f);
        }
        const unsigned minimum[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < minimum[length] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
          return false;
        }
        out += static_cast<char>(c);
        out.append(text_.substr(0, length - 1));
        text_.remove_prefix(length - 1);
        continue;
      }
      if (c != '\\') {
        out += static_cast<char>(c);
        continue;
      }
      if (text_.empty()) {
        return false;
      }
      const char escape = text_.front();
      text_.remove_prefix(1);
      switch (escape) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          if (text_.size() < 4) {
            return false;
          }
          unsigned cp = 0;
          for (int i = 0; i < 4; ++i) {
            const char h = text_[static_cast<std::size_t>(i)];
            const int digit = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10
                              : h >= 'A' && h <= 'F'   ? h - 'A' + 10
                                                       : -1;
            if (digit < 0) {
              return false;
            }
            cp = cp << 4 | static_cast<unsigned>(digit);
          }
          text_.remove_prefix(4);
          if (cp >= 0xd800 && cp <= 0xdfff) {
            return false;  // the writer never needs surrogate pairs
          }
          appendUtf8(out, cp);
          break;
        }
        default: return false;
      }
    }
    return false;
  }

  std::string_view text_;
};

TEST(HttpAccessLogJson, TheTestsReaderRejectsWhatIsNotJson) {
  std::vector<std::pair<std::string, std::optional<std::string>>> fields;
  for (const std::string_view bad : {"{\"a\":\"\xff\"}\n", "{\"a\":\"x\ny\"}\n", "{\"a\":\"\\x41\"}\n",
                                     "{\"a\":\"\xed\xa0\x80\"}\n", "{\"a\":\"\xc0\xaf\"}\n", "{\"a\":01}\n",
                                     "{\"a\":1}", "{\"a\":\"b}\n"}) {
    EXPECT_FALSE(JsonLineReader(bad).read(fields)) << bad;
  }
  EXPECT_TRUE(JsonLineReader("{\"a\":\"\\u00e9\xc3\xa9\",\"b\":null,\"c\":0}\n").read(fields));
}

TEST(HttpAccessLogJson, ExampleLineReadsBackAsJson) {
  std::vector<std::pair<std::string, std::optional<std::string>>> fields;
  ASSERT_TRUE(JsonLineReader(json(exampleEntry())).read(fields)) << json(exampleEntry());
  std::vector<std::string> keys;
  for (const auto& field : fields) {
    keys.push_back(field.first);
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"time", "remote_addr", "remote_port", "method", "target", "protocol",
                                             "status", "bytes_sent", "user_agent", "duration_us"}));
  EXPECT_EQ(fields[4].second, "/index.html?q=1");
  EXPECT_EQ(fields[8].second, "curl/8.1");
}

TEST(HttpAccessLogJson, AnyBytesGiveValidJsonAndValidUtf8ReadsBackExactly) {
  const std::uint64_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed) + " (replace random_device{}() with it to replay)");
  std::mt19937_64 random(seed);
  // Pieces that make valid UTF-8 likely, mixed with raw random bytes.
  const std::string_view pieces[] = {"a", "\"", "\\", "\n", "\x01", "\x7f", "\xc3\xa9", "\xe2\x82\xac",
                                     "\xf0\x9f\x98\x80", "\xc2\x85", "\xe2\x80\xa9", "/"};
  for (int round = 0; round < 2'000; ++round) {
    const bool raw = random() % 2 == 0;
    std::string target;
    for (std::size_t n = random() % 30; n > 0; --n) {
      if (raw) {
        target += static_cast<char>(random());
      } else {
        target += pieces[random() % std::size(pieces)];
      }
    }
    AccessLogEntry entry = exampleEntry();
    entry.target = target;
    const std::string line = json(entry);
    std::vector<std::pair<std::string, std::optional<std::string>>> fields;
    ASSERT_TRUE(JsonLineReader(line).read(fields)) << line;
    ASSERT_EQ(fields.size(), 10u);
    if (!raw) {
      ASSERT_EQ(fields[4].second, target) << line;
    }
  }
}

// --- the time zone ---

// Sets TZ for one test and puts it back.
class ScopedTimeZone {
 public:
  explicit ScopedTimeZone(const char* zone) {
    if (const char* old = std::getenv("TZ")) {
      old_ = old;
    }
    setenv("TZ", zone, 1);
    tzset();
  }
  ~ScopedTimeZone() {
    if (old_) {
      setenv("TZ", old_->c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }

 private:
  std::optional<std::string> old_;
};

TEST(HttpAccessLogTime, LocalUtcOffsetFollowsTheTimeZone) {
  {
    const ScopedTimeZone india("IST-5:30");  // POSIX: 5:30 east of UTC, no tzdata needed
    EXPECT_EQ(localUtcOffset(exampleTime()), minutes(330));
  }
  {
    const ScopedTimeZone newfoundland("NST+3:30");
    EXPECT_EQ(localUtcOffset(exampleTime()), -minutes(210));
  }
  {
    const ScopedTimeZone utc("UTC0");
    EXPECT_EQ(localUtcOffset(exampleTime()), minutes(0));
  }
}

}  // namespace
}  // namespace epolld::http
