#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "cyphonic/core/address.hpp"
#include "cyphonic/core/expected.hpp"
#include "cyphonic/net/as_client.hpp"

// What cyphonic-adapterd keeps on disk so a restart resumes at once, before the cloud answers
// (4.2.2.3): the general-node list as the controller API gave it and the gateway addresses (the
// adapter's own virtual IPs). No keys: a restarted adapter always logs in again for fresh ones
// (PROTOCOL.md §5.4).
namespace cyphonic::adapterd {

struct SavedState {
    std::vector<net::GeneralNodeEntry> general_nodes;
    std::optional<Ipv4Address> gateway_v4;
    std::optional<Ipv6Address> gateway_v6;
    friend bool operator==(const SavedState&, const SavedState&) = default;
};

// Missing files give an empty state; unreadable or malformed ones an error naming the file.
[[nodiscard]] Expected<SavedState, std::string> load_state(const std::filesystem::path& dir);
// Writes each file to a temporary name, fsyncs and renames it: a crash leaves the old or the new
// file, never half of one.
[[nodiscard]] Expected<void, std::string> save_state(const std::filesystem::path& dir,
                                                     const SavedState& state);

}  // namespace cyphonic::adapterd
