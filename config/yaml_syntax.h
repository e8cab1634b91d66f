// yaml-cpp's parser behind two guarantees: nesting is bounded before the parser can
// recurse deeply, and every syntax error it reports becomes a sentence an operator can
// act on, at yaml-cpp's position, with any bytes from the file escaped.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>

namespace epolld::config {

// A configuration needs four levels (top, listeners, a listener, http); this leaves room
// and keeps yaml-cpp's recursion shallow.
inline constexpr int kMaxNesting = 32;

// The one document in `text` (a null node when it has none), or ConfigError
// "SOURCE:LINE:COLUMN: what" for a syntax error, deep nesting or a second document.
YAML::Node loadDocument(std::string_view text, const std::string& source);

// The operator's words for a yaml-cpp parser message (YAML::ErrorMsg); `text` is the
// whole file and `mark` where yaml-cpp stopped, to recognise tabs used as indentation.
std::string explainSyntaxError(const std::string& message, std::string_view text, const YAML::Mark& mark);

}  // namespace epolld::config
