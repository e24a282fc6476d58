#include "device_cli.hpp"

#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include "controller_api.hpp"
#include "handlers.hpp"
#include "password.hpp"
#include "store.hpp"

namespace cyphonic::as {

void add_device_commands(CLI::App& device, DeviceCliOptions& o) {
    o.add = device.add_subcommand("add", "enrol a device (node, adapter or general node)");
    o.add
        ->add_option("device-id", o.device_id,
                     "DeviceID: a DNS label (1-63 of a-z, 0-9, '-'); the FQDN is "
                     "<device-id>.<domain>")
        ->required();
    o.add->add_option("--kind", o.kind, "node, adapter or general (a general node of --adapter)")
        ->check(CLI::IsMember({"node", "adapter", "general"}))
        ->capture_default_str();
    auto* from_stdin = o.add->add_flag(
        "--password-stdin", o.password_stdin,
        "read the password from the first line of stdin (never give it on the command line)");
    auto* from_file = o.add->add_option("--password-file", o.password_file,
                                        "read the password from the first line of this file");
    from_stdin->excludes(from_file);
    o.add->add_flag("--cert-login", o.cert_login,
                    "allow certificate login (client certificate with CN = DeviceID)");
    o.add->add_option("--adapter", o.adapter, "general nodes: the adapter that logs them in");
    o.add->add_option("--mac", o.mac, "general nodes: MAC address aa:bb:cc:dd:ee:ff");

    o.list = device.add_subcommand("list", "list enrolled devices");
    o.list->add_flag("--json", o.json, "print a JSON array instead of a table");

    o.remove =
        device.add_subcommand("remove", "remove a device (an adapter with its general nodes)");
    o.remove->add_option("device-id", o.device_id, "DeviceID to remove")->required();
    for (auto* sub : {o.add, o.list, o.remove}) {
        sub->fallthrough();
    }
}

namespace {

std::string first_line(std::istream& in) {
    std::string line;
    std::getline(in, line);
    if (!line.empty() && line.back() == '\r') {
        line.pop_back();
    }
    return line;
}

std::optional<std::string> read_password(const DeviceCliOptions& o) {
    std::string password;
    if (o.password_stdin) {
        password = first_line(std::cin);
    } else if (!o.password_file.empty()) {
        std::ifstream file(o.password_file);
        if (!file) {
            throw EnrolError(
                fmt::format("cannot read the password file '{}'", o.password_file.string()));
        }
        password = first_line(file);
    } else {
        return std::nullopt;
    }
    if (password.empty()) {
        throw EnrolError("the password is empty");
    }
    std::string hash = hash_password(password);
    OPENSSL_cleanse(password.data(), password.size());
    return hash;
}

std::string or_dash(const std::optional<std::string>& s) {
    return s.value_or("-");
}

std::string locked_text(const DeviceRecord& d) {
    return d.locked && d.locked_until ? iso_time(*d.locked_until) : std::string("-");
}

void print_table(const std::vector<DeviceRecord>& devices) {
    const std::vector<std::string> head = {"DEVICE_ID", "KIND", "FQDN", "VIPV4", "VIPV6",
                                           "ADAPTER",   "MAC",  "CERT", "LOCKED"};
    std::vector<std::vector<std::string>> rows;
    rows.reserve(devices.size());
    for (const auto& d : devices) {
        rows.push_back({d.device_id, std::string(to_string(d.kind)), d.fqdn,
                        d.virtual_ipv4 ? d.virtual_ipv4->to_string() : "-",
                        d.virtual_ipv6 ? d.virtual_ipv6->to_string() : "-", or_dash(d.adapter_id),
                        or_dash(d.mac), d.cert_login ? "yes" : "no", locked_text(d)});
    }
    std::vector<std::size_t> width(head.size());
    for (std::size_t i = 0; i < head.size(); ++i) {
        width[i] = head[i].size();
        for (const auto& r : rows) {
            width[i] = std::max(width[i], r[i].size());
        }
    }
    const auto print_row = [&](const std::vector<std::string>& r) {
        std::string line;
        for (std::size_t i = 0; i < r.size(); ++i) {
            line += i + 1 < r.size() ? fmt::format("{:<{}}  ", r[i], width[i]) : r[i];
        }
        std::cout << line << '\n';
    };
    print_row(head);
    for (const auto& r : rows) {
        print_row(r);
    }
}

std::string json_or_null(const std::optional<std::string>& s) {
    return s ? fmt::format("\"{}\"", json_escape(*s)) : std::string("null");
}

void print_json(const std::vector<DeviceRecord>& devices) {
    std::vector<std::string> items;
    items.reserve(devices.size());
    for (const auto& d : devices) {
        items.push_back(fmt::format(
            "{{\"device_id\":\"{}\",\"kind\":\"{}\",\"fqdn\":\"{}\",\"node_id\":\"{}\","
            "\"virtual_ipv4\":{},\"virtual_ipv6\":{},\"adapter\":{},\"mac\":{},"
            "\"password\":{},\"cert_login\":{},\"failed_logins\":{},\"locked_until\":{}}}",
            json_escape(d.device_id), to_string(d.kind), json_escape(d.fqdn), d.node_id.to_hex(),
            json_or_null(d.virtual_ipv4 ? std::optional(d.virtual_ipv4->to_string())
                                        : std::nullopt),
            json_or_null(d.virtual_ipv6 ? std::optional(d.virtual_ipv6->to_string())
                                        : std::nullopt),
            json_or_null(d.adapter_id), json_or_null(d.mac), d.password_hash ? "true" : "false",
            d.cert_login ? "true" : "false", d.failed_logins,
            json_or_null(d.locked && d.locked_until ? std::optional(iso_time(*d.locked_until))
                                                    : std::nullopt)));
    }
    std::cout << "[" << fmt::format("{}", fmt::join(items, ",")) << "]\n";
}

int add(const DeviceCliOptions& o, const AsConfig& config, pqxx::connection& c) {
    NewDevice d;
    d.device_id = o.device_id;
    d.kind = *parse_device_kind(o.kind);
    d.cert_login = o.cert_login;
    d.adapter_id = o.adapter;
    d.mac = o.mac;
    d.password_hash = read_password(o);
    const AddressPools pools{config.domain, *Ipv4Prefix::parse(config.addressing_ipv4_prefix),
                             *Ipv6Prefix::parse(config.addressing_ipv6_prefix)};
    const DeviceRecord r = add_device(c, d, pools);
    std::cout << fmt::format(
        "added {} '{}' fqdn={} node_id={} virtual_ipv4={} virtual_ipv6={}{}\n", to_string(r.kind),
        r.device_id, r.fqdn, r.node_id.to_hex(), r.virtual_ipv4 ? r.virtual_ipv4->to_string() : "-",
        r.virtual_ipv6 ? r.virtual_ipv6->to_string() : "-",
        r.mac ? fmt::format(" adapter={} mac={}", r.adapter_id.value_or("-"), *r.mac) : "");
    return 0;
}

template <class Fn>
int with_database(const AsConfig& config, Fn fn) {
    try {
        pqxx::connection c(config.db_conninfo);
        return fn(c);
    } catch (const EnrolError& e) {
        std::cerr << "cyphonic-as: " << e.what() << '\n';
        return 1;
    } catch (const pqxx::broken_connection& e) {
        std::cerr << "cyphonic-as: cannot connect to the database (db.conninfo): " << e.what()
                  << '\n';
        return 1;
    } catch (const pqxx::undefined_table&) {
        std::cerr << "cyphonic-as: the database has no AS tables: run `cyphonic-as migrate` "
                     "first\n";
        return 1;
    } catch (const pqxx::sql_error& e) {
        std::cerr << "cyphonic-as: database error: " << e.what() << '\n';
        return 1;
    }
}

}  // namespace

int run_device_command(const DeviceCliOptions& o, const ConfigSource& source) {
    const bool adding = o.add->parsed();
    const AsConfig config = load_config(source, adding ? ConfigUse::Enrol : ConfigUse::Database);
    return with_database(config, [&](pqxx::connection& c) {
        if (adding) {
            return add(o, config, c);
        }
        if (o.list->parsed()) {
            const auto devices = list_devices(c);
            if (o.json) {
                print_json(devices);
            } else {
                print_table(devices);
            }
            return 0;
        }
        const auto removed = remove_device(c, o.device_id);
        std::cout << fmt::format("removed '{}'", removed.front());
        if (removed.size() > 1) {
            std::cout << fmt::format(" and its general nodes {}",
                                     fmt::join(removed.begin() + 1, removed.end(), ", "));
        }
        std::cout << '\n';
        return 0;
    });
}

int run_migrate(const ConfigSource& source) {
    const AsConfig config = load_config(source, ConfigUse::Database);
    return with_database(config, [](pqxx::connection& c) {
        const auto applied = migrate(c);
        if (applied.empty()) {
            std::cout << "schema up to date (no migrations to apply)\n";
        } else {
            std::cout << fmt::format("applied migrations {}\n", fmt::join(applied, ", "));
        }
        return 0;
    });
}

}  // namespace cyphonic::as
