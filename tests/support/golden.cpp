#include "support/golden.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace cyphonic::golden {

std::filesystem::path path(const std::string& name) {
    return std::filesystem::path(CYPHONIC_GOLDEN_DIR) / name;
}

Bytes hex(std::string_view text) {
    std::string digits;
    std::istringstream lines{std::string(text)};
    for (std::string line; std::getline(lines, line);) {
        const auto first = line.find_first_not_of(" \t");
        if (first != std::string::npos && line[first] == '#') {
            continue;
        }
        digits += line;
        digits += '\n';
    }
    auto bytes = from_hex(digits);
    if (!bytes) {
        throw std::runtime_error("golden: not valid hex: " + std::string(text.substr(0, 40)));
    }
    return *bytes;
}

Bytes read(const std::string& name) {
    std::ifstream in(path(name));
    if (!in) {
        throw std::runtime_error("golden: cannot open " + path(name).string());
    }
    std::stringstream content;
    content << in.rdbuf();
    return hex(content.str());
}

void write(const std::string& name, const std::string& comment, ByteView bytes) {
    std::filesystem::create_directories(path(name).parent_path());
    std::ofstream out(path(name));
    out << "# " << comment << "\n";
    for (std::size_t i = 0; i < bytes.size(); i += 32) {
        out << to_hex(bytes.subspan(i, std::min<std::size_t>(32, bytes.size() - i))) << "\n";
    }
    if (!out) {
        throw std::runtime_error("golden: cannot write " + path(name).string());
    }
}

bool writing() {
    const char* v = std::getenv("CYPHONIC_WRITE_GOLDEN");
    return v != nullptr && std::string_view(v) == "1";
}

}  // namespace cyphonic::golden
