#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <pqxx/pqxx>

#include "addressing.hpp"

#include "cyphonic/core/address.hpp"
#include "cyphonic/core/ids.hpp"
#include "cyphonic/crypto/secret_bytes.hpp"
#include "cyphonic/db/database.hpp"
#include "cyphonic/net/asio.hpp"
#include "cyphonic/wire/types.hpp"

// All SQL of cyphonic-as (tables `devices` and `nms_keys`, sql/001_devices.sql). Nothing else
// in the service talks to the database.
namespace cyphonic::as {

std::span<const db::Migration> migrations();

using SystemTime = std::chrono::system_clock::time_point;

// The kind of a device is the Exec Mode it logs in with (C13).
enum class DeviceKind : std::uint8_t { Node = 1, Adapter = 2, GeneralNode = 3 };
[[nodiscard]] std::string_view to_string(DeviceKind k) noexcept;  // node, adapter, general
[[nodiscard]] std::optional<DeviceKind> parse_device_kind(std::string_view text) noexcept;

struct DeviceRecord {
    std::string device_id;
    DeviceKind kind = DeviceKind::Node;
    std::optional<std::string> password_hash;
    bool cert_login = false;
    std::optional<std::string> adapter_id;  // general nodes only
    std::optional<std::string> mac;         // general nodes only, "aa:bb:cc:dd:ee:ff"
    NodeId node_id;
    std::string fqdn;
    std::optional<Ipv4Address> virtual_ipv4;
    std::optional<Ipv6Address> virtual_ipv6;
    int failed_logins = 0;
    std::optional<SystemTime> locked_until;
    bool locked = false;  // locked_until is in the future by the database's clock
};

// The failure counter after one more failed login.
struct FailureState {
    int failed_logins = 0;
    std::optional<SystemTime> locked_until;  // set once the device is locked
};

// Lock policy (docs/DECISIONS.md AS-3): after `max_failures` consecutive failures a device is
// locked for min(2^(failures − max_failures), lock_max_s) seconds.
struct LockPolicy {
    int max_failures = 5;
    int lock_max_s = 300;
};

// An NMS key to record for a node at login.
struct IssuedKey {
    wire::CipherSuiteId cipher = wire::CipherSuiteId::Aes256Gcm;
    crypto::Key key;
    std::string expires_at;  // "YYYY-MM-DD 23:59:59+00" (C4)
};

// What the login logic and the controller API need, as coroutines resuming on the caller's
// executor; an interface so the logic can be tested without a server. Database errors are
// thrown (pqxx exceptions) and turned into INTERNAL by the caller.
//
// g++ 12 destroys a lambda temporary twice when it sits in a co_await full-expression (seen
// with Database::run and co_spawn): the queries below capture only references to their own
// coroutine frame, so their closures are trivially destructible.
class Store {
public:
    virtual ~Store() = default;
    virtual asio::awaitable<std::optional<DeviceRecord>> find_device(std::string device_id) = 0;
    virtual asio::awaitable<std::optional<DeviceRecord>> find_by_mac(std::string mac) = 0;
    // Counts a failed login of an existing device and locks it per the policy.
    virtual asio::awaitable<FailureState> record_failure(std::string device_id) = 0;
    // Stores the node's new NMS key (generation + 1) and clears its failure counter; returns
    // the generation.
    virtual asio::awaitable<std::int64_t> complete_login(NodeId node_id, IssuedKey key) = 0;
    // The general nodes whose adapter is `adapter_id`, ordered by device_id.
    virtual asio::awaitable<std::vector<DeviceRecord>> general_nodes_of(std::string adapter_id) = 0;
    // Nodes holding an NMS key that has not expired.
    virtual asio::awaitable<std::int64_t> count_active_nodes() = 0;
};

class PgStore final : public Store {
public:
    PgStore(db::Database& db, LockPolicy policy) : db_(db), policy_(policy) {}

    asio::awaitable<std::optional<DeviceRecord>> find_device(std::string device_id) override;
    asio::awaitable<std::optional<DeviceRecord>> find_by_mac(std::string mac) override;
    asio::awaitable<FailureState> record_failure(std::string device_id) override;
    asio::awaitable<std::int64_t> complete_login(NodeId node_id, IssuedKey key) override;
    asio::awaitable<std::vector<DeviceRecord>> general_nodes_of(std::string adapter_id) override;
    asio::awaitable<std::int64_t> count_active_nodes() override;

private:
    db::Database& db_;
    LockPolicy policy_;
};

// ---- Enrolment (device CLI): blocking calls on one connection --------------------------------

// An operator mistake in an enrolment command; what() is the message to print.
class EnrolError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct NewDevice {
    std::string device_id;
    DeviceKind kind = DeviceKind::Node;
    std::optional<std::string> password_hash;
    bool cert_login = false;
    std::optional<std::string> adapter_id;
    std::optional<std::string> mac;  // any case; stored lower case
};

struct AddressPools {
    std::string domain;
    Ipv4Prefix ipv4;
    Ipv6Prefix ipv6;
};

// "aa:bb:cc:dd:ee:ff" in lower case, or nullopt when `text` is not a MAC in that form (either
// case accepted).
[[nodiscard]] std::optional<std::string> normalize_mac(std::string_view text);

// Checks the device (DeviceID a DNS label, FQDN valid, adapter and MAC rules), draws a NodeID,
// assigns the lowest free virtual IPv4/IPv6 and inserts it, retrying when a concurrent
// enrolment took the same address. Throws EnrolError for operator mistakes, pqxx errors
// otherwise.
DeviceRecord add_device(pqxx::connection& c, const NewDevice& device, const AddressPools& pools);
[[nodiscard]] std::vector<DeviceRecord> list_devices(pqxx::connection& c);
// Removes the device (an adapter's general nodes go with it); returns the DeviceIDs removed.
// Throws EnrolError when there is no such device.
std::vector<std::string> remove_device(pqxx::connection& c, const std::string& device_id);

// Applies cyphonic-as migrations; returns the versions applied now.
std::vector<int> migrate(pqxx::connection& c);

}  // namespace cyphonic::as
