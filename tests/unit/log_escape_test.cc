#include "core/log/escape.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>

#include <fmt/format.h>

namespace epolld::log {
namespace {

using namespace std::string_literals;

TEST(EscapeForLog, PassesPrintableAsciiAndUtf8AsIs) {
  for (const std::string& text : {"hello, world"s, "GET /index.html HTTP/1.1"s, ""s,
                                 "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80"s,  // é ✓ 😀
                                 "\xc2\xa0"s,                                  // U+00A0, after C1
                                 "\xe2\x80\xa7"s,                              // U+2027
                                 "\xef\xbf\xbd"s,                              // U+FFFD
                                 "\xf4\x8f\xbf\xbf"s}) {                       // U+10FFFF
    EXPECT_EQ(escapeForLog(text), text);
  }
}

TEST(EscapeForLog, EscapesControlCharactersBackslashAndQuotes) {
  const struct {
    std::string in;
    std::string out;
  } cases[] = {
      {"a\nb", R"(a\nb)"},    {"a\rb", R"(a\rb)"},     {"a\tb", R"(a\tb)"},
      {"a\\b", R"(a\\b)"},    {"say \"hi\"", R"(say \"hi\")"}, {"it's", R"(it\'s)"},
      {"\0"s, R"(\x00)"},     {"\x1b[31mred", R"(\x1b[31mred)"}, {"\x7f", R"(\x7f)"},
      {"\x01\x1f", R"(\x01\x1f)"}, {"\b\f\v", R"(\x08\x0c\x0b)"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(escapeForLog(c.in), c.out) << c.out;
  }
}

TEST(EscapeForLog, EscapesEveryByteThatIsNotValidUtf8) {
  const struct {
    std::string in;
    std::string out;
  } cases[] = {
      {"\x80", R"(\x80)"},                          // stray continuation byte
      {"ok\xffok", R"(ok\xffok)"},                  // never valid
      {"\xc3", R"(\xc3)"},                          // sequence cut by the end
      {"\xc3(", R"(\xc3()"},                        // lead without continuation
      {"\xe2\x82", R"(\xe2\x82)"},                  // 3-byte sequence cut short
      {"\xc0\xaf", R"(\xc0\xaf)"},                  // overlong '/'
      {"\xc1\xbf", R"(\xc1\xbf)"},                  // overlong
      {"\xe0\x80\xaf", R"(\xe0\x80\xaf)"},          // overlong '/' in 3 bytes
      {"\xf0\x80\x80\xaf", R"(\xf0\x80\x80\xaf)"},  // overlong '/' in 4 bytes
      {"\xed\xa0\x80", R"(\xed\xa0\x80)"},          // surrogate U+D800
      {"\xed\xbf\xbf", R"(\xed\xbf\xbf)"},          // surrogate U+DFFF
      {"\xf4\x90\x80\x80", R"(\xf4\x90\x80\x80)"},  // U+110000
      {"\xf5\x80\x80\x80", R"(\xf5\x80\x80\x80)"},  // lead beyond F4
  };
  for (const auto& c : cases) {
    EXPECT_EQ(escapeForLog(c.in), c.out) << c.out;
  }
}

TEST(EscapeForLog, EscapesC1ControlsAndUnicodeLineSeparators) {
  EXPECT_EQ(escapeForLog("\xc2\x80"), R"(\xc2\x80)");
  EXPECT_EQ(escapeForLog("a\xc2\x85" "b"), R"(a\xc2\x85b)");  // NEL
  EXPECT_EQ(escapeForLog("\xc2\x9f"), R"(\xc2\x9f)");
  EXPECT_EQ(escapeForLog("a\xe2\x80\xa8" "b"), R"(a\xe2\x80\xa8b)");  // U+2028
  EXPECT_EQ(escapeForLog("a\xe2\x80\xa9" "b"), R"(a\xe2\x80\xa9b)");  // U+2029
}

TEST(EscapeForLog, ForgedLogLineStaysOnOneLine) {
  const std::string forged = " - CRITICAL - x";
  for (const std::string& separator : {"\n"s, "\r"s, "\r\n"s, "\xc2\x85"s, "\xe2\x80\xa8"s}) {
    const std::string escaped =
        escapeForLog("hello" + separator + "2026-11-22 16:03:47,123 - network-server" + forged);
    EXPECT_EQ(escaped.find_first_of("\n\r"), std::string::npos) << escaped;
    EXPECT_EQ(escaped.find(separator), std::string::npos) << escaped;
    EXPECT_TRUE(escaped.starts_with("hello\\")) << escaped;
  }
}

TEST(EscapeForLog, CutsLongDataAndCountsTheBytesLeftOut) {
  EXPECT_EQ(escapeForLog(std::string(200, 'a'), 200), std::string(200, 'a'));
  EXPECT_EQ(escapeForLog(std::string(201, 'a'), 200), std::string(200, 'a') + "...[+1 bytes]");
  EXPECT_EQ(escapeForLog(std::string(1434, 'a')), std::string(200, 'a') + "...[+1234 bytes]");
  EXPECT_EQ(escapeForLog("hello", 0), "...[+5 bytes]");
  // The limit counts input bytes, not the longer escaped output.
  std::string expected;
  for (int i = 0; i < 10; ++i) {
    expected += R"(\n)";
  }
  EXPECT_EQ(escapeForLog(std::string(15, '\n'), 10), expected + "...[+5 bytes]");
}

TEST(EscapeForLog, NeverCutsInsideAUtf8Sequence) {
  const std::string a199(199, 'a');
  EXPECT_EQ(escapeForLog(a199 + "\xc3\xa9", 200), a199 + "...[+2 bytes]");
  EXPECT_EQ(escapeForLog(std::string(198, 'a') + "\xf0\x9f\x98\x80", 200),
            std::string(198, 'a') + "...[+4 bytes]");
  // Nor inside a valid sequence that is escaped because it is a line separator.
  EXPECT_EQ(escapeForLog(a199 + "\xe2\x80\xa8", 200), a199 + "...[+3 bytes]");
  // A byte that is no sequence is escaped on its own, up to the limit.
  EXPECT_EQ(escapeForLog(a199 + "\xff\xff", 200), a199 + R"(\xff...[+1 bytes])");
  EXPECT_EQ(escapeForLog(a199 + "\xc3\xa9", 201), a199 + "\xc3\xa9");
}

// Reads the escapes back, so the tests can check that escaping loses nothing.
std::string unescape(const std::string& text) {
  std::string bytes;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      bytes += text[i];
      continue;
    }
    const char kind = text[++i];
    switch (kind) {
      case 'n': bytes += '\n'; break;
      case 'r': bytes += '\r'; break;
      case 't': bytes += '\t'; break;
      case 'x':
        bytes += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
        i += 2;
        break;
      default: bytes += kind; break;
    }
  }
  return bytes;
}

TEST(EscapeForLog, RandomBytesComeOutPrintableAndReversible) {
  std::mt19937 random(42);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> length(0, 64);
  for (int round = 0; round < 20000; ++round) {
    std::string bytes(static_cast<std::size_t>(length(random)), '\0');
    for (char& b : bytes) {
      // Bias towards the interesting range: half the bytes are non-ASCII.
      b = static_cast<char>(round % 2 ? byte(random) : byte(random) | 0x80);
    }
    const std::string escaped = escapeForLog(bytes, 1000);
    for (const char c : escaped) {
      const auto u = static_cast<unsigned char>(c);
      ASSERT_TRUE(u >= 0x20 && u != 0x7f) << escaped;
    }
    ASSERT_EQ(unescape(escaped), bytes) << escaped;
  }
}

TEST(EscapeForLog, EscapedFormatsTheSameIntoAFmtLine) {
  EXPECT_EQ(fmt::format("{} receive {}", 7, Escaped{"hi\n\xff"}), R"(7 receive hi\n\xff)");
  EXPECT_EQ(fmt::format("{}", Escaped{"hello", 2}), "he...[+3 bytes]");
  const std::string long_data(5000, 'x');
  EXPECT_EQ(fmt::format("{}", Escaped{long_data}), escapeForLog(long_data));
}

}  // namespace
}  // namespace epolld::log
