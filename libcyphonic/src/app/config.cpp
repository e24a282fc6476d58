#include "cyphonic/app/config.hpp"

#include <charconv>
#include <limits>
#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

namespace cyphonic::app {

ConfigError::ConfigError(std::string where, std::string key, const std::string& reason)
    : std::runtime_error(key.empty() ? fmt::format("{}: {}", where, reason)
                                     : fmt::format("{}: {}: {}", where, key, reason)),
      where_(std::move(where)),
      key_(std::move(key)) {}

struct ConfigSchema::Entry {
    std::string key;
    std::string help;
    bool secret = false;
    std::function<void(const YAML::Node&, const std::string& where)> read;
    std::function<std::string()> show;
};

ConfigSchema::ConfigSchema() = default;
ConfigSchema::~ConfigSchema() = default;

void ConfigSchema::add(Entry entry) {
    for (const auto& e : entries_) {
        if (e->key == entry.key) {
            throw std::logic_error("config key declared twice: " + entry.key);
        }
    }
    entries_.push_back(std::make_unique<Entry>(std::move(entry)));
}

namespace {

std::string scalar(const YAML::Node& node, const std::string& where, const std::string& key,
                   const char* expected) {
    if (!node.IsScalar()) {
        throw ConfigError(where, key, fmt::format("expected {}", expected));
    }
    return node.Scalar();
}

template <class Int>
Int integer(const YAML::Node& node, const std::string& where, const std::string& key) {
    const std::string text = scalar(node, where, key, "an integer");
    long long v = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || ptr != text.data() + text.size()) {
        throw ConfigError(where, key, fmt::format("expected an integer, got '{}'", text));
    }
    if (v < static_cast<long long>(std::numeric_limits<Int>::min()) ||
        v > static_cast<long long>(std::numeric_limits<Int>::max())) {
        throw ConfigError(
            where, key,
            fmt::format("{} is out of range [{}, {}]", v, std::numeric_limits<Int>::min(),
                        std::numeric_limits<Int>::max()));
    }
    return static_cast<Int>(v);
}

std::string quote(const std::string& s) {
    return fmt::format("\"{}\"", s);
}

}  // namespace

void ConfigSchema::field(const std::string& key, std::string& value, std::string help,
                         FieldOptions o) {
    add({key, std::move(help), o.secret,
         [&value, key](const YAML::Node& n, const std::string& where) {
             value = scalar(n, where, key, "a string");
         },
         [&value] { return quote(value); }});
}

void ConfigSchema::field(const std::string& key, bool& value, std::string help, FieldOptions o) {
    add({key, std::move(help), o.secret,
         [&value, key](const YAML::Node& n, const std::string& where) {
             const std::string text = scalar(n, where, key, "true or false");
             if (text == "true") {
                 value = true;
             } else if (text == "false") {
                 value = false;
             } else {
                 throw ConfigError(where, key,
                                   fmt::format("expected true or false, got '{}'", text));
             }
         },
         [&value] { return std::string(value ? "true" : "false"); }});
}

void ConfigSchema::field(const std::string& key, std::uint16_t& value, std::string help,
                         FieldOptions o) {
    add({key, std::move(help), o.secret,
         [&value, key](const YAML::Node& n, const std::string& where) {
             value = integer<std::uint16_t>(n, where, key);
         },
         [&value] { return std::to_string(value); }});
}

void ConfigSchema::field(const std::string& key, std::uint32_t& value, std::string help,
                         FieldOptions o) {
    add({key, std::move(help), o.secret,
         [&value, key](const YAML::Node& n, const std::string& where) {
             value = integer<std::uint32_t>(n, where, key);
         },
         [&value] { return std::to_string(value); }});
}

void ConfigSchema::field(const std::string& key, std::int64_t& value, std::string help,
                         FieldOptions o) {
    add({key, std::move(help), o.secret,
         [&value, key](const YAML::Node& n, const std::string& where) {
             value = integer<std::int64_t>(n, where, key);
         },
         [&value] { return std::to_string(value); }});
}

void ConfigSchema::field(const std::string& key, double& value, std::string help, FieldOptions o) {
    add({key, std::move(help), o.secret,
         [&value, key](const YAML::Node& n, const std::string& where) {
             const std::string text = scalar(n, where, key, "a number");
             try {
                 std::size_t used = 0;
                 value = std::stod(text, &used);
                 if (used != text.size()) {
                     throw std::invalid_argument(text);
                 }
             } catch (const std::exception&) {
                 throw ConfigError(where, key, fmt::format("expected a number, got '{}'", text));
             }
         },
         [&value] { return fmt::format("{}", value); }});
}

void ConfigSchema::field(const std::string& key, std::vector<std::string>& value, std::string help,
                         FieldOptions o) {
    add({key, std::move(help), o.secret,
         [&value, key](const YAML::Node& given, const std::string& where) {
             YAML::Node n = given;
             if (n.IsScalar()) {  // from --set: "[a, b]"
                 try {
                     n = YAML::Load(given.Scalar());
                 } catch (const YAML::ParserException& e) {
                     throw ConfigError(where, key, e.msg);
                 }
             }
             if (!n.IsSequence()) {
                 throw ConfigError(where, key, "expected a list, e.g. [a, b]");
             }
             std::vector<std::string> out;
             for (const auto& item : n) {
                 out.push_back(scalar(item, where, key, "a list of strings"));
             }
             value = std::move(out);
         },
         [&value] {
             std::vector<std::string> quoted;
             quoted.reserve(value.size());
             for (const auto& v : value) {
                 quoted.push_back(quote(v));
             }
             return fmt::format("[{}]", fmt::join(quoted, ", "));
         }});
}

void ConfigSchema::field(const std::string& key, std::optional<IpAddress>& value, std::string help,
                         FieldOptions o) {
    add({key, std::move(help), o.secret,
         [&value, key](const YAML::Node& n, const std::string& where) {
             if (n.IsNull()) {
                 value.reset();
                 return;
             }
             const std::string text = scalar(n, where, key, "an IP address");
             auto parsed = IpAddress::parse(text);
             if (!parsed) {
                 throw ConfigError(where, key, fmt::format("'{}' is not an IP address", text));
             }
             value = *parsed;
         },
         [&value] { return value ? value->to_string() : std::string("null"); }});
}

void ConfigSchema::field(const std::string& key, std::filesystem::path& value, std::string help,
                         FieldOptions o) {
    add({key, std::move(help), o.secret,
         [&value, key](const YAML::Node& n, const std::string& where) {
             value = scalar(n, where, key, "a path");
         },
         [&value] { return quote(value.string()); }});
}

void ConfigSchema::load(const std::optional<std::filesystem::path>& file,
                        const std::vector<std::string>& overrides) {
    std::map<std::string, Entry*> by_key;
    std::set<std::string> prefixes;  // every proper prefix of a key: "a" and "a.b" of "a.b.c"
    for (const auto& e : entries_) {
        by_key[e->key] = e.get();
        for (auto dot = e->key.find('.'); dot != std::string::npos;
             dot = e->key.find('.', dot + 1)) {
            prefixes.insert(e->key.substr(0, dot));
        }
    }

    const std::string file_name = file ? file->string() : std::string();
    // (value, where) for every key given, file first, then --set.
    std::map<std::string, std::pair<YAML::Node, std::string>> given;

    if (file) {
        YAML::Node root;
        try {
            root = YAML::LoadFile(file_name);
        } catch (const YAML::BadFile&) {
            throw ConfigError(file_name, "", "cannot read the file");
        } catch (const YAML::ParserException& e) {
            throw ConfigError(fmt::format("{}:{}", file_name, e.mark.line + 1), "", e.msg);
        }
        if (!root.IsNull() && !root.IsMap()) {
            throw ConfigError(file_name, "", "the top level must be a mapping of keys");
        }
        // Walk the tree: a known key takes its node whole; a known prefix must be a mapping;
        // anything else is an unknown key.
        std::function<void(const YAML::Node&, const std::string&)> walk =
            [&](const YAML::Node& map, const std::string& prefix) {
                for (const auto& item : map) {
                    const std::string name = item.first.Scalar();
                    const std::string path =
                        prefix.empty() ? name : fmt::format("{}.{}", prefix, name);
                    const std::string where =
                        fmt::format("{}:{}", file_name, item.first.Mark().line + 1);
                    if (by_key.contains(path)) {
                        given[path] = {item.second, where};
                    } else if (prefixes.contains(path)) {
                        if (!item.second.IsMap()) {
                            throw ConfigError(where, path, "expected a mapping of keys");
                        }
                        walk(item.second, path);
                    } else {
                        throw ConfigError(where, path, "unknown key");
                    }
                }
            };
        if (root.IsMap()) {
            walk(root, "");
        }
    }

    for (const auto& assignment : overrides) {
        const auto eq = assignment.find('=');
        if (eq == std::string::npos || eq == 0) {
            throw ConfigError("--set", assignment, "expected key.path=value");
        }
        const std::string key = assignment.substr(0, eq);
        if (!by_key.contains(key)) {
            throw ConfigError("--set", key, "unknown key");
        }
        // The value stays text: "[::1]" is an address, not a list. List fields parse it.
        given[key] = {YAML::Node(assignment.substr(eq + 1)), "--set"};
    }

    for (const auto& [key, value] : given) {
        by_key.at(key)->read(value.first, value.second);
    }
}

std::vector<std::string> ConfigSchema::effective() const {
    std::vector<std::string> out;
    out.reserve(entries_.size());
    for (const auto& e : entries_) {
        out.push_back(fmt::format("{} = {}", e->key, e->secret ? "<redacted>" : e->show()));
    }
    return out;
}

std::vector<std::string> ConfigSchema::describe_keys() const {
    std::vector<std::string> out;
    out.reserve(entries_.size());
    for (const auto& e : entries_) {
        out.push_back(fmt::format("{} (default: {}): {}", e->key,
                                  e->secret ? "<redacted>" : e->show(), e->help));
    }
    return out;
}

}  // namespace cyphonic::app
