#include "store.hpp"

#include <cstring>

namespace cyphonic::nms {

namespace {

pqxx::binarystring bin(ByteView bytes) {
    return {bytes.data(), bytes.size()};
}

template <class Tag>
pqxx::binarystring bin(const Id128<Tag>& id) {
    return bin(id.bytes());
}

template <std::size_t N>
bool read_fixed(const pqxx::field& f, std::array<std::byte, N>& out) {
    if (f.is_null()) {
        return false;
    }
    const pqxx::binarystring b(f);
    if (b.size() != N) {
        return false;
    }
    std::memcpy(out.data(), b.data(), N);
    return true;
}

Bytes read_bytes(const pqxx::field& f) {
    const pqxx::binarystring b(f);
    Bytes out(b.size());
    std::memcpy(out.data(), b.data(), b.size());
    return out;
}

// INET as text without a prefix length ("10.0.0.1", not "10.0.0.1/32").
std::optional<IpAddress> read_inet(const pqxx::field& f) {
    if (f.is_null()) {
        return std::nullopt;
    }
    auto text = f.as<std::string>();
    if (const auto slash = text.find('/'); slash != std::string::npos) {
        text.resize(slash);
    }
    return IpAddress::parse(text);
}

std::string inet_or_empty(const IpAddress& a, bool present) {
    return present ? a.to_string() : std::string();
}

SystemClock::time_point read_time(const pqxx::field& f) {
    return SystemClock::time_point(std::chrono::microseconds(f.as<std::int64_t>()));
}

constexpr const char* kEpochUs = "(extract(epoch FROM {}) * 1000000)::BIGINT";

std::string epoch_us(const std::string& column) {
    std::string out = kEpochUs;
    out.replace(out.find("{}"), 2, column);
    return out;
}

NodeInfo read_node(const pqxx::row& r) {
    NodeInfo n;
    NodeId::Raw raw{};
    read_fixed(r[0], raw);
    n.node_id = NodeId(raw);
    n.device_id = r[1].as<std::string>();
    n.kind = r[2].as<int>();
    n.fqdn = r[3].as<std::string>();
    if (const auto v4 = read_inet(r[4]); v4 && v4->is_v4()) {
        n.virtual_ipv4 = v4->v4();
    }
    if (const auto v6 = read_inet(r[5]); v6 && v6->is_v6()) {
        n.virtual_ipv6 = v6->v6();
    }
    return n;
}

constexpr const char* kNodeColumns =
    "node_id, device_id, kind, fqdn, host(virtual_ipv4), host(virtual_ipv6)";

// The shared anti-replay window of the node's side of its NMS key (§5.4, C10), checked and
// marked inside the caller's transaction. The row lock serialises replicas.
WindowVerdict check_window(pqxx::work& w, const SequenceCheck& c) {
    const auto key =
        w.exec_params("SELECT generation FROM nms_keys WHERE node_id = $1", bin(c.node_id));
    if (key.empty() || key[0][0].as<std::int64_t>() != c.generation) {
        return {replay::ReplayVerdict::TooOld, true};
    }
    const auto state = w.exec_params(
        "SELECT generation, recv_bitmap FROM nms_key_state WHERE node_id = $1 FOR UPDATE",
        bin(c.node_id));
    replay::ReplayWindow window;
    if (!state.empty() && state[0][0].as<std::int64_t>() == c.generation) {
        const Bytes saved = read_bytes(state[0][1]);
        if (!saved.empty()) {
            window.restore(saved);
        }
    }
    const auto verdict = window.update(c.sequence);
    if (verdict != replay::ReplayVerdict::Accept) {
        return {verdict, false};
    }
    const auto saved = window.save();
    w.exec_params(
        "INSERT INTO nms_key_state (node_id, generation, recv_highest, recv_bitmap) "
        "VALUES ($1, $2, $3, $4) ON CONFLICT (node_id) DO UPDATE SET "
        " send_next = CASE WHEN nms_key_state.generation = EXCLUDED.generation "
        "                  THEN nms_key_state.send_next ELSE 1 END,"
        " generation = EXCLUDED.generation, recv_highest = EXCLUDED.recv_highest,"
        " recv_bitmap = EXCLUDED.recv_bitmap",
        bin(c.node_id), c.generation, static_cast<std::int64_t>(window.highest()), bin(saved));
    return {verdict, false};
}

}  // namespace

asio::awaitable<std::optional<NodeKey>> Store::load_key(NodeId node) {
    auto query = [node](pqxx::connection& c) -> std::optional<NodeKey> {
        pqxx::read_transaction t(c);
        const auto r = t.exec_params("SELECT cipher, key, generation, " + epoch_us("expires_at") +
                                         " FROM nms_keys WHERE node_id = $1",
                                     bin(node));
        if (r.empty()) {
            return std::nullopt;
        }
        NodeKey k;
        k.node_id = node;
        const int cipher = r[0][0].as<int>();
        if (!wire::is_known_cipher_suite(static_cast<std::uint16_t>(cipher))) {
            return std::nullopt;
        }
        k.cipher = static_cast<wire::CipherSuiteId>(cipher);
        std::array<std::byte, 32> raw{};
        if (!read_fixed(r[0][1], raw)) {
            return std::nullopt;
        }
        k.key = crypto::Key(raw);
        OPENSSL_cleanse(raw.data(), raw.size());
        k.generation = r[0][2].as<std::int64_t>();
        k.expires_at = read_time(r[0][3]);
        return k;
    };
    auto task = db_.run(std::move(query));
    co_return co_await std::move(task);
}

asio::awaitable<std::optional<NodeInfo>> Store::find_node(NodeId node) {
    auto query = [node](pqxx::connection& c) -> std::optional<NodeInfo> {
        pqxx::read_transaction t(c);
        const auto r = t.exec_params(
            std::string("SELECT ") + kNodeColumns + " FROM devices WHERE node_id = $1", bin(node));
        if (r.empty()) {
            return std::nullopt;
        }
        return read_node(r[0]);
    };
    auto task = db_.run(std::move(query));
    co_return co_await std::move(task);
}

asio::awaitable<std::optional<NodeInfo>> Store::find_node_by_fqdn(std::string fqdn) {
    auto query = [fqdn](pqxx::connection& c) -> std::optional<NodeInfo> {
        pqxx::read_transaction t(c);
        const auto r = t.exec_params(
            std::string("SELECT ") + kNodeColumns + " FROM devices WHERE fqdn = $1", fqdn);
        if (r.empty()) {
            return std::nullopt;
        }
        return read_node(r[0]);
    };
    auto task = db_.run(std::move(query));
    co_return co_await std::move(task);
}

asio::awaitable<std::optional<Location>> Store::location(NodeId node) {
    auto query = [node](pqxx::connection& c) -> std::optional<Location> {
        pqxx::read_transaction t(c);
        const auto r = t.exec_params(
            "SELECT application_port, host(real_ipv4), host(real_ipv6),"
            " host(observed_ipv4), observed_port4, nat4, " +
                epoch_us("seen4_at") +
                ","
                " host(observed_ipv6), observed_port6, nat6, " +
                epoch_us("seen6_at") + ", " + epoch_us("last_seen") +
                ", online FROM node_locations WHERE node_id = $1",
            bin(node));
        if (r.empty()) {
            return std::nullopt;
        }
        const auto& row = r[0];
        Location l;
        l.application_port = static_cast<std::uint16_t>(row[0].as<int>());
        if (const auto a = read_inet(row[1]); a && a->is_v4()) {
            l.real_ipv4 = a->v4();
        }
        if (const auto a = read_inet(row[2]); a && a->is_v6()) {
            l.real_ipv6 = a->v6();
        }
        if (const auto a = read_inet(row[3]); a && !row[4].is_null()) {
            l.v4 = FamilyLocation{*a, static_cast<std::uint16_t>(row[4].as<int>()),
                                  row[5].as<bool>(), read_time(row[6])};
        }
        if (const auto a = read_inet(row[7]); a && !row[8].is_null()) {
            l.v6 = FamilyLocation{*a, static_cast<std::uint16_t>(row[8].as<int>()),
                                  row[9].as<bool>(), read_time(row[10])};
        }
        l.last_seen = read_time(row[11]);
        l.online = row[12].as<bool>();
        return l;
    };
    auto task = db_.run(std::move(query));
    co_return co_await std::move(task);
}

asio::awaitable<WindowVerdict> Store::accept_sequence(SequenceCheck check) {
    auto query = [check](pqxx::connection& c) {
        pqxx::work w(c);
        const auto v = check_window(w, check);
        w.commit();
        return v;
    };
    auto task = db_.run(std::move(query));
    co_return co_await std::move(task);
}

asio::awaitable<WindowVerdict> Store::register_node(SequenceCheck check,
                                                    Registration registration) {
    auto query = [check, registration](pqxx::connection& c) {
        pqxx::work w(c);
        const auto v = check_window(w, check);
        if (!v.accepted()) {
            w.commit();
            return v;
        }
        const auto& req = registration.request;
        const IpAddress observed = registration.observed.address.normalized();
        const bool v4 = observed.is_v4();
        const std::string fam = v4 ? "4" : "6";
        const std::string other = v4 ? "6" : "4";
        const bool other_reported =
            v4 ? !req.node_ipv6.is_unspecified() : !req.node_ipv4.is_unspecified();
        // The other family's observation survives a re-registration over this family while
        // the node still reports an address of that family; a node that reports none has
        // left it (a move to an IPv4-only network, N10) and must not be routed there.
        const std::string other_kept =
            other_reported
                ? ""
                : ", observed_ipv" + other + " = NULL, observed_port" + other + " = NULL";
        w.exec_params(
            "INSERT INTO node_locations (node_id, application_port, notification_type,"
            " real_ipv4, real_ipv6, observed_ipv" +
                fam + ", observed_port" + fam + ", nat" + fam + ", seen" + fam +
                "_at, registered_at, last_seen, online)"
                " VALUES ($1, $2, $3, NULLIF($4, '')::INET, NULLIF($5, '')::INET, $6::INET, $7,"
                " $8, now(), now(), now(), true)"
                " ON CONFLICT (node_id) DO UPDATE SET application_port = EXCLUDED.application_port,"
                " notification_type = EXCLUDED.notification_type, real_ipv4 = EXCLUDED.real_ipv4,"
                " real_ipv6 = EXCLUDED.real_ipv6, observed_ipv" +
                fam + " = EXCLUDED.observed_ipv" + fam + ", observed_port" + fam +
                " = EXCLUDED.observed_port" + fam + ", nat" + fam + " = EXCLUDED.nat" + fam +
                ", seen" + fam +
                "_at = now(), registered_at = now(),"
                " last_seen = now(), online = true" +
                other_kept,
            bin(check.node_id), static_cast<int>(req.application_port),
            static_cast<int>(req.notification),
            inet_or_empty(req.node_ipv4, !req.node_ipv4.is_unspecified()),
            inet_or_empty(req.node_ipv6, !req.node_ipv6.is_unspecified()), observed.to_string(),
            static_cast<int>(registration.observed.port), registration.nat);
        if (registration.first) {
            // C11: a fresh start; paths of the previous session are stale.
            w.exec_params("DELETE FROM paths WHERE initiator = $1 OR responder = $1",
                          bin(check.node_id));
        }
        w.commit();
        return v;
    };
    auto task = db_.run(std::move(query));
    co_return co_await std::move(task);
}

asio::awaitable<Store::KeepAliveResult> Store::keep_alive(SequenceCheck check, Endpoint observed) {
    auto query = [check, observed](pqxx::connection& c) {
        pqxx::work w(c);
        KeepAliveResult result;
        result.window = check_window(w, check);
        if (!result.window.accepted()) {
            w.commit();
            return result;
        }
        const IpAddress address = observed.address.normalized();
        const std::string fam = address.is_v4() ? "4" : "6";
        const auto updated =
            w.exec_params("UPDATE node_locations SET observed_ipv" + fam +
                              " = $2::INET, observed_port" + fam + " = $3, seen" + fam +
                              "_at = now(), last_seen = now(), online = true,"
                              // The NAT decision of §7.2 for this family, as at registration.
                              " nat" +
                              fam + " = COALESCE(NOT ($2::INET = real_ipv" + fam +
                              " AND $3 = application_port), true)"
                              " WHERE node_id = $1",
                          bin(check.node_id), address.to_string(), static_cast<int>(observed.port));
        result.registered = updated.affected_rows() > 0;
        w.commit();
        return result;
    };
    auto task = db_.run(std::move(query));
    co_return co_await std::move(task);
}

asio::awaitable<std::uint32_t> Store::reserve_send_block(NodeId node, std::int64_t generation,
                                                         std::uint32_t count) {
    auto query = [node, generation, count](pqxx::connection& c) {
        pqxx::work w(c);
        const auto r = w.exec_params1(
            "INSERT INTO nms_key_state (node_id, generation, send_next) VALUES ($1, $2, 1 + $3)"
            " ON CONFLICT (node_id) DO UPDATE SET"
            " send_next = CASE WHEN nms_key_state.generation = EXCLUDED.generation"
            "                  THEN nms_key_state.send_next + $3 ELSE 1 + $3 END,"
            " recv_highest = CASE WHEN nms_key_state.generation = EXCLUDED.generation"
            "                     THEN nms_key_state.recv_highest ELSE 0 END,"
            " recv_bitmap = CASE WHEN nms_key_state.generation = EXCLUDED.generation"
            "                    THEN nms_key_state.recv_bitmap ELSE ''::BYTEA END,"
            " generation = EXCLUDED.generation"
            " RETURNING send_next - $3",
            bin(node), generation, static_cast<std::int64_t>(count));
        w.commit();
        return static_cast<std::uint32_t>(r[0].as<std::int64_t>());
    };
    auto task = db_.run(std::move(query));
    co_return co_await std::move(task);
}

asio::awaitable<std::uint32_t> Store::reserve_service_block(NodeId trs, std::uint32_t count) {
    auto query = [trs, count](pqxx::connection& c) {
        pqxx::work w(c);
        const auto r = w.exec_params1(
            "INSERT INTO service_key_counters (trs_node_id, send_next) VALUES ($1, 1 + $2)"
            " ON CONFLICT (trs_node_id) DO UPDATE SET"
            " send_next = service_key_counters.send_next + $2 RETURNING send_next - $2",
            bin(trs), static_cast<std::int64_t>(count));
        w.commit();
        return static_cast<std::uint32_t>(r[0].as<std::int64_t>());
    };
    auto task = db_.run(std::move(query));
    co_return co_await std::move(task);
}

asio::awaitable<std::optional<PathRecord>> Store::find_path(PathId path) {
    auto query = [path](pqxx::connection& c) -> std::optional<PathRecord> {
        pqxx::read_transaction t(c);
        const auto r = t.exec_params(
            "SELECT initiator, responder, transaction_id, state, body,"
            " floor(extract(epoch FROM now() - updated_at))::BIGINT FROM paths"
            " WHERE path_id = $1",
            bin(path));
        if (r.empty()) {
            return std::nullopt;
        }
        PathRecord p;
        p.path_id = path;
        NodeId::Raw raw{};
        read_fixed(r[0][0], raw);
        p.initiator = NodeId(raw);
        read_fixed(r[0][1], raw);
        p.responder = NodeId(raw);
        p.transaction_id = static_cast<std::uint32_t>(r[0][2].as<std::int64_t>());
        p.state = static_cast<PathState>(r[0][3].as<int>());
        p.body = read_bytes(r[0][4]);
        p.age = std::chrono::seconds(std::max<std::int64_t>(0, r[0][5].as<std::int64_t>()));
        return p;
    };
    auto task = db_.run(std::move(query));
    co_return co_await std::move(task);
}

asio::awaitable<void> Store::save_path(NewPath path) {
    auto query = [path = std::move(path)](pqxx::connection& c) {
        pqxx::work w(c);
        const auto& d = path.direction;
        const auto& rec = path.record;
        w.exec_params(
            "INSERT INTO paths (path_id, initiator, responder, transaction_id, process_code,"
            " cipher, tunnel_key, temp_key, expires_at, trs_node_id, state, body)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8,"
            " make_timestamptz($9, $10, $11, 23, 59, 59, 'UTC'), NULLIF($12, ''::BYTEA), $13,"
            " $14)"
            " ON CONFLICT (path_id) DO UPDATE SET initiator = EXCLUDED.initiator,"
            " responder = EXCLUDED.responder, transaction_id = EXCLUDED.transaction_id,"
            " process_code = EXCLUDED.process_code, cipher = EXCLUDED.cipher,"
            " tunnel_key = EXCLUDED.tunnel_key, temp_key = EXCLUDED.temp_key,"
            " expires_at = EXCLUDED.expires_at, trs_node_id = EXCLUDED.trs_node_id,"
            " state = EXCLUDED.state, body = EXCLUDED.body, updated_at = now()",
            bin(rec.path_id), bin(rec.initiator), bin(rec.responder),
            static_cast<std::int64_t>(rec.transaction_id), static_cast<int>(d.process),
            static_cast<int>(d.cipher), bin(d.tunnel_key), bin(d.temp_key),
            static_cast<int>(d.expiry.year), static_cast<int>(d.expiry.month),
            static_cast<int>(d.expiry.day), path.trs ? bin(*path.trs) : pqxx::binarystring("", 0),
            static_cast<int>(rec.state), bin(rec.body));
        w.commit();
    };
    auto task = db_.run(std::move(query));
    co_await std::move(task);
}

asio::awaitable<bool> Store::confirm_path(PathId path, NodeId responder,
                                          std::uint32_t transaction_id) {
    auto query = [path, responder, transaction_id](pqxx::connection& c) {
        pqxx::work w(c);
        const auto r = w.exec_params(
            "UPDATE paths SET state = 2, updated_at = now() WHERE path_id = $1 AND responder = $2"
            " AND transaction_id = $3 AND state = 1",
            bin(path), bin(responder), static_cast<std::int64_t>(transaction_id));
        w.commit();
        return r.affected_rows() > 0;
    };
    auto task = db_.run(std::move(query));
    co_return co_await std::move(task);
}

asio::awaitable<void> Store::set_path_state(PathId path, std::uint32_t transaction_id,
                                            PathState state) {
    auto query = [path, transaction_id, state](pqxx::connection& c) {
        pqxx::work w(c);
        w.exec_params(
            "UPDATE paths SET state = $3, updated_at = now() WHERE path_id = $1"
            " AND transaction_id = $2",
            bin(path), static_cast<std::int64_t>(transaction_id), static_cast<int>(state));
        w.commit();
    };
    auto task = db_.run(std::move(query));
    co_await std::move(task);
}

asio::awaitable<std::vector<NodeId>> Store::claim_general_node_changes() {
    auto query = [](pqxx::connection& c) {
        pqxx::work w(c);
        // The fingerprint covers every field an adapter fetches from the controller API.
        const auto r = w.exec(
            "WITH current AS ("
            " SELECT a.node_id, md5(COALESCE(string_agg(g.device_id || '|' || COALESCE(g.mac, '')"
            "   || '|' || g.fqdn || '|' || COALESCE(host(g.virtual_ipv4), '') || '|'"
            "   || COALESCE(host(g.virtual_ipv6), '') || '|' || (g.password_hash IS NULL)::TEXT,"
            "   ',' ORDER BY g.device_id), '')) AS fingerprint"
            " FROM devices a LEFT JOIN devices g ON g.adapter_id = a.device_id"
            " WHERE a.kind = 2 GROUP BY a.node_id)"
            " INSERT INTO general_node_notified (adapter_node_id, fingerprint)"
            " SELECT node_id, fingerprint FROM current"
            " ON CONFLICT (adapter_node_id) DO UPDATE SET fingerprint = EXCLUDED.fingerprint,"
            " notified_at = now()"
            " WHERE general_node_notified.fingerprint <> EXCLUDED.fingerprint"
            " RETURNING adapter_node_id");
        w.commit();
        std::vector<NodeId> out;
        for (const auto& row : r) {
            NodeId::Raw raw{};
            if (read_fixed(row[0], raw)) {
                out.emplace_back(raw);
            }
        }
        return out;
    };
    auto task = db_.run(std::move(query));
    co_return co_await std::move(task);
}

asio::awaitable<std::int64_t> Store::mark_offline(std::chrono::seconds silence) {
    auto query = [silence](pqxx::connection& c) {
        pqxx::work w(c);
        const auto r = w.exec_params(
            "UPDATE node_locations SET online = false WHERE online AND"
            " last_seen < now() - make_interval(secs => $1)",
            static_cast<double>(silence.count()));
        w.commit();
        return static_cast<std::int64_t>(r.affected_rows());
    };
    auto task = db_.run(std::move(query));
    co_return co_await std::move(task);
}

asio::awaitable<std::int64_t> Store::count_online() {
    auto query = [](pqxx::connection& c) {
        pqxx::read_transaction t(c);
        return t.exec1("SELECT count(*) FROM node_locations WHERE online")[0].as<std::int64_t>();
    };
    auto task = db_.run(std::move(query));
    co_return co_await std::move(task);
}

asio::awaitable<std::int64_t> Store::count_active_paths() {
    auto query = [](pqxx::connection& c) {
        pqxx::read_transaction t(c);
        return t.exec1("SELECT count(*) FROM paths WHERE state = 3 AND expires_at > now()")[0]
            .as<std::int64_t>();
    };
    auto task = db_.run(std::move(query));
    co_return co_await std::move(task);
}

}  // namespace cyphonic::nms
