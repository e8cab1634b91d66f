// What the loader knows of a protocol: its name, and how to read the
// listener's section named after it. The protocols supply these (see the
// protocol registry); config/ parses the keys every listener has and hands
// each listener's own section to its protocol.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "config/config.h"
#include "config/yaml_reader.h"

namespace epolld::config {

// What parse() checks besides the text. kHost adds what this machine must provide: a log
// file epolld can append to, http roots that are readable directories. It only looks
// (stat, access), so --check-config, start-up and a reload refuse the same files, at the
// value's position, without creating anything. kTextOnly lets tests name paths that
// exist nowhere.
enum class Checks { kTextOnly, kHost };

// One listener's protocol section, as its protocol reads it.
struct Section {
  const Field* field;      // the section (`http:`), or nullptr when the listener has none
  const Field& listener;   // the whole listener item, for errors about it
  const Field* address;    // its `address:`, or nullptr when the protocol's default applies
  std::string_view host;   // the listener's address, canonical: "127.0.0.1", "[::1]"
  Checks checks;
};

struct ProtocolSchema {
  std::string_view name{};
  // The address of a listener that names none; empty: `address` is required.
  std::string_view default_address{};
  // Reads and validates the protocol's section, throwing ConfigError at the
  // offending value; the defaults when Section::field is null. A protocol
  // without settings has none: a section for it is an unknown key.
  std::shared_ptr<const ProtocolOptions> (*read)(const Section& section) = nullptr;
};

using ProtocolSchemas = std::span<const ProtocolSchema>;

// A protocol's settings as a plain struct T with a defaulted ==, and a free
// function `YAML::Node yamlOf(const T&)` found by argument-dependent lookup.
template <typename T>
class OptionsOf final : public ProtocolOptions {
 public:
  explicit OptionsOf(T value) : value_(std::move(value)) {}

  const T& value() const { return value_; }
  bool operator==(const ProtocolOptions& other) const override {
    const auto* same = dynamic_cast<const OptionsOf*>(&other);
    return same && same->value_ == value_;
  }
  YAML::Node toYaml() const override { return yamlOf(value_); }

 private:
  const T value_;
};

// The settings of a listener whose protocol reads them into OptionsOf<T>.
template <typename T>
const T& optionsOf(const Listener& listener) {
  return static_cast<const OptionsOf<T>&>(*listener.options).value();
}

}  // namespace epolld::config
