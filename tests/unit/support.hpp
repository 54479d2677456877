// Shared helpers for unit tests: a small zone built in code, queries built with ldns (the
// reference implementation) and responses parsed back with it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "answer/respond.hpp"
#include "config/config.hpp"
#include "util/ldns.hpp"
#include "zone/compile.hpp"

namespace nolb::test {

struct PktFree {
    void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
using Pkt = std::unique_ptr<ldns_pkt, PktFree>;

inline util::IpAddress ip(const char* text) {
    return *util::IpAddress::parse(text);
}

inline config::Node node(const char* name, std::vector<util::IpAddress> addresses) {
    config::Node n;
    n.name = name;
    n.addresses = std::move(addresses);
    return n;
}

// demo.test. with NS ns1 (glue), a service www with two nodes (v4 and v6), static records of
// several kinds, a CNAME chain, a wildcard, an empty non-terminal and a delegation.
inline config::Config demo_config() {
    config::Config c;
    c.path = "test.toml";
    config::Zone z;
    z.origin = "demo.test.";
    z.ttl = 3600;
    z.soa.mname = "ns1.demo.test.";
    z.soa.rname = "hostmaster.demo.test.";
    z.soa.serial = 2024010101;
    z.soa.minimum = 60;
    z.ns.push_back({"ns1.demo.test.", {ip("127.0.0.1"), ip("::1")}, {}});
    for (const char* r : {"@ MX 10 mail", "mail A 192.0.2.25", "info TXT \"hello\" \"world\"",
                          "alias CNAME alias2", "alias2 CNAME www", "out CNAME www.example.",
                          "dangling CNAME nowhere", "*.wild TXT \"wild\"", "a.b.c A 192.0.2.7",
                          "sub NS ns.sub", "sub NS ns.elsewhere.example.", "ns.sub A 192.0.2.53",
                          "unk TYPE65534 \\# 3 abcdef", "srv._tcp SRV 0 5 80 www"})
        z.records.push_back({r, {}});
    c.zones.push_back(z);
    config::Service s;
    s.name = "www.demo.test.";
    s.ttl = 20;
    s.nodes.push_back(node("london", {ip("127.0.0.2"), ip("2001:db8::2")}));
    s.nodes.push_back(node("geneva", {ip("127.0.0.3"), ip("2001:db8::3")}));
    c.services.push_back(s);
    return c;
}

// `c` with api.demo.test., four nodes n0..n3 at 192.0.2.10-13 (TTL 30): a second service, so
// that a zone's changes can touch one service and not the other.
inline config::Config with_api(config::Config c) {
    config::Service api;
    api.name = "api.demo.test.";
    api.ttl = 30;
    for (int n = 0; n < 4; ++n)
        api.nodes.push_back(node(("n" + std::to_string(n)).c_str(),
                                 {ip(("192.0.2." + std::to_string(10 + n)).c_str())}));
    c.services.push_back(api);
    return c;
}

struct QueryOptions {
    std::uint16_t qclass = LDNS_RR_CLASS_IN;
    bool edns = false;
    std::uint16_t udp_size = 1232;
    std::uint8_t edns_version = 0;
    std::uint8_t opcode = LDNS_PACKET_QUERY;
    bool rd = false;
};

inline std::vector<std::uint8_t> make_query(const std::string& name, ldns_rr_type type,
                                            QueryOptions o = {}) {
    ldns_pkt* raw = nullptr;
    ldns_pkt_query_new_frm_str(&raw, name.c_str(), type, static_cast<ldns_rr_class>(o.qclass),
                               o.rd ? LDNS_RD : 0);
    Pkt pkt(raw);
    ldns_pkt_set_id(pkt.get(), 0x1234);
    ldns_pkt_set_opcode(pkt.get(), static_cast<ldns_pkt_opcode>(o.opcode));
    if (o.edns) {
        ldns_pkt_set_edns_udp_size(pkt.get(), o.udp_size);
        ldns_pkt_set_edns_version(pkt.get(), o.edns_version);
        ldns_pkt_set_edns_data(pkt.get(), ldns_rdf_new_frm_data(LDNS_RDF_TYPE_UNKNOWN, 0, ""));
    }
    std::uint8_t* wire = nullptr;
    std::size_t size = 0;
    ldns_pkt2wire(&wire, pkt.get(), &size);
    std::vector<std::uint8_t> out(wire, wire + size);
    free(wire);
    return out;
}

struct Responder {
    std::shared_ptr<const zone::Snapshot> snapshot;
    util::Rng rng{42};
    answer::Counters counters;
    std::vector<std::uint8_t> buffer = std::vector<std::uint8_t>(65535);

    explicit Responder(const config::Config& c) : snapshot(zone::compile(c)) {}

    // Raw bytes of the response (empty when dropped).
    std::vector<std::uint8_t> raw(const std::vector<std::uint8_t>& query,
                                  answer::Transport t = answer::Transport::udp) {
        std::size_t n = answer::answer_packet(*snapshot, query, t, rng, buffer, counters);
        return {buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n)};
    }

    Pkt ask(const std::vector<std::uint8_t>& query, answer::Transport t = answer::Transport::udp) {
        auto bytes = raw(query, t);
        if (bytes.empty()) return nullptr;
        ldns_pkt* pkt = nullptr;
        if (ldns_wire2pkt(&pkt, bytes.data(), bytes.size()) != LDNS_STATUS_OK) return nullptr;
        return Pkt(pkt);
    }

    Pkt ask(const std::string& name, ldns_rr_type type, QueryOptions o = {}) {
        return ask(make_query(name, type, o));
    }
};

inline std::vector<std::string> rr_strings(ldns_rr_list* list) {
    std::vector<std::string> out;
    for (std::size_t i = 0; list && i < ldns_rr_list_rr_count(list); ++i) {
        char* s = ldns_rr2str(ldns_rr_list_rr(list, i));
        std::string line = s;
        free(s);
        while (!line.empty() && line.back() == '\n')
            line.pop_back();
        out.push_back(line);
    }
    return out;
}

}  // namespace nolb::test
