#include "support/cloud.hpp"

#include <cstring>
#include <filesystem>
#include <sstream>

#include <pqxx/pqxx>

#include "cyphonic/crypto/random.hpp"

namespace cyphonic::testing {

std::string make_cloud_database(const TestPostgres& pg, const std::string& name) {
    const std::string info = pg.create_database(name);
    // The AS schema from its migration files, in order (the AS binary is tested on its own).
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(std::string(CYPHONIC_SOURCE_DIR) +
                                                             "/services/as/sql")) {
        files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
        const auto [status, out] =
            run({"psql", info, "-v", "ON_ERROR_STOP=1", "-q", "-f", f.string()});
        if (status != 0) {
            throw std::runtime_error("applying " + f.string() + ": " + out);
        }
    }
    const auto [status, out] = run({CYPHONIC_NMS_BIN, "migrate", "--set", "db.conninfo=" + info,
                                    "--set", "nms.node_id=00000000000000000000000000000001"});
    if (status != 0) {
        throw std::runtime_error("cyphonic-nms migrate: " + out);
    }
    return info;
}

namespace {
pqxx::binarystring bin(ByteView b) {
    return {b.data(), b.size()};
}
}  // namespace

TestNode enrol_node(const std::string& conninfo, const std::string& device_id, int index) {
    TestNode n;
    n.device_id = device_id;
    n.node_id = crypto::random_id<NodeIdTag>();
    n.fqdn = device_id + ".cyphonic.test";
    // 10.77.<hi>.<lo> and fd77::<hi>:<lo>, unique for up to 63,750 nodes.
    const int hi = index / 250;
    const int lo = index % 250 + 1;
    const auto v4 = Ipv4Address::parse("10.77." + std::to_string(hi) + "." + std::to_string(lo));
    const auto v6 = Ipv6Address::parse("fd77::" + std::to_string(hi) + ":" + std::to_string(lo));
    if (!v4 || !v6 || hi > 255) {
        throw std::invalid_argument("enrol_node: index out of range");
    }
    n.virtual_ipv4 = *v4;
    n.virtual_ipv6 = *v6;
    crypto::random_bytes(n.nms_key);
    pqxx::connection c(conninfo);
    pqxx::work w(c);
    w.exec_params(
        "INSERT INTO devices (device_id, kind, node_id, fqdn, virtual_ipv4, virtual_ipv6)"
        " VALUES ($1, 1, $2, $3, $4::INET, $5::INET)",
        device_id, bin(n.node_id.bytes()), n.fqdn, n.virtual_ipv4.to_string(),
        n.virtual_ipv6.to_string());
    w.exec_params(
        "INSERT INTO nms_keys (node_id, cipher, key, expires_at, generation)"
        " VALUES ($1, 2, $2, now() + interval '1 day', 1)",
        bin(n.node_id.bytes()), bin(n.nms_key));
    w.commit();
    return n;
}

void rotate_key(const std::string& conninfo, TestNode& node) {
    crypto::random_bytes(node.nms_key);
    ++node.generation;
    pqxx::connection c(conninfo);
    pqxx::work w(c);
    w.exec_params("UPDATE nms_keys SET key = $2, generation = $3 WHERE node_id = $1",
                  bin(node.node_id.bytes()), bin(node.nms_key), node.generation);
    w.commit();
}

std::string http_get(const Endpoint& server, const std::string& path) {
    asio::io_context io;
    asio::ip::tcp::socket socket(io);
    boost::system::error_code ec;
    asio::ip::address_v4::bytes_type b{};
    std::memcpy(b.data(), server.address.v4().bytes.data(), 4);
    socket.connect({asio::ip::address_v4(b), server.port}, ec);
    if (ec) {
        return "";
    }
    const std::string request = "GET " + path + " HTTP/1.1\r\nHost: test\r\n\r\n";
    asio::write(socket, asio::buffer(request), ec);
    std::string response;
    std::array<char, 8192> chunk{};
    for (;;) {
        const std::size_t n = socket.read_some(asio::buffer(chunk), ec);
        response.append(chunk.data(), n);
        if (ec) {
            break;
        }
    }
    return response;
}

double metric(const std::string& text, const std::string& sample) {
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind(sample + " ", 0) == 0) {
            return std::stod(line.substr(sample.size() + 1));
        }
    }
    return 0;
}

}  // namespace cyphonic::testing
