#include "config/yaml_syntax.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <array>
#include <sstream>
#include <utility>

#include "config/yaml_reader.h"

namespace epolld::config {
namespace {

[[noreturn]] void failTooDeep(const std::string& source, const YAML::Mark& mark);

// Walks the events of the first two documents: stops at the first collection nested
// deeper than kMaxNesting (yaml-cpp reports a collection's start before it recurses
// into its items, so its stack never grows past that depth; its own guard stops only
// at 2000 levels, with the message "bad file"), and notes where a second document
// starts.
class StructureCheck final : public YAML::EventHandler {
 public:
  explicit StructureCheck(const std::string& source) : source_(source) {}

  int documents() const { return documents_; }
  // The first node of the second document, or its start when it has none.
  const YAML::Mark& secondDocument() const { return second_; }

  void OnDocumentStart(const YAML::Mark& mark) override {
    depth_ = 0;
    if (++documents_ == 2) second_ = mark;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t, const std::string&) override {
    node(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    enter(mark);
  }
  void OnSequenceEnd() override { --depth_; }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    enter(mark);
  }
  void OnMapEnd() override { --depth_; }

 private:
  void node(const YAML::Mark& mark) {
    if (documents_ == 2 && !second_has_node_) {
      second_ = mark;
      second_has_node_ = true;
    }
  }
  void enter(const YAML::Mark& mark) {
    node(mark);
    if (++depth_ > kMaxNesting) failTooDeep(source_, mark);
  }

  const std::string& source_;
  int depth_ = 0;
  int documents_ = 0;
  YAML::Mark second_;
  bool second_has_node_ = false;
};

// yaml-cpp's messages (YAML::ErrorMsg) that the parser can throw, in an operator's words.
// Those ending in ": " carry a detail from the file after them.
// Not constexpr: YAML::ErrorMsg's constants are const char* const, which clang does not fold.
const std::array<std::pair<std::string_view, std::string_view>, 42> kExplained{{
    {YAML::ErrorMsg::YAML_DIRECTIVE_ARGS, "a %YAML directive takes one argument, the version (%YAML 1.2)"},
    {YAML::ErrorMsg::YAML_VERSION, "this YAML version is not understood (write %YAML 1.2, or no directive)"},
    {YAML::ErrorMsg::YAML_MAJOR_VERSION, "YAML versions above 1.x are not understood (write %YAML 1.2, or no directive)"},
    {YAML::ErrorMsg::REPEATED_YAML_DIRECTIVE, "the %YAML directive is given twice"},
    {YAML::ErrorMsg::TAG_DIRECTIVE_ARGS, "a %TAG directive takes two arguments, a handle and a prefix"},
    {YAML::ErrorMsg::REPEATED_TAG_DIRECTIVE, "this %TAG handle is defined twice"},
    {YAML::ErrorMsg::CHAR_IN_TAG_HANDLE, "a tag handle (!name!) holds a character that is not a letter, digit or '-'"},
    {YAML::ErrorMsg::TAG_WITH_NO_SUFFIX, "a tag (!handle!name) has no name after its handle"},
    {YAML::ErrorMsg::END_OF_VERBATIM_TAG, "a verbatim tag (!<...>) has no closing '>'"},
    {YAML::ErrorMsg::END_OF_MAP, "the map above ends before this line: check its indentation (keys of one map line up)"},
    {YAML::ErrorMsg::END_OF_MAP_FLOW, "a '{' is not closed: expected ',' or '}' here"},
    {YAML::ErrorMsg::END_OF_SEQ, "the list above ends before this line: check its indentation (items of one list line up)"},
    {YAML::ErrorMsg::END_OF_SEQ_FLOW, "a '[' is not closed: expected ',' or ']' here"},
    {YAML::ErrorMsg::MULTIPLE_TAGS, "a value has two tags (!...); give it one at most"},
    {YAML::ErrorMsg::MULTIPLE_ANCHORS, "a value has two anchors (&...); give it one at most"},
    {YAML::ErrorMsg::MULTIPLE_ALIASES, "a value is two aliases (*...); give one"},
    {YAML::ErrorMsg::ALIAS_CONTENT, "an alias (*name) stands for a whole value: nothing can be added to it"},
    {YAML::ErrorMsg::INVALID_HEX, "an escape (\\x, \\u, \\U) needs hexadecimal digits"},
    {YAML::ErrorMsg::INVALID_UNICODE, "an escape names no Unicode character"},
    {YAML::ErrorMsg::INVALID_ESCAPE,
     "unknown escape in a double-quoted string: write \\\\ for a backslash, or use single quotes"},
    {YAML::ErrorMsg::UNKNOWN_TOKEN, "nothing YAML understands starts here"},
    {YAML::ErrorMsg::DOC_IN_SCALAR, "a line starting '---' or '...' ends the document inside a quoted string: indent it"},
    {YAML::ErrorMsg::EOF_IN_SCALAR, "a quoted string is not closed before the end of the file"},
    {YAML::ErrorMsg::CHAR_IN_SCALAR, "a value holds a character that needs quotes around the value"},
    {YAML::ErrorMsg::TAB_IN_INDENTATION, "tabs cannot indent YAML; use spaces"},
    {YAML::ErrorMsg::FLOW_END, "a ']' or '}' that closes nothing"},
    {YAML::ErrorMsg::BLOCK_ENTRY,
     "a list item ('- ') cannot start here: check the indentation, or put the list on the lines below its key"},
    {YAML::ErrorMsg::MAP_KEY, "a '? ' key cannot start here: check the indentation"},
    {YAML::ErrorMsg::MAP_VALUE,
     "'key: value' cannot start here: check the indentation, or quote a value that holds ': '"},
    {YAML::ErrorMsg::ALIAS_NOT_FOUND, "'*' must be followed by the name of an anchor"},
    {YAML::ErrorMsg::ANCHOR_NOT_FOUND, "'&' must be followed by an anchor name"},
    {YAML::ErrorMsg::CHAR_IN_ALIAS, "an alias name (*name) holds a character it cannot"},
    {YAML::ErrorMsg::CHAR_IN_ANCHOR, "an anchor name (&name) holds a character it cannot"},
    {YAML::ErrorMsg::ZERO_INDENT_IN_BLOCK, "a block scalar's indentation (after '|' or '>') must be 1 to 9, not 0"},
    {YAML::ErrorMsg::CHAR_IN_BLOCK, "after '|' or '>' only '-', '+', a digit 1-9 and a comment may follow"},
    {YAML::ErrorMsg::AMBIGUOUS_ANCHOR, "one alias is given to several values"},
    {YAML::ErrorMsg::UNKNOWN_ANCHOR, "this alias (*name) names no anchor (&name) defined before it"},
    {YAML::ErrorMsg::UNMATCHED_GROUP_TAG, "a tag is not closed"},
    {YAML::ErrorMsg::UNEXPECTED_END_SEQ, "a list ends where none is open"},
    {YAML::ErrorMsg::UNEXPECTED_END_MAP, "a map ends where none is open"},
    {YAML::ErrorMsg::SINGLE_QUOTED_CHAR, "a single-quoted string holds a character it cannot"},
    {YAML::ErrorMsg::BAD_FILE, "lists and maps nested too deeply: not a configuration"},
}};

// True when line `line` (0-based) of `text` is indented with a tab before its content.
bool tabIndents(std::string_view text, int line) {
  std::size_t start = 0;
  for (int i = 0; i < line; ++i) {
    start = text.find('\n', start);
    if (start == std::string_view::npos) return false;
    ++start;
  }
  const std::size_t content = text.find_first_not_of(" \t", start);
  if (content == std::string_view::npos) return false;
  return text.substr(start, content - start).find('\t') != std::string_view::npos && text[content] != '\n' &&
         text[content] != '\r' && text[content] != '#';
}

[[noreturn]] void failTooDeep(const std::string& source, const YAML::Mark& mark) {
  failAt(source, mark,
         "lists and maps nested deeper than " + std::to_string(kMaxNesting) +
             " levels: not a configuration (a '[' or '{' left open?)");
}

// yaml-cpp's scanner reads a whole run of '[' and '{' ahead before its parser sees the
// first (it cannot yet tell whether they begin a key), holding a token for each: 1 MiB
// of "[{" took 3 s and 250 MB. So flow nesting is measured in the text first. An opener
// counts where a flow collection can begin: inside a flow collection, at the start of
// a line, or after ':', '-' or '?' and a blank (in a block, "a[b" is a plain scalar);
// quoted strings and comments are skipped. Where this misreads, it counts
// fewer openers, never more: StructureCheck stays the exact check.
void checkFlowNesting(std::string_view text, const std::string& source) {
  int depth = 0;
  YAML::Mark mark;
  mark.line = mark.column = 0;
  char previous = '\n';  // the last non-blank character on this line; '\n' at its start
  bool blank = false;     // a blank since `previous`
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    // In a block, previous == '[' means a plain scalar like "a[": a counted opener
    // would have made depth positive.
    const bool after_indicator =
        previous == '\n' || (blank && (previous == ':' || previous == '-' || previous == '?')) ||
        (depth > 0 && (previous == '[' || previous == '{' || previous == ',' || previous == ':'));
    if (c == '\n') {
      ++mark.line;
      mark.column = 0;
      previous = '\n';
      blank = false;
      continue;
    }
    if ((static_cast<unsigned char>(c) & 0xc0) != 0x80) ++mark.column;  // not a UTF-8 continuation byte
    if (c == ' ' || c == '\t') {
      blank = true;
      continue;
    }
    if (c == '#' && (blank || previous == '\n')) {
      i = std::min(text.find('\n', i), text.size()) - 1;  // the newline ends the comment
      continue;
    }
    if ((c == '"' || c == '\'') && (after_indicator || blank)) {
      // Skip to the closing quote: "\"" escapes it in double quotes, '' in single.
      std::size_t end = i + 1;
      for (; end < text.size(); ++end) {
        if (c == '"' && text[end] == '\\') {
          ++end;  // the escaped character
          continue;
        }
        if (text[end] != c) continue;
        if (c == '\'' && end + 1 < text.size() && text[end + 1] == '\'') {
          ++end;  // '' is a quote inside the string
          continue;
        }
        break;
      }
      // Line and column of the text skipped (a quoted string may span lines).
      for (std::size_t k = i + 1; k <= end && k < text.size(); ++k) {
        if (text[k] == '\n') {
          ++mark.line;
          mark.column = 0;
        } else if ((static_cast<unsigned char>(text[k]) & 0xc0) != 0x80) {
          ++mark.column;
        }
      }
      i = end;
    } else if ((c == '[' || c == '{') && (depth > 0 || after_indicator)) {
      if (++depth > kMaxNesting) {
        YAML::Mark opener = mark;  // mark.column has counted the opener already
        opener.pos = static_cast<int>(i);
        --opener.column;
        failTooDeep(source, opener);
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
    previous = c;
    blank = false;
  }
}

}  // namespace

std::string explainSyntaxError(const std::string& message, std::string_view text, const YAML::Mark& mark) {
  // A tab in the indentation leads yaml-cpp to many different complaints, most of
  // them about something else ("illegal block entry"): name the tab instead.
  if (message == YAML::ErrorMsg::TAB_IN_INDENTATION || (!mark.is_null() && tabIndents(text, mark.line))) {
    return "tabs cannot indent YAML; use spaces";
  }
  for (const auto& [known, explained] : kExplained) {
    if (message == known) return std::string(explained);
    // Messages ending ": " are followed by a detail from the file (an escape, a version).
    if (known.ends_with(": ") && message.starts_with(known)) {
      return std::string(explained) + ", got " + quote(std::string_view(message).substr(known.size()));
    }
  }
  return "not valid YAML: " + quote(message);
}

YAML::Node loadDocument(std::string_view text, const std::string& source) {
  checkFlowNesting(text, source);
  const std::string copy(text);
  try {
    std::istringstream in(copy);
    YAML::Parser parser(in);
    StructureCheck structure(source);
    // Two at most: after "[a], b" yaml-cpp 0.7 finds an empty document at the ',' on
    // every call without moving past it, so YAML::LoadAll loops forever, growing.
    for (int i = 0; i < 2 && parser.HandleNextDocument(structure); ++i) {
    }
    if (structure.documents() > 1) {
      const YAML::Mark& second = structure.secondDocument();
      const bool comma = second.pos >= 0 && static_cast<std::size_t>(second.pos) < text.size() && text[second.pos] == ',';
      failAt(source, second,
             comma ? "a ',' after a complete value: write several values as a list, [a, b]"
                   : "expected one YAML document, found a second");
    }
    return YAML::Load(copy);  // the first document (a null node when there is none)
  } catch (const YAML::Exception& e) {
    failAt(source, e.mark, explainSyntaxError(e.msg, text, e.mark));
  }
}

}  // namespace epolld::config
