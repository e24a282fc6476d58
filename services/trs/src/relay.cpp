#include "relay.hpp"

#include <algorithm>

#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

namespace cyphonic::trs {

namespace {

using signaling::Side;

Side side_of(const wire::BaseHeader& h) noexcept {
    return h.has(wire::flag::kSenderSide) ? Side::Set : Side::Clear;
}

Side other(Side s) noexcept {
    return s == Side::Set ? Side::Clear : Side::Set;
}

std::size_t index(Side s) noexcept {
    return static_cast<std::size_t>(s);
}

std::string_view name(Side s) noexcept {
    return s == Side::Set ? "responder" : "initiator";
}

void wipe(MutableByteView bytes) noexcept {
    if (!bytes.empty()) {
        OPENSSL_cleanse(bytes.data(), bytes.size());
    }
}

// The End Key a Tunnel Request or Response carries, if any.
Bytes* end_key_of(wire::Body& body) noexcept {
    if (auto* request = std::get_if<wire::TunnelRequest>(&body)) {
        return &request->end_key;
    }
    if (auto* response = std::get_if<wire::TunnelResponse>(&body)) {
        return response->end_key ? &*response->end_key : nullptr;
    }
    return nullptr;
}

}  // namespace

Expected<Relay, std::string> Relay::create(RelayOptions options, TrsMetrics& metrics) {
    // One cached answer per Relay Request in the last 30 s; a bound of the table size keeps
    // even a misbehaving (authenticated) NMS from growing it without limit.
    auto handlers = NmsHandlers::create(options.trs_id, std::move(options.service_keys),
                                        std::max<std::size_t>(options.max_entries, 1024),
                                        options.first_sequence);
    if (!handlers.has_value()) {
        return fail(handlers.error());
    }
    return Relay(RelayTable(options.max_entries, options.idle_timeout), std::move(*handlers),
                 metrics);
}

std::optional<Endpoint> Relay::slot(const PathId& path, Side side) const {
    const RelayEntry* entry = table_.peek(path);
    if (entry == nullptr) {
        return std::nullopt;
    }
    return entry->slots[index(side)];
}

void Relay::drop(wire::MessageType type, DropReason reason) {
    metrics_->dropped(reason);
    metrics_->request(type, RequestResult::Dropped);
}

void Relay::on_datagram(ByteView datagram, const Endpoint& from_raw, TimePoint now,
                        std::vector<Outgoing>& out) {
    out.clear();
    answers_.clear();
    if (datagram.size() > kMaxDatagram) {
        metrics_->dropped(DropReason::Oversized);
        return;
    }
    // §5.5 step 1: any failure drops the whole datagram.
    const auto messages = wire::split_datagram(datagram);
    if (!messages.has_value()) {
        metrics_->dropped(drop_reason(messages.error()));
        return;
    }
    const Endpoint from = normalized(from_raw);
    decisions_.clear();
    for (const auto& message : *messages) {
        decisions_.push_back(on_message(message, from, now, out));
    }
    emit_forwards(datagram, *messages, decisions_, out);
    metrics_->set_active_paths(table_.size());  // find() may have removed an idle entry
}

Relay::Decision Relay::on_message(const wire::MessageView& message, const Endpoint& from,
                                  TimePoint now, std::vector<Outgoing>& out) {
    const wire::MessageType type = message.header.type;
    switch (type) {
        case wire::MessageType::RelayRequest: {
            auto outcome = handlers_.on_relay_request(message, now, table_, plaintext_);
            if (outcome.drop) {
                metrics_->dropped(*outcome.drop);
            }
            metrics_->request(type, outcome.result);
            if (outcome.answer) {
                answers_.push_back(std::move(*outcome.answer));
                out.push_back({from, answers_.back()});
            }
            return {};
        }
        case wire::MessageType::HolePunching:
        case wire::MessageType::TunnelRequest:
        case wire::MessageType::TunnelResponse:
        case wire::MessageType::Ack:
        case wire::MessageType::Error:
            return on_path_message(message, from, now);
        case wire::MessageType::Capsule:
            return on_capsule(message, from, now);
        default:
            // NMS↔node signalling, Relay Response and the AS types never go to a TRS.
            drop(type, DropReason::UnexpectedType);
            return {};
    }
}

Relay::Decision Relay::on_path_message(const wire::MessageView& message, const Endpoint& from,
                                       TimePoint now) {
    const wire::BaseHeader& header = message.header;
    RelayEntry* entry = table_.find(header.path_id(), now);
    if (entry == nullptr) {
        // The TRS sends no request an NMS could answer with an ACK or Error.
        drop(header.type, handlers_.knows(header.node_id()) ? DropReason::UnexpectedType
                                                            : DropReason::UnknownId);
        return {};
    }
    // §5.5 step 3 under the Tunnel Key, with the window of the sender's side (D15).
    auto opened = entry->opener.open(message, plaintext_);
    if (!opened.has_value()) {
        const auto& e = opened.error();
        switch (e.stage) {
            case signaling::ReceiveError::Stage::Open:
                drop(header.type, drop_reason(e.open));
                break;
            case signaling::ReceiveError::Stage::Reflected:
                drop(header.type, DropReason::Reflected);  // not with own_side nullopt
                break;
            case signaling::ReceiveError::Stage::Replay:
                drop(header.type, drop_reason(e.replay));
                break;
            case signaling::ReceiveError::Stage::Decode:
                drop(header.type, DropReason::BadBody);
                break;
        }
        return {};
    }
    // §5.3: via TRS an End Key travels wrapped under the Temp Key, which the TRS never has.
    // A plain one would hand the TRS the key of the tunnel: refuse to relay it and forget it.
    if (Bytes* end_key = end_key_of(opened->body); end_key != nullptr) {
        const bool wrapped = header.has(wire::flag::kRelayed) &&
                             end_key->size() == entry->opener.suite().wrapped_key_size();
        if (!wrapped) {
            wipe(*end_key);
            wipe(std::span(plaintext_)
                     .first(std::min<std::size_t>(plaintext_.size(), header.message_length)));
            drop(header.type, DropReason::EndKeyNotWrapped);
            return {};
        }
    }
    // C20: a verified, fresh message binds its side's slot to its source; from a new source
    // it moves the slot there (NAT rebinding).
    const Side side = side_of(header);
    auto& slot = entry->slots[index(side)];
    if (slot != from) {
        spdlog::debug("relay slot {} path_id={} side={} peer={}", slot ? "moved" : "bound",
                      header.path_id(), name(side), from);
        slot = from;
    }
    entry->last_activity = now;
    const auto& peer = entry->slots[index(other(side))];
    if (!peer) {
        // The sender's retransmission or next keepalive delivers it (§7.4).
        drop(header.type, DropReason::OtherSlotEmpty);
        return {};
    }
    return {*peer};
}

Relay::Decision Relay::on_capsule(const wire::MessageView& message, const Endpoint& from,
                                  TimePoint now) {
    const wire::BaseHeader& header = message.header;
    RelayEntry* entry = table_.find(header.path_id(), now);
    if (entry == nullptr) {
        drop(header.type, DropReason::UnknownId);
        return {};
    }
    // The TRS cannot verify a Capsule (End Key). It trusts only its source: the slot of the
    // side the message claims (SENDER_SIDE, D15), bound by verified Tunnel-Key messages.
    const Side side = side_of(header);
    if (entry->slots[index(side)] != from) {
        drop(header.type, DropReason::UnboundSource);
        return {};
    }
    entry->last_activity = now;
    const auto& peer = entry->slots[index(other(side))];
    if (!peer) {
        drop(header.type, DropReason::OtherSlotEmpty);
        return {};
    }
    return {*peer};
}

void Relay::emit_forwards(ByteView datagram, const std::vector<wire::MessageView>& messages,
                          const std::vector<Decision>& decisions, std::vector<Outgoing>& out) {
    const auto forward = [&](const wire::MessageView& m) {
        metrics_->forwarded(m.header.type, m.bytes.size());
        metrics_->request(m.header.type, RequestResult::Forwarded);
    };
    // Count is inside the first message's MAC (C21), so a multi-message datagram can only be
    // relayed as it came: whole, when every message goes to the same end.
    if (messages.size() > 1 && decisions.front().forward_to &&
        std::all_of(decisions.begin(), decisions.end(), [&](const Decision& d) {
            return d.forward_to == decisions.front().forward_to;
        })) {
        out.push_back({*decisions.front().forward_to, datagram});
        std::for_each(messages.begin(), messages.end(), forward);
        return;
    }
    // Otherwise each message on its own: those with Count 0 are valid datagrams by themselves;
    // the first one, whose authenticated Count announces the others, is not.
    for (std::size_t i = 0; i < messages.size(); ++i) {
        if (!decisions[i].forward_to) {
            continue;
        }
        if (messages[i].header.count != 0) {
            drop(messages[i].header.type, DropReason::CountSplit);
            continue;
        }
        out.push_back({*decisions[i].forward_to, messages[i].bytes});
        forward(messages[i]);
    }
}

std::size_t Relay::sweep(TimePoint now) {
    const std::size_t removed = table_.sweep(now);
    handlers_.sweep(now);
    metrics_->set_active_paths(table_.size());
    return removed;
}

}  // namespace cyphonic::trs
