#include "cyphonic/core/text.hpp"

namespace cyphonic {

std::string json_string(std::string_view text) {
    constexpr std::string_view kHex = "0123456789abcdef";
    std::string out = "\"";
    for (const char ch : text) {
        const auto u = static_cast<unsigned char>(ch);
        if (ch == '"' || ch == '\\') {
            out += '\\';
            out += ch;
        } else if (u < 0x20) {
            out += "\\u00";
            out += kHex[u >> 4U];
            out += kHex[u & 0x0fU];
        } else {
            out += ch;
        }
    }
    return out + "\"";
}

std::string snake_case(std::string_view pascal_case) {
    std::string out;
    out.reserve(pascal_case.size() + 4);
    for (std::size_t i = 0; i < pascal_case.size(); ++i) {
        const char c = pascal_case[i];
        if (c >= 'A' && c <= 'Z') {
            if (i > 0) {
                out.push_back('_');
            }
            out.push_back(static_cast<char>(c - 'A' + 'a'));
        } else {
            out.push_back(c);
        }
    }
    return out;
}

}  // namespace cyphonic
