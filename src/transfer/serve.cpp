#include "transfer/serve.hpp"

#include <cstring>
#include <vector>

#include "dns/name.hpp"
#include "dns/tsig.hpp"
#include "dns/wire.hpp"
#include "util/log.hpp"

namespace nolb::transfer {
namespace {

using Bytes = std::vector<std::uint8_t>;

// RFC 1982: whether serial `a` is at or after `b`.
bool serial_at_or_after(std::uint32_t a, std::uint32_t b) {
    return a == b || static_cast<std::int32_t>(a - b) > 0;
}

// The octets a TSIG record signed with `key` takes, with `other` octets of other data.
std::size_t tsig_size(const dns::tsig::Key& key, std::size_t other = 0) {
    // NAME, TYPE, CLASS, TTL, RDLENGTH; then the algorithm, time (6), fudge, MAC size, MAC,
    // original ID, error and other length (2 each), other data.
    return key.name.size() + 10 + dns::tsig::algorithm_wire(key.algorithm).size() + 16 +
           dns::tsig::mac_size(key.algorithm) + other;
}

// Copies `message` into `out`; 0 when it does not fit (it always does: callers leave room).
std::size_t put(const Bytes& message, std::span<std::uint8_t> out) {
    if (message.size() > out.size()) return 0;
    std::memcpy(out.data(), message.data(), message.size());
    return message.size();
}

// Signs the complete message of `size` octets in `out` as the response to `signing`'s request;
// returns its new size (0 if it no longer fits, which the callers' reserve rules out).
std::size_t sign(std::span<std::uint8_t> out, std::size_t size, const Signing& signing) {
    Bytes m(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(size));
    dns::tsig::Signer(*signing.key, signing.request_mac, signing.now).sign(m);
    return put(m, out);
}

// The zone whose apex the question names, if any.
std::optional<std::uint32_t> zone_of(const zone::Snapshot& s, const dns::Query& q) {
    const zone::Node* node = s.find(q.name, q.name_size);
    if (node == nullptr || node->zone >= s.zones.size()) return std::nullopt;
    const auto index = static_cast<std::uint32_t>(node - s.nodes.data());
    if (s.zones[node->zone].apex != index) return std::nullopt;
    return node->zone;
}

// The deltas that lead from `serial` to `current`, the serial of the snapshot being served; empty
// when the journal does not hold that whole chain (it may already hold a newer serial than the
// snapshot this worker reads, or no longer reach back to `serial`).
std::vector<std::shared_ptr<const Delta>> chain(const Journal& journal, std::uint32_t serial,
                                                std::uint32_t current) {
    std::vector<std::shared_ptr<const Delta>> out;
    for (std::shared_ptr<const Delta>& d : journal.since(serial)) {
        const std::uint32_t to = d->to;
        out.push_back(std::move(d));
        if (to == current) return out;
    }
    return {};
}

}  // namespace

std::optional<std::uint32_t> ixfr_serial(std::span<const std::uint8_t> message) {
    dns::Reader r(message.data(), message.size());
    r.skip(4);
    const std::uint16_t qdcount = r.u16(), ancount = r.u16(), nscount = r.u16();
    r.skip(2);
    for (std::uint16_t i = 0; i < qdcount && !r.failed(); ++i) {
        dns::skip_name(r);
        r.skip(4);
    }
    for (std::uint32_t i = 0; i < std::uint32_t{ancount} + nscount && !r.failed(); ++i) {
        dns::skip_name(r);
        const std::uint16_t type = r.u16();
        r.skip(6);
        const std::uint16_t rdlength = r.u16();
        const std::size_t rdata_end = r.pos() + rdlength;
        if (rdata_end > message.size()) return std::nullopt;
        if (i >= ancount && type == dns::type::SOA && !r.failed()) {
            dns::skip_name(r);  // MNAME
            dns::skip_name(r);  // RNAME
            const std::uint32_t serial = r.u32();
            if (r.failed() || r.pos() + 16 != rdata_end) return std::nullopt;
            return serial;
        }
        r.skip(rdlength);
    }
    return std::nullopt;
}

void Totals::add(const Totals& o) {
    axfr += o.axfr;
    ixfr += o.ixfr;
    up_to_date += o.up_to_date;
    refused += o.refused;
    not_zone += o.not_zone;
    tsig_errors += o.tsig_errors;
    signed_other += o.signed_other;
}

Totals Tally::read() const {
    return {axfr.get(),     ixfr.get(),        up_to_date.get(),  refused.get(),
            not_zone.get(), tsig_errors.get(), signed_other.get()};
}

void Responder::log_refusal(const std::optional<util::IpAddress>& client, std::uint64_t now,
                            const char* what, const std::string& detail) {
    const std::string who = client ? client->to_string() : "(not an IP client)";
    auto [entry, fresh] = logged_.try_emplace(who, now);
    if (!fresh && now < entry->second + 60) return;
    entry->second = now;
    if (logged_.size() > 4096) logged_.clear();  // a scan from many addresses: forget, log again
    log::warning(what, {{"client", who}, {"detail", detail}});
}

void Responder::note(const zone::Snapshot& snapshot, std::uint32_t zone,
                     const std::optional<util::IpAddress>& client, std::uint64_t now,
                     const char* last, const std::uint32_t* held, const std::uint32_t* sent) {
    if (secondaries_ == nullptr || !client) return;
    secondaries_->note(snapshot.zones[zone].origin_text, client->to_string(), last,
                       static_cast<double>(now), held, sent);
}

Served Responder::serve(const zone::Snapshot& snapshot, const State& state,
                        std::span<const std::uint8_t> message, const dns::Query& q,
                        util::Transport transport, const std::optional<util::IpAddress>& client,
                        std::uint64_t now, util::Rng& rng, std::span<std::uint8_t> out) {
    Served served;
    // Writes a response with no data, signed like the request if it was.
    auto error = [&](std::uint16_t rcode, const std::optional<Signing>& signing) {
        served.size = answer::respond_error(snapshot, q, rcode, out);
        if (signing && served.size > 0) served.size = sign(out, served.size, *signing);
        return std::move(served);
    };

    std::optional<Signing> signing;
    if (q.has_tsig) {
        dns::tsig::Record record;
        const dns::tsig::Found found = dns::tsig::find(message, record);
        if (found != dns::tsig::Found::found) {
            tally_.tsig_errors.add();
            return error(dns::rcode::FORMERR, std::nullopt);
        }
        const std::span<const dns::tsig::Key> keys =
            state.access ? state.access->keys() : std::span<const dns::tsig::Key>{};
        const dns::tsig::Verdict verdict = dns::tsig::verify_request(message, record, keys, now);
        if (verdict.error != dns::tsig::Error::none) {
            tally_.tsig_errors.add();
            log_refusal(client, now, "TSIG signature rejected",
                        std::string(dns::tsig::error_name(verdict.error)) + ", key " +
                            dns::text_from_wire(record.key_name));
            served.size = answer::respond_error(snapshot, q, dns::rcode::NOTAUTH, out);
            if (served.size == 0) return served;
            Bytes m(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(served.size));
            if (verdict.error == dns::tsig::Error::badtime && verdict.key != nullptr) {
                // Signed, over the request's time so that the client can check it, with the
                // server's time in the other data (RFC 8945 §5.2.3).
                const std::uint8_t other[6] = {
                    static_cast<std::uint8_t>(now >> 40), static_cast<std::uint8_t>(now >> 32),
                    static_cast<std::uint8_t>(now >> 24), static_cast<std::uint8_t>(now >> 16),
                    static_cast<std::uint8_t>(now >> 8),  static_cast<std::uint8_t>(now)};
                dns::tsig::Signer(*verdict.key, record.mac, record.time_signed)
                    .sign(m, dns::tsig::Error::badtime, other);
            } else {
                dns::tsig::append_unsigned(m, record, verdict.error);
            }
            served.size = put(m, out);
            return served;
        }
        signing = Signing{verdict.key, record.mac, now};
    }

    const bool transfer = q.status == dns::ParseStatus::ok && q.opcode == dns::opcode::QUERY &&
                          q.has_question &&
                          (q.qtype == dns::type::AXFR || q.qtype == dns::type::IXFR) &&
                          q.qclass == dns::cls::IN && (!q.edns.present || q.edns.version == 0);
    if (!transfer) {
        // A signed query like any other, or a transfer question respond() refuses or rejects.
        if (signing) tally_.signed_other.add();
        const std::size_t reserve = signing ? tsig_size(*signing->key) : 0;
        served.size = answer::respond(snapshot, q, transport, rng, out, reserve);
        if (signing && served.size > 0) served.size = sign(out, served.size, *signing);
        return served;
    }

    const std::optional<std::uint32_t> zone = zone_of(snapshot, q);
    if (!zone) {
        tally_.not_zone.add();
        return error(dns::rcode::NOTAUTH, signing);
    }
    const Decision decision =
        state.access && client
            ? state.access->decide(*zone, *client, signing ? signing->key : nullptr)
            : Decision::not_allowed;
    if (decision != Decision::allowed) {
        tally_.refused.add();
        note(snapshot, *zone, client, now, "refused", nullptr, nullptr);
        log_refusal(client, now, "zone transfer refused",
                    std::string(decision == Decision::unsigned_ ? "not signed with a key of "
                                                                : "address not allowed for ") +
                        snapshot.zones[*zone].origin_text);
        return error(dns::rcode::REFUSED, signing);
    }

    Request request{q.id, q.flags, {q.question, q.question_size}, std::move(signing)};
    const std::uint32_t current = snapshot.zones[*zone].serial;
    std::optional<MessageStream> stream;
    if (q.qtype == dns::type::AXFR) {
        // Not an access refusal (counted by rcode only): AXFR is a TCP exchange (RFC 5936 §4.2).
        if (transport == util::Transport::udp) return error(dns::rcode::REFUSED, request.signing);
        tally_.axfr.add();
        note(snapshot, *zone, client, now, "axfr", nullptr, &current);
        stream.emplace(axfr(request, snapshot, *zone));
    } else {
        const std::optional<std::uint32_t> theirs = ixfr_serial(message);
        if (!theirs) return error(dns::rcode::FORMERR, request.signing);
        const std::uint32_t* held = &*theirs;
        std::vector<std::shared_ptr<const Delta>> deltas;
        if (transport == util::Transport::tcp && !serial_at_or_after(*theirs, current) &&
            *zone < state.journals.size())
            deltas = chain(state.journals[*zone], *theirs, current);
        if (transport == util::Transport::udp || serial_at_or_after(*theirs, current)) {
            // Over UDP the SOA alone says what is current; only TCP brings the change.
            tally_.up_to_date.add();
            note(snapshot, *zone, client, now, "up_to_date", held,
                 transport == util::Transport::tcp ? &current : nullptr);
            stream.emplace(ixfr(request, snapshot, *zone, {}));
        } else if (!deltas.empty()) {
            tally_.ixfr.add();
            note(snapshot, *zone, client, now, "ixfr", held, &current);
            stream.emplace(ixfr(request, snapshot, *zone, std::move(deltas)));
        } else {
            tally_.axfr.add();  // the journal does not reach their serial: the whole zone
            note(snapshot, *zone, client, now, "axfr", held, &current);
            stream.emplace(axfr(request, snapshot, *zone));
        }
    }
    served.size = stream->next(out);
    if (transport == util::Transport::tcp)
        served.more = std::make_unique<MessageStream>(std::move(*stream));
    return served;
}

}  // namespace nolb::transfer
