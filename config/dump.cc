#include "config/dump.h"

#include <yaml-cpp/yaml.h>

#include <array>
#include <cstdint>
#include <string_view>

#include "config/loader.h"
#include "config/units.h"

namespace epolld::config {
namespace {

constexpr std::size_t kIndent = 2;

// A code point and the bytes it took, or {0, 0} where the bytes are not UTF-8.
struct CodePoint {
  char32_t value = 0;
  std::size_t length = 0;
};

CodePoint decodeUtf8(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[i + k]); };
  const unsigned char lead = byte(0);
  std::size_t length = 0;
  char32_t value = 0;
  if (lead < 0x80) return {lead, 1};
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
    value = lead & 0x1f;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    value = lead & 0x0f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    value = lead & 0x07;
  } else {
    return {};
  }
  if (i + length > text.size()) return {};
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(k) & 0xc0) != 0x80) return {};
    value = (value << 6) | (byte(k) & 0x3f);
  }
  // Overlong forms, surrogates and values above U+10FFFF are not UTF-8 (RFC 3629).
  constexpr std::array<char32_t, 5> kSmallest{0, 0, 0x80, 0x800, 0x10000};
  if (value < kSmallest[length] || (value >= 0xd800 && value <= 0xdfff) || value > 0x10ffff) return {};
  return {value, length};
}

bool isNullWord(std::string_view text) {
  return text == "~" || text == "null" || text == "Null" || text == "NULL";
}

// Whether `text` may be written plain and read back as the same bytes. Deliberately a
// short list of safe characters rather than YAML's whole plain-scalar grammar: names,
// numbers, "60s", "1MiB", "0.0.0.0", "text/plain", "fe80::1" and paths stay plain;
// anything with a space, a quote, an indicator or a byte above 0x7f is quoted.
bool plainReadsBack(std::string_view text) {
  if (text.empty() || isNullWord(text)) return false;
  const auto safe = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '/' || c == '-' || c == '+' || c == '@' || c == ':';
  };
  for (const char c : text) {
    if (!safe(c)) return false;
  }
  // A leading '-', ':' or '@' is an indicator; a trailing ':' would make the value a key.
  const char first = text.front();
  return first != '-' && first != ':' && first != '@' && text.back() != ':';
}

void appendHexEscape(std::string& out, char32_t value, char kind, int digits) {
  static constexpr std::string_view kHex = "0123456789abcdef";
  out += '\\';
  out += kind;
  for (int shift = 4 * (digits - 1); shift >= 0; shift -= 4) out += kHex[(value >> shift) & 0xf];
}

// A double-quoted scalar. Every character YAML could read differently, and every one that
// --check-config refuses to find raw in a file (controls, DEL), is escaped; other UTF-8
// is kept as it is, so that "héllo" stays readable. A byte that is not UTF-8 cannot come
// from a configuration file (the loader refuses such files); it is written \xNN, which
// reads back as the code point U+00NN.
void appendQuoted(std::string& out, std::string_view text) {
  out += '"';
  for (std::size_t i = 0; i < text.size();) {
    const CodePoint c = decodeUtf8(text, i);
    if (c.length == 0) {
      appendHexEscape(out, static_cast<unsigned char>(text[i]), 'x', 2);
      ++i;
      continue;
    }
    switch (c.value) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        // C0 and C1 controls and DEL; U+2028/U+2029, which some readers take as line
        // breaks; and the byte order mark, which a reader may drop.
        if (c.value < 0x20 || (c.value >= 0x7f && c.value <= 0x9f)) {
          appendHexEscape(out, c.value, 'x', 2);
        } else if (c.value == 0x2028 || c.value == 0x2029 || c.value == 0xfeff) {
          appendHexEscape(out, c.value, 'u', 4);
        } else {
          out.append(text.substr(i, c.length));
        }
    }
    i += c.length;
  }
  out += '"';
}

void appendScalar(std::string& out, std::string_view text) {
  if (plainReadsBack(text)) {
    out.append(text);
  } else {
    appendQuoted(out, text);
  }
}

void appendBlock(std::string& out, const YAML::Node& node, std::size_t indent);

// What follows "key:" or "-": a scalar or an empty collection on the same line, a
// non-empty collection on the lines below, `indent` deeper.
void appendValue(std::string& out, const YAML::Node& value, std::size_t indent) {
  if (value.IsScalar()) {
    out += ' ';
    appendScalar(out, value.Scalar());
    out += '\n';
  } else if (value.IsMap() || value.IsSequence()) {
    if (value.size() == 0) {
      out += value.IsMap() ? " {}\n" : " []\n";
      return;
    }
    out += '\n';
    appendBlock(out, value, indent);
  } else {
    out += " ~\n";
  }
}

// A non-empty block map or sequence, each entry on its own line at `indent`. A map inside
// a sequence starts on the dash's line ("- address: ..."), its other keys aligned under
// the first, as config/epolld.yaml writes listeners.
void appendBlock(std::string& out, const YAML::Node& node, std::size_t indent) {
  const std::string pad(indent, ' ');
  if (node.IsMap()) {
    for (const auto& entry : node) {
      out += pad;
      appendScalar(out, entry.first.Scalar());
      out += ':';
      appendValue(out, entry.second, indent + kIndent);
    }
    return;
  }
  for (const auto& item : node) {
    if ((item.IsMap() || item.IsSequence()) && item.size() > 0) {
      std::string nested;
      appendBlock(nested, item, indent + kIndent);
      nested.replace(0, indent + kIndent, pad + "- ");
      out += nested;
    } else {
      out += pad + "-";
      appendValue(out, item, indent + kIndent);
    }
  }
}

// Scalars as the tree holds them: text, whatever their type in Config.
YAML::Node text(std::string_view value) { return YAML::Node(std::string(value)); }
YAML::Node number(std::uint64_t value) { return text(std::to_string(value)); }

YAML::Node logYaml(const LogOptions& log) {
  YAML::Node node;
  node["name"] = text(log.name);
  node["file"] = text(log.file);
  node["file_level"] = text(toString(log.file_level));
  node["console_level"] = text(toString(log.console_level));
  return node;
}

YAML::Node listenerYaml(const Listener& listener) {
  YAML::Node node;
  node["address"] = text(listener.address);
  node["port"] = number(listener.port);
  node["protocol"] = text(listener.protocol);
  // A protocol with settings always has options (its defaults when the file gave none);
  // a null section would not read back, and leaving it out means the defaults.
  if (listener.options) {
    const YAML::Node section = listener.options->toYaml();
    if (!section.IsNull()) node[listener.protocol] = section;
  }
  return node;
}

}  // namespace

std::string dumpConfig(const Config& config) {
  YAML::Node root;
  root["workers"] = number(config.workers);
  root["acceptors"] = number(config.acceptors);
  root["trigger"] = text(toString(config.trigger));
  root["max_connections"] = number(config.max_connections);
  root["idle_timeout"] = text(formatDuration(config.idle_timeout));
  root["shutdown_timeout"] = text(formatDuration(config.shutdown_timeout));
  root["output_buffer_limit"] = text(formatSize(config.output_buffer_limit));
  root["log"] = logYaml(config.log);
  YAML::Node listeners(YAML::NodeType::Sequence);
  for (const Listener& listener : config.listeners) listeners.push_back(listenerYaml(listener));
  root["listeners"] = listeners;

  std::string out;
  appendBlock(out, root, 0);
  return out;
}

}  // namespace epolld::config
