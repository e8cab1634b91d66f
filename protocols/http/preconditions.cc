#include "protocols/http/preconditions.h"

#include <optional>

#include "protocols/http/http_date.h"
#include "protocols/http/syntax.h"

namespace epolld::http {
namespace {

// §8.8.3.2: strong comparison needs both tags strong; weak comparison only
// compares the opaque-tags.
enum class Comparison { kStrong, kWeak };

struct EntityTag {
  bool weak = false;
  std::string_view opaque;  // DQUOTE *etagc DQUOTE
};

bool isEntityTagChar(char c) {
  const auto octet = static_cast<unsigned char>(c);
  return octet == 0x21 || (octet >= 0x23 && octet != 0x7f);  // etagc: %x21 / %x23-7E / obs-text
}

// §8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE, taken from the front of `text`.
std::optional<EntityTag> takeEntityTag(std::string_view& text) {
  EntityTag tag;
  std::string_view rest = text;
  if (rest.starts_with("W/")) {
    tag.weak = true;
    rest.remove_prefix(2);
  }
  if (rest.empty() || rest.front() != '"') {
    return std::nullopt;
  }
  std::size_t end = 1;
  while (end < rest.size() && isEntityTagChar(rest[end])) {
    ++end;
  }
  if (end == rest.size() || rest[end] != '"') {
    return std::nullopt;
  }
  tag.opaque = rest.substr(0, end + 1);
  text = rest.substr(end + 1);
  return tag;
}

bool matches(const EntityTag& tag, std::string_view strong_etag, Comparison comparison) {
  return tag.opaque == strong_etag && (comparison == Comparison::kWeak || !tag.weak);
}

// If-Match and If-None-Match: "*" or #entity-tag (§13.1.1, §13.1.2). Their
// field lines form one list (§5.3), so each line is looked at. A list that
// does not parse matches nothing from where it stops parsing. etagc allows a
// ",", so the list is read tag by tag rather than split at commas.
bool listMatches(std::string_view list, std::string_view etag, Comparison comparison) {
  if (trimWhitespace(list) == "*") {
    return true;  // some representation exists: this file
  }
  for (;;) {
    while (!list.empty() && (list.front() == ',' || list.front() == ' ' || list.front() == '\t')) {
      list.remove_prefix(1);
    }
    const std::optional<EntityTag> tag = takeEntityTag(list);
    if (!tag) {
      return false;
    }
    if (matches(*tag, etag, comparison)) {
      return true;
    }
  }
}

// Whether the request has the field at all, and whether any of its lines matches.
struct FieldMatch {
  bool present = false;
  bool matched = false;
};

FieldMatch matchField(const Request& request, std::string_view name, std::string_view etag, Comparison comparison) {
  FieldMatch result;
  for (const Header& header : request.headers) {
    if (equalsIgnoreCase(header.name, name)) {
      result.present = true;
      result.matched = result.matched || listMatches(header.value, etag, comparison);
    }
  }
  return result;
}

// A date field's value; nothing when absent or not an HTTP-date, which
// §13.1.3 and §13.1.4 say to ignore.
std::optional<std::int64_t> findDate(const Request& request, std::string_view name) {
  const std::optional<std::string_view> value = request.findHeader(name);
  return value ? parseHttpDate(*value) : std::nullopt;
}

}  // namespace

Precondition evaluatePreconditions(const Request& request, const Validators& validators) {
  // Steps 1 and 2: If-Match, else If-Unmodified-Since. A false one is 412.
  const FieldMatch if_match = matchField(request, "If-Match", validators.etag, Comparison::kStrong);
  if (if_match.present) {
    if (!if_match.matched) {
      return Precondition::kFailed;
    }
  } else if (const auto since = findDate(request, "If-Unmodified-Since")) {
    if (validators.last_modified > *since) {
      return Precondition::kFailed;
    }
  }
  // Steps 3 and 4: If-None-Match (weak comparison, §13.1.2), else
  // If-Modified-Since. A false one is 304 for GET and HEAD.
  const FieldMatch if_none_match = matchField(request, "If-None-Match", validators.etag, Comparison::kWeak);
  if (if_none_match.present) {
    return if_none_match.matched ? Precondition::kNotModified : Precondition::kProceed;
  }
  if (const auto since = findDate(request, "If-Modified-Since")) {
    if (validators.last_modified <= *since) {
      return Precondition::kNotModified;
    }
  }
  return Precondition::kProceed;
}

bool ifRangeHolds(const Request& request, const Validators& validators) {
  const std::optional<std::string_view> value = request.findHeader("If-Range");
  if (!value) {
    return true;
  }
  // §13.1.5: an entity-tag is compared strongly, so a weak one never holds.
  // A date must equal Last-Modified exactly; like nginx, the file's mtime is
  // trusted to be a strong validator, which §8.8.2.2 leaves to the server.
  std::string_view text = *value;
  if (const std::optional<EntityTag> tag = takeEntityTag(text)) {
    return text.empty() && matches(*tag, validators.etag, Comparison::kStrong);
  }
  const std::optional<std::int64_t> date = parseHttpDate(*value);
  return date && *date == validators.last_modified;
}

}  // namespace epolld::http
