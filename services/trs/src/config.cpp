#include "config.hpp"

#include <sys/stat.h>

#include <charconv>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "cyphonic/app/logging.hpp"

namespace cyphonic::trs {

void describe(app::ConfigSchema& s, TrsConfig& c) {
    s.field("listen.ipv4", c.listen_ipv4,
            "IPv4 address of the UDP socket for nodes and NMS; empty disables IPv4");
    s.field("listen.ipv6", c.listen_ipv6,
            "IPv6 address of the UDP socket (IPV6_V6ONLY); empty disables IPv6");
    s.field("listen.port", c.listen_port,
            "UDP port of both sockets (PROTOCOL.md §3; 0 picks one, logged at start)");
    s.field("listen.socket_buffer_bytes", c.socket_buffer_bytes,
            "SO_RCVBUF/SO_SNDBUF of the UDP sockets in bytes; 0 keeps the system default");
    s.field("http.listen", c.http_listen, "address:port of /healthz, /readyz and /metrics");
    s.field("trs.node_id", c.node_id,
            "this TRS's NodeID, 32 hex digits (ID of Relay Responses, C5); required");
    s.field("nms_peers", c.nms_peers,
            "service keys, one per NMS: \"NMS_NODE_ID_HEX:CIPHER:KEY_FILE\" (or "
            "\"node_id=HEX,cipher=N,key_file=PATH\"); CIPHER is 1, 2, 3 or a suite name, "
            "KEY_FILE holds 64 hex digits (relative paths start at the config file's folder)");
    s.field("relay.idle_timeout_s", c.idle_timeout_s,
            "seconds without a verified message or relayed Capsule before an entry is removed "
            "(C20)");
    s.field("relay.max_entries", c.max_entries,
            "most relay entries; further Relay Requests get RELAY_UNAVAILABLE");
    s.field("shutdown.grace_s", c.grace_s,
            "seconds after SIGTERM during which existing paths are still relayed (new Relay "
            "Requests get RELAY_UNAVAILABLE)");
    s.field("shutdown.quiet_s", c.quiet_s,
            "during the grace period, exit once no datagram arrived for this many seconds "
            "(the load balancer has stopped sending)");
    s.field("log.level", c.log_level, "trace, debug, info, warn, error or off");
    s.field("log.summary_interval_s", c.summary_interval_s,
            "seconds between the info lines summing up dropped input by reason");
}

namespace {

struct Source {
    const std::optional<std::filesystem::path>& file;
    const std::vector<std::string>& overrides;
};

// Where the value of `key` came from, for "file:line: key: reason": the last --set wins over
// the file; `item` points at one element of a list.
std::string where(const Source& src, const std::string& key,
                  std::optional<std::size_t> item = std::nullopt) {
    for (const auto& o : src.overrides) {
        if (o.starts_with(key + "=")) {
            return "--set";
        }
    }
    if (!src.file) {
        return "defaults";
    }
    std::string name = src.file->string();
    try {
        YAML::Node node = YAML::LoadFile(name);
        std::optional<int> line;
        std::string_view rest = key;
        while (node.IsMap()) {
            const auto dot = rest.find('.');
            const std::string part(rest.substr(0, dot));
            YAML::Node next;
            for (const auto& kv : node) {
                if (kv.first.Scalar() == part) {
                    line = kv.first.Mark().line;
                    next = kv.second;
                }
            }
            if (!next) {
                break;
            }
            node = next;
            if (dot == std::string_view::npos) {
                if (item && node.IsSequence() && *item < node.size()) {
                    line = node[*item].Mark().line;
                }
                return fmt::format("{}:{}", name, *line + 1);
            }
            rest.remove_prefix(dot + 1);
        }
    } catch (const YAML::Exception&) {
        // Already read once by ConfigSchema; fall back to the file name.
    }
    return name;
}

std::optional<Endpoint> listen_address(const Source& src, const std::string& key,
                                       const std::string& text, std::uint16_t port, bool v6) {
    if (text.empty()) {
        return std::nullopt;
    }
    const auto address = IpAddress::parse(text);
    if (!address || address->is_v6() != v6) {
        throw app::ConfigError(
            where(src, key), key,
            fmt::format("'{}' is not an {} address", text, v6 ? "IPv6" : "IPv4"));
    }
    return Endpoint{*address, port};
}

std::optional<wire::CipherSuiteId> parse_cipher(std::string_view text) {
    return wire::parse_cipher_suite(text);
}

// "NODEID:CIPHER:KEYFILE" → the key, read from its file.
ServiceKey parse_peer(const Source& src, const std::string& entry, std::size_t index,
                      std::vector<std::string>& warnings) {
    const std::string key = "nms_peers";
    const auto bad = [&](const std::string& reason) {
        return app::ConfigError(where(src, key, index), key,
                                fmt::format("entry {} '{}': {}", index + 1, entry, reason));
    };
    std::string id_text;
    std::string cipher_text;
    std::string file_text;
    if (entry.find('=') != std::string::npos) {
        // The spelling of the NMS's trs.servers: "node_id=HEX,cipher=N,key_file=PATH".
        std::string_view rest = entry;
        while (!rest.empty()) {
            const auto comma = rest.find(',');
            const std::string_view item = rest.substr(0, comma);
            rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
            const auto eq = item.find('=');
            const std::string name(item.substr(0, eq));
            const std::string value(eq == std::string_view::npos ? "" : item.substr(eq + 1));
            if (name == "node_id") {
                id_text = value;
            } else if (name == "cipher") {
                cipher_text = value;
            } else if (name == "key_file") {
                file_text = value;
            } else {
                throw bad(fmt::format("unknown field '{}' (node_id, cipher, key_file)", name));
            }
        }
    } else {
        const auto first = entry.find(':');
        const auto second = first == std::string::npos ? first : entry.find(':', first + 1);
        if (second == std::string::npos) {
            throw bad("expected NMS_NODE_ID_HEX:CIPHER:KEY_FILE");
        }
        id_text = entry.substr(0, first);
        cipher_text = entry.substr(first + 1, second - first - 1);
        file_text = entry.substr(second + 1);
    }
    ServiceKey out;
    const auto id = NodeId::from_hex(id_text);
    if (!id || id->is_zero()) {
        throw bad("the NMS NodeID must be 32 hex digits, not all zero");
    }
    out.nms_id = *id;
    const auto cipher = parse_cipher(cipher_text);
    if (!cipher) {
        throw bad(
            "the cipher must be 1, 2, 3 or aes-256-cbc-hmac-md5, aes-256-gcm, "
            "chacha20-poly1305");
    }
    out.cipher = *cipher;
    std::filesystem::path path = file_text;
    if (path.empty()) {
        throw bad("no key file");
    }
    if (path.is_relative() && src.file && where(src, key) != "--set") {
        path = src.file->parent_path() / path;
    }
    std::ifstream in(path);
    if (!in) {
        throw bad(fmt::format("cannot read key file {}", path.string()));
    }
    std::stringstream text;
    text << in.rdbuf();
    auto bytes = from_hex(text.str());
    std::string content = text.str();
    std::fill(content.begin(), content.end(), '\0');
    if (!bytes || bytes->size() != crypto::Key::kSize) {
        throw bad(fmt::format("key file {} must hold 64 hex digits", path.string()));
    }
    out.key = crypto::Key(
        std::span<const std::byte, crypto::Key::kSize>(bytes->data(), crypto::Key::kSize));
    std::fill(bytes->begin(), bytes->end(), std::byte{0});
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        warnings.push_back(fmt::format("key file readable by others path={} mode={:o}",
                                       path.string(), st.st_mode & 0777U));
    }
    return out;
}

}  // namespace

TrsSettings load_settings(const std::optional<std::filesystem::path>& file,
                          const std::vector<std::string>& overrides) {
    TrsConfig c;
    app::ConfigSchema schema;
    describe(schema, c);
    schema.load(file, overrides);

    const Source src{file, overrides};
    TrsSettings s;
    s.listen_ipv4 = listen_address(src, "listen.ipv4", c.listen_ipv4, c.listen_port, false);
    s.listen_ipv6 = listen_address(src, "listen.ipv6", c.listen_ipv6, c.listen_port, true);
    if (!s.listen_ipv4 && !s.listen_ipv6) {
        throw app::ConfigError(where(src, "listen.ipv6"), "listen.ipv6",
                               "listen.ipv4 and listen.ipv6 are both empty");
    }
    s.socket_buffer_bytes = c.socket_buffer_bytes;
    const auto http = Endpoint::parse(c.http_listen);
    if (!http) {
        throw app::ConfigError(where(src, "http.listen"), "http.listen",
                               fmt::format("'{}' is not address:port", c.http_listen));
    }
    s.http = *http;
    const auto id = NodeId::from_hex(c.node_id);
    if (!id || id->is_zero()) {
        throw app::ConfigError(
            where(src, "trs.node_id"), "trs.node_id",
            c.node_id.empty() ? "required: 32 hex digits" : "expected 32 hex digits, not all zero");
    }
    s.trs_id = *id;
    if (c.nms_peers.empty()) {
        throw app::ConfigError(where(src, "nms_peers"), "nms_peers",
                               "required: at least one NMS_NODE_ID_HEX:CIPHER:KEY_FILE");
    }
    for (std::size_t i = 0; i < c.nms_peers.size(); ++i) {
        auto peer = parse_peer(src, c.nms_peers[i], i, s.warnings);
        for (const auto& known : s.service_keys) {
            if (known.nms_id == peer.nms_id) {
                throw app::ConfigError(where(src, "nms_peers", i), "nms_peers",
                                       fmt::format("NMS {} is listed twice", peer.nms_id));
            }
        }
        if (peer.nms_id == s.trs_id) {
            throw app::ConfigError(where(src, "nms_peers", i), "nms_peers",
                                   "an NMS NodeID equals trs.node_id");
        }
        s.service_keys.push_back(std::move(peer));
    }
    const auto positive = [&](const std::string& key, std::uint32_t v) {
        if (v == 0) {
            throw app::ConfigError(where(src, key), key, "must be at least 1");
        }
    };
    positive("relay.idle_timeout_s", c.idle_timeout_s);
    positive("relay.max_entries", c.max_entries);
    positive("log.summary_interval_s", c.summary_interval_s);
    s.idle_timeout = std::chrono::seconds(c.idle_timeout_s);
    s.max_entries = c.max_entries;
    const auto seconds = [&](const std::string& key, double v) {
        if (!(v >= 0 && v <= 3600)) {
            throw app::ConfigError(where(src, key), key, "must be between 0 and 3600");
        }
        return std::chrono::milliseconds(static_cast<std::int64_t>(v * 1000));
    };
    s.grace = seconds("shutdown.grace_s", c.grace_s);
    s.quiet = seconds("shutdown.quiet_s", c.quiet_s);
    s.summary_interval = std::chrono::seconds(c.summary_interval_s);
    if (!app::is_log_level(c.log_level)) {
        throw app::ConfigError(where(src, "log.level"), "log.level",
                               fmt::format("'{}' is not one of trace, debug, info, warn, error, "
                                           "off",
                                           c.log_level));
    }
    s.log_level = c.log_level;
    s.effective = schema.effective();
    return s;
}

std::vector<std::string> describe_keys() {
    TrsConfig c;
    app::ConfigSchema schema;
    describe(schema, c);
    return schema.describe_keys();
}

}  // namespace cyphonic::trs
