#include "store.hpp"

#include <algorithm>
#include <cctype>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <openssl/crypto.h>

#include "cyphonic/core/fqdn.hpp"
#include "cyphonic/crypto/random.hpp"

namespace cyphonic::as {

std::string_view to_string(DeviceKind k) noexcept {
    switch (k) {
        case DeviceKind::Node:
            return "node";
        case DeviceKind::Adapter:
            return "adapter";
        case DeviceKind::GeneralNode:
            return "general";
    }
    return "unknown";
}

std::optional<DeviceKind> parse_device_kind(std::string_view text) noexcept {
    if (text == "node") {
        return DeviceKind::Node;
    }
    if (text == "adapter") {
        return DeviceKind::Adapter;
    }
    if (text == "general") {
        return DeviceKind::GeneralNode;
    }
    return std::nullopt;
}

namespace {

// Every query reading devices selects these columns in this order (see from_row).
constexpr std::string_view kDeviceColumns =
    "device_id, kind, password_hash, cert_login, adapter_id, mac, encode(node_id, 'hex'), fqdn, "
    "host(virtual_ipv4), host(virtual_ipv6), failed_logins, "
    "extract(epoch FROM locked_until)::float8, "
    "(locked_until IS NOT NULL AND locked_until > now())";

std::string select_devices(std::string_view where) {
    return fmt::format("SELECT {} FROM devices {}", kDeviceColumns, where);
}

SystemTime from_epoch(double seconds) {
    return SystemTime(
        std::chrono::duration_cast<SystemTime::duration>(std::chrono::duration<double>(seconds)));
}

template <class T>
std::optional<T> optional_field(const pqxx::field& f) {
    if (f.is_null()) {
        return std::nullopt;
    }
    return f.as<T>();
}

DeviceRecord from_row(const pqxx::row& row) {
    DeviceRecord d;
    d.device_id = row[0].as<std::string>();
    const int kind = row[1].as<int>();
    d.kind = static_cast<DeviceKind>(kind);
    d.password_hash = optional_field<std::string>(row[2]);
    d.cert_login = row[3].as<bool>();
    d.adapter_id = optional_field<std::string>(row[4]);
    d.mac = optional_field<std::string>(row[5]);
    if (const auto id = NodeId::from_hex(row[6].as<std::string>())) {
        d.node_id = *id;
    }
    d.fqdn = row[7].as<std::string>();
    if (const auto v4 = optional_field<std::string>(row[8])) {
        d.virtual_ipv4 = Ipv4Address::parse(*v4);
    }
    if (const auto v6 = optional_field<std::string>(row[9])) {
        d.virtual_ipv6 = Ipv6Address::parse(*v6);
    }
    d.failed_logins = row[10].as<int>();
    if (const auto until = optional_field<double>(row[11])) {
        d.locked_until = from_epoch(*until);
    }
    d.locked = row[12].as<bool>();
    return d;
}

std::optional<DeviceRecord> first_device(const pqxx::result& r) {
    if (r.empty()) {
        return std::nullopt;
    }
    return from_row(r[0]);
}

// NULL for an empty optional (libpqxx 6 takes a null `const char*` as SQL NULL).
const char* nullable(const std::optional<std::string>& s) noexcept {
    return s ? s->c_str() : nullptr;
}

}  // namespace

asio::awaitable<std::optional<DeviceRecord>> PgStore::find_device(std::string device_id) {
    co_return co_await db_.run([&device_id](pqxx::connection& c) {
        pqxx::read_transaction t(c);
        return first_device(t.exec_params(select_devices("WHERE device_id = $1"), device_id));
    });
}

asio::awaitable<std::optional<DeviceRecord>> PgStore::find_by_mac(std::string mac) {
    co_return co_await db_.run([&mac](pqxx::connection& c) {
        pqxx::read_transaction t(c);
        return first_device(t.exec_params(select_devices("WHERE mac = $1"), mac));
    });
}

asio::awaitable<FailureState> PgStore::record_failure(std::string device_id) {
    co_return co_await db_.run([&device_id, this](pqxx::connection& c) {
        pqxx::work w(c);
        // The exponent is capped so power() cannot overflow for a device failing for ever.
        const auto r = w.exec_params(
            "UPDATE devices SET failed_logins = failed_logins + 1, "
            " locked_until = CASE WHEN failed_logins + 1 >= $2::int "
            "   THEN now() + LEAST(power(2, LEAST(failed_logins + 1 - $2::int, 30)), $3::float8)"
            "        * interval '1 second' "
            "   ELSE locked_until END "
            "WHERE device_id = $1 "
            "RETURNING failed_logins, extract(epoch FROM locked_until)::float8",
            device_id, policy_.max_failures, static_cast<double>(policy_.lock_max_s));
        w.commit();
        FailureState s;
        if (!r.empty()) {
            s.failed_logins = r[0][0].as<int>();
            if (const auto until = optional_field<double>(r[0][1])) {
                s.locked_until = from_epoch(*until);
            }
        }
        return s;
    });
}

asio::awaitable<std::int64_t> PgStore::complete_login(NodeId node_id, IssuedKey key) {
    const std::string node = node_id.to_hex();
    co_return co_await db_.run([&node, &key](pqxx::connection& c) {
        std::string key_hex = to_hex(key.key.view());
        pqxx::work w(c);
        const auto generation =
            w.exec_params1(
                 "INSERT INTO nms_keys (node_id, cipher, key, expires_at) "
                 "VALUES (decode($1, 'hex'), $2::smallint, decode($3, 'hex'), $4::timestamptz) "
                 "ON CONFLICT (node_id) DO UPDATE SET cipher = excluded.cipher, "
                 " key = excluded.key, expires_at = excluded.expires_at, "
                 " generation = nms_keys.generation + 1, issued_at = now() "
                 "RETURNING generation",
                 node, static_cast<int>(key.cipher), key_hex, key.expires_at)[0]
                .as<std::int64_t>();
        OPENSSL_cleanse(key_hex.data(), key_hex.size());
        w.exec_params(
            "UPDATE devices SET failed_logins = 0, locked_until = NULL "
            "WHERE node_id = decode($1, 'hex') AND (failed_logins <> 0 OR locked_until IS NOT "
            "NULL)",
            node);
        w.commit();
        return generation;
    });
}

asio::awaitable<std::vector<DeviceRecord>> PgStore::general_nodes_of(std::string adapter_id) {
    co_return co_await db_.run([&adapter_id](pqxx::connection& c) {
        pqxx::read_transaction t(c);
        std::vector<DeviceRecord> out;
        for (const auto& row : t.exec_params(
                 select_devices("WHERE adapter_id = $1 ORDER BY device_id"), adapter_id)) {
            out.push_back(from_row(row));
        }
        return out;
    });
}

asio::awaitable<std::int64_t> PgStore::count_active_nodes() {
    co_return co_await db_.run([](pqxx::connection& c) {
        pqxx::read_transaction t(c);
        return t.exec1("SELECT count(*) FROM nms_keys WHERE expires_at > now()")[0]
            .as<std::int64_t>();
    });
}

// ---- Enrolment ---------------------------------------------------------------------------

std::optional<std::string> normalize_mac(std::string_view text) {
    constexpr std::size_t kMacText = 17;  // aa:bb:cc:dd:ee:ff
    if (text.size() != kMacText) {
        return std::nullopt;
    }
    std::string out(text);
    for (std::size_t i = 0; i < out.size(); ++i) {
        const auto c = static_cast<unsigned char>(out[i]);
        if (i % 3 == 2) {
            if (c != ':') {
                return std::nullopt;
            }
            continue;
        }
        if (std::isxdigit(c) == 0) {
            return std::nullopt;
        }
        out[i] = static_cast<char>(std::tolower(c));
    }
    return out;
}

namespace {

void check_new_device(const NewDevice& d, const AddressPools& pools) {
    const auto label = Fqdn::validate(d.device_id);
    if (!label.has_value() || d.device_id.find('.') != std::string::npos) {
        throw EnrolError(fmt::format(
            "device id '{}' is not a valid DNS label ({}): use 1-63 lower-case letters, digits "
            "and '-', not starting or ending with '-'",
            d.device_id, label.has_value() ? "contains '.'" : to_string(label.error())));
    }
    const std::string fqdn = d.device_id + "." + pools.domain;
    if (!Fqdn::validate(fqdn).has_value()) {
        throw EnrolError(fmt::format(
            "the FQDN '{}' would be longer than 253 bytes: choose a shorter device id", fqdn));
    }
    if (d.kind == DeviceKind::GeneralNode) {
        if (!d.adapter_id || !d.mac) {
            throw EnrolError(fmt::format(
                "general node '{}' needs --adapter <adapter-id> and --mac aa:bb:cc:dd:ee:ff",
                d.device_id));
        }
        if (!normalize_mac(*d.mac)) {
            throw EnrolError(
                fmt::format("'{}' is not a MAC address: expected six hex pairs separated by ':', "
                            "e.g. 02:00:5e:10:00:01",
                            *d.mac));
        }
    } else {
        if (d.adapter_id || d.mac) {
            throw EnrolError(fmt::format(
                "--adapter and --mac are only for general nodes (--kind general), not for {} '{}'",
                to_string(d.kind), d.device_id));
        }
        if (!d.password_hash && !d.cert_login) {
            throw EnrolError(fmt::format(
                "{} '{}' would have no way to log in: give --password-stdin, --password-file or "
                "--cert-login",
                to_string(d.kind), d.device_id));
        }
    }
}

template <class Address>
std::vector<Address> used_addresses(pqxx::work& w, std::string_view column) {
    std::vector<Address> out;
    for (const auto& row :
         w.exec(fmt::format("SELECT host({0}) FROM devices WHERE {0} IS NOT NULL", column))) {
        if (const auto a = Address::parse(row[0].as<std::string>())) {
            out.push_back(*a);
        }
    }
    return out;
}

// Which UNIQUE constraint a violation names (PostgreSQL's default constraint names).
bool names(const pqxx::unique_violation& e, std::string_view what) {
    return std::string_view(e.what()).find(what) != std::string_view::npos;
}

}  // namespace

DeviceRecord add_device(pqxx::connection& c, const NewDevice& device, const AddressPools& pools) {
    check_new_device(device, pools);
    const std::optional<std::string> mac =
        device.mac ? normalize_mac(*device.mac) : std::optional<std::string>();
    const std::string fqdn = device.device_id + "." + pools.domain;
    std::minstd_rand jitter(std::random_device{}());

    constexpr int kAttempts = 200;
    for (int attempt = 1;; ++attempt) {
        try {
            pqxx::work w(c);
            if (!w.exec_params("SELECT 1 FROM devices WHERE device_id = $1", device.device_id)
                     .empty()) {
                throw EnrolError(fmt::format("device '{}' already exists", device.device_id));
            }
            if (device.kind == DeviceKind::GeneralNode) {
                const auto adapter = w.exec_params("SELECT kind FROM devices WHERE device_id = $1",
                                                   *device.adapter_id);
                if (adapter.empty()) {
                    throw EnrolError(fmt::format(
                        "unknown adapter '{0}': enrol it first with `cyphonic-as device add {0} "
                        "--kind adapter ...`",
                        *device.adapter_id));
                }
                const auto kind = static_cast<DeviceKind>(adapter[0][0].as<int>());
                if (kind != DeviceKind::Adapter) {
                    throw EnrolError(fmt::format("'{}' is a {}, not an adapter", *device.adapter_id,
                                                 to_string(kind)));
                }
                const auto owner =
                    w.exec_params("SELECT device_id FROM devices WHERE mac = $1", *mac);
                if (!owner.empty()) {
                    throw EnrolError(fmt::format("MAC {} already belongs to general node '{}'",
                                                 *mac, owner[0][0].as<std::string>()));
                }
            }
            const auto v4 = lowest_free(pools.ipv4, used_addresses<Ipv4Address>(w, "virtual_ipv4"));
            if (!v4) {
                throw EnrolError(fmt::format("the IPv4 pool {} is full (addressing.ipv4_prefix)",
                                             pools.ipv4.to_string()));
            }
            const auto v6 = lowest_free(pools.ipv6, used_addresses<Ipv6Address>(w, "virtual_ipv6"));
            if (!v6) {
                throw EnrolError(fmt::format("the IPv6 pool {} is full (addressing.ipv6_prefix)",
                                             pools.ipv6.to_string()));
            }
            const auto node_id = crypto::random_id<NodeIdTag>();
            const auto row = w.exec_params1(
                "INSERT INTO devices (device_id, kind, password_hash, cert_login, adapter_id, "
                " mac, node_id, fqdn, virtual_ipv4, virtual_ipv6) "
                "VALUES ($1, $2::smallint, $3, $4, $5, $6, decode($7, 'hex'), $8, $9::inet, "
                " $10::inet) RETURNING " +
                    std::string(kDeviceColumns),
                device.device_id, static_cast<int>(device.kind), nullable(device.password_hash),
                device.cert_login, nullable(device.adapter_id), nullable(mac), node_id.to_hex(),
                fqdn, v4->to_string(), v6->to_string());
            w.commit();
            return from_row(row);
        } catch (const pqxx::unique_violation& e) {
            if (names(e, "devices_pkey") || names(e, "devices_fqdn_key")) {
                throw EnrolError(fmt::format("device '{}' already exists", device.device_id));
            }
            if (names(e, "devices_mac_key")) {
                throw EnrolError(fmt::format("MAC {} already belongs to another general node",
                                             mac.value_or("")));
            }
            // A concurrent enrolment took the same address (or, astronomically rarely, NodeID):
            // read the pool again after a short random pause.
            if (attempt >= kAttempts) {
                throw;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(jitter() % 20));
        } catch (const pqxx::foreign_key_violation&) {
            throw EnrolError(
                fmt::format("adapter '{}' was removed meanwhile", device.adapter_id.value_or("")));
        }
    }
}

std::vector<DeviceRecord> list_devices(pqxx::connection& c) {
    pqxx::read_transaction t(c);
    std::vector<DeviceRecord> out;
    for (const auto& row : t.exec(select_devices("ORDER BY device_id"))) {
        out.push_back(from_row(row));
    }
    return out;
}

std::vector<std::string> remove_device(pqxx::connection& c, const std::string& device_id) {
    pqxx::work w(c);
    std::vector<std::string> removed;
    for (const auto& row :
         w.exec_params("SELECT device_id FROM devices WHERE device_id = $1 OR adapter_id = $1 "
                       "ORDER BY device_id = $1 DESC, device_id",
                       device_id)) {
        removed.push_back(row[0].as<std::string>());
    }
    if (removed.empty() || removed.front() != device_id) {
        throw EnrolError(fmt::format("no device '{}'", device_id));
    }
    // ON DELETE CASCADE removes the adapter's general nodes and every NMS key with them.
    w.exec_params("DELETE FROM devices WHERE device_id = $1", device_id);
    w.commit();
    return removed;
}

std::vector<int> migrate(pqxx::connection& c) {
    return db::apply_migrations(c, "as", migrations());
}

}  // namespace cyphonic::as
