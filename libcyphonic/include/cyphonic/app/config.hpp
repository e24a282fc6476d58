#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cyphonic/core/address.hpp"

// Configuration of every binary (STYLE.md §7): struct defaults → YAML file → `--set key=value`
// overrides → validate() → the effective configuration logged with secrets redacted.
// Keys are snake_case paths ("listen.port"); every key is overridable by --set; unknown keys and
// wrong types are errors naming the file, line and key, so a typo never becomes a default.
namespace cyphonic::app {

// A configuration error: `where` is "file:line" or "--set", `key` the dotted path.
class ConfigError : public std::runtime_error {
public:
    ConfigError(std::string where, std::string key, const std::string& reason);
    [[nodiscard]] const std::string& where() const noexcept { return where_; }
    [[nodiscard]] const std::string& key() const noexcept { return key_; }

private:
    std::string where_;
    std::string key_;
};

struct FieldOptions {
    bool secret = false;  // value printed as "<redacted>"
};

// Lists the keys of one configuration struct. A binary writes one function
// `void describe(ConfigSchema& s, MyConfig& c)` calling field() for every key; the same list
// then loads, overrides, prints and documents the configuration.
class ConfigSchema {
public:
    ConfigSchema();
    ~ConfigSchema();
    ConfigSchema(const ConfigSchema&) = delete;
    ConfigSchema& operator=(const ConfigSchema&) = delete;

    void field(const std::string& key, std::string& value, std::string help, FieldOptions o = {});
    void field(const std::string& key, bool& value, std::string help, FieldOptions o = {});
    void field(const std::string& key, std::uint16_t& value, std::string help, FieldOptions o = {});
    void field(const std::string& key, std::uint32_t& value, std::string help, FieldOptions o = {});
    void field(const std::string& key, std::int64_t& value, std::string help, FieldOptions o = {});
    void field(const std::string& key, double& value, std::string help, FieldOptions o = {});
    void field(const std::string& key, std::vector<std::string>& value, std::string help,
               FieldOptions o = {});
    void field(const std::string& key, std::optional<IpAddress>& value, std::string help,
               FieldOptions o = {});
    void field(const std::string& key, std::filesystem::path& value, std::string help,
               FieldOptions o = {});

    // Reads `file` (if given), applies each "key.path=value" of `overrides` (the value is
    // parsed as a YAML scalar or flow sequence), and stores every known key into the bound
    // fields. Throws ConfigError for a missing file, YAML syntax, an unknown key, a wrong type
    // or a value out of range.
    void load(const std::optional<std::filesystem::path>& file,
              const std::vector<std::string>& overrides);

    // "key = value" lines for every key in declaration order, secrets redacted.
    [[nodiscard]] std::vector<std::string> effective() const;
    // "key (default: value): help" lines, for --help and documentation.
    [[nodiscard]] std::vector<std::string> describe_keys() const;

private:
    struct Entry;
    void add(Entry entry);
    std::vector<std::unique_ptr<Entry>> entries_;
};

}  // namespace cyphonic::app
