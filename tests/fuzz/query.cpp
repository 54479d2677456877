// Fuzz target: one DNS message, as a client could send it over UDP or TCP, through
// dns::parse_query and answer::respond against snapshots of tests/fuzz/data/query.toml (two
// zones, one delegated to the other, a master file, services with IPv4 and IPv6 nodes,
// wildcards, CNAME chains, delegations with glue, CHAOS names), offering 1232 and 4096 octets to
// EDNS clients. server/ frames TCP messages inside TcpServer, on its sockets, so the framing
// is not reached from here.
//
// It checks what the answering rules promise, not only that nothing crashes: a message that is a
// response or shorter than a header gets nothing; any other gets a response that ldns reads
// back, with the query's ID, opcode, RD and question (bytes as sent), QR set and RA clear; a
// malformed QUERY gets FORMERR (another opcode NOTIMP and a NOTIFY REFUSED, whatever the rest
// holds); a UDP response fits the client's limit and only UDP sets TC; TCP
// and UDP agree on the rcode and, when UDP is not truncated, on every byte count; OPT comes back
// exactly when a valid one was sent; the answer section starts at the query name.
#include "util/ldns.hpp"

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "answer/respond.hpp"
#include "config/config.hpp"
#include "dns/query.hpp"
#include "fuzz.hpp"
#include "util/log.hpp"
#include "zone/compile.hpp"

namespace nolb::fuzz {
namespace {

struct PktFree {
    void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
using Pkt = std::unique_ptr<ldns_pkt, PktFree>;

// The two snapshots every message is answered from: query.toml as written (EDNS payload 1232,
// CHAOS on), and the same data offering 4096 octets with CHAOS off.
const std::vector<std::shared_ptr<const zone::Snapshot>>& snapshots() {
    static const std::vector<std::shared_ptr<const zone::Snapshot>> compiled = [] {
        log::set_level(log::Level::error);
        config::Config c = config::load(data_path("query.toml"));
        std::vector<std::shared_ptr<const zone::Snapshot>> out{zone::compile(c)};
        c.server.edns_payload = 4096;
        c.server.chaos = false;
        out.push_back(zone::compile(c));
        return out;
    }();
    return compiled;
}

// The UDP size limit the answering rules give, computed here from the raw OPT fields.
std::size_t udp_limit(const zone::Snapshot& s, const dns::Query& q) {
    if (!q.edns.present || !q.edns.valid) return 512;
    const std::size_t client = std::max<std::size_t>(q.edns.udp_payload, 512);
    const std::size_t ours = std::max<std::size_t>(s.edns_payload, 512);
    return std::min(client, ours);
}

std::uint16_t word(const std::uint8_t* p) {
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

// The checks every response must pass, whatever the query; returns it as ldns read it.
Pkt check_response(const zone::Snapshot& s, const std::uint8_t* query, std::size_t query_size,
                   const dns::Query& q, const std::vector<std::uint8_t>& out, std::size_t n,
                   answer::Transport t) {
    require(n >= dns::kHeaderSize, "a response holds at least a header");
    require(n <= out.size(), "the response fits the buffer");
    if (t == answer::Transport::udp)
        require(n <= udp_limit(s, q), "a UDP response fits the client's limit");
    require(word(out.data()) == word(query), "the response carries the query's ID");
    const std::uint16_t flags = word(out.data() + 2);
    const std::uint16_t asked = word(query + 2);
    require((flags & dns::flag::QR) != 0, "QR is set");
    require((flags & dns::flag::RA) == 0, "RA is clear");
    require((flags & dns::flag::OPCODE_MASK) == (asked & dns::flag::OPCODE_MASK),
            "the opcode is echoed");
    require((flags & dns::flag::RD) == (asked & dns::flag::RD), "RD is echoed");
    if (t == answer::Transport::tcp) require((flags & dns::flag::TC) == 0, "TCP never sets TC");

    if (q.has_question) {
        require(word(out.data() + 4) == 1, "the question is echoed");
        require(dns::kHeaderSize + q.question_size <= n && q.question_size <= query_size &&
                    std::memcmp(out.data() + dns::kHeaderSize, query + dns::kHeaderSize,
                                q.question_size) == 0,
                "the question is echoed byte for byte, case included");
    } else {
        require(word(out.data() + 4) == 0, "no question without one to echo");
    }

    ldns_pkt* raw = nullptr;
    const ldns_status status = ldns_wire2pkt(&raw, out.data(), n);
    Pkt pkt(raw);
    require(status == LDNS_STATUS_OK, "ldns reads the response back",
            ldns_get_errorstr_by_id(status));

    const bool opt_back = ldns_pkt_edns(pkt.get()) || ldns_pkt_edns_udp_size(pkt.get()) != 0;
    require(opt_back == (q.edns.present && q.edns.valid),
            "OPT comes back exactly when the query had a valid one");
    if (opt_back) {
        require(ldns_pkt_edns_udp_size(pkt.get()) == s.edns_payload,
                "the OPT advertises edns_payload");
        require(ldns_pkt_edns_version(pkt.get()) == 0, "the OPT is version 0");
    }
    // The opcode is judged first: QDCOUNT and the rest are a QUERY's format.
    if (q.opcode == dns::opcode::NOTIFY)
        require(ldns_pkt_get_rcode(pkt.get()) == LDNS_RCODE_REFUSED, "a NOTIFY gets REFUSED");
    else if (q.opcode != dns::opcode::QUERY)
        require(ldns_pkt_get_rcode(pkt.get()) == LDNS_RCODE_NOTIMPL,
                "an opcode other than QUERY and NOTIFY gets NOTIMP");
    else if (q.status == dns::ParseStatus::formerr)
        require(ldns_pkt_get_rcode(pkt.get()) == LDNS_RCODE_FORMERR,
                "a malformed query gets FORMERR");

    // The answer section starts at the query name: the name itself, a wildcard synthesised for
    // it, or the first CNAME of a chain.
    ldns_rr_list* answer = ldns_pkt_answer(pkt.get());
    if (answer && ldns_rr_list_rr_count(answer) > 0) {
        ldns_rr_list* question = ldns_pkt_question(pkt.get());
        require(question && ldns_rr_list_rr_count(question) == 1, "answers follow a question");
        require(ldns_dname_compare(ldns_rr_owner(ldns_rr_list_rr(answer, 0)),
                                   ldns_rr_owner(ldns_rr_list_rr(question, 0))) == 0,
                "the first answer is owned by the query name");
    }
    return pkt;
}

// Differential check of the question parser against ldns: when both accept the message they
// must read the same name, type and class.
void compare_with_ldns(const std::uint8_t* data, std::size_t size, const dns::Query& q) {
    if (q.status != dns::ParseStatus::ok) return;
    ldns_pkt* raw = nullptr;
    if (ldns_wire2pkt(&raw, data, size) != LDNS_STATUS_OK) return;
    Pkt pkt(raw);
    ldns_rr_list* question = ldns_pkt_question(pkt.get());
    require(question && ldns_rr_list_rr_count(question) == 1, "ldns sees one question too");
    const ldns_rr* rr = ldns_rr_list_rr(question, 0);
    const ldns_rdf* owner = ldns_rr_owner(rr);
    std::vector<std::uint8_t> lowered(ldns_rdf_data(owner),
                                      ldns_rdf_data(owner) + ldns_rdf_size(owner));
    for (auto& c : lowered)
        c = dns::lower(c);
    require(lowered.size() == q.name_size && std::memcmp(lowered.data(), q.name, q.name_size) == 0,
            "the question name matches ldns'");
    require(ldns_rr_get_type(rr) == q.qtype, "the question type matches ldns'");
    require(ldns_rr_get_class(rr) == q.qclass, "the question class matches ldns'");
}

// Answers one parsed message from one snapshot, checking everything above.
void answer_from(const zone::Snapshot& s, const std::uint8_t* data, std::size_t size,
                 const dns::Query& q, bool drop) {
    static util::Rng rng(1);
    static std::vector<std::uint8_t> udp(65535), tcp(65535), again(65535);
    const std::size_t n_udp = answer::respond(s, q, answer::Transport::udp, rng, udp);
    const std::size_t n_tcp = answer::respond(s, q, answer::Transport::tcp, rng, tcp);
    if (drop) {
        require(n_udp == 0 && n_tcp == 0, "a dropped message gets no response");
        return;
    }
    require(n_udp > 0 && n_tcp > 0, "every message that is not dropped gets a response");
    const Pkt u = check_response(s, data, size, q, udp, n_udp, answer::Transport::udp);
    const Pkt t = check_response(s, data, size, q, tcp, n_tcp, answer::Transport::tcp);

    require(ldns_pkt_get_rcode(u.get()) == ldns_pkt_get_rcode(t.get()),
            "UDP and TCP give the same rcode");
    if (!ldns_pkt_tc(u.get())) {
        require(n_udp == n_tcp, "an untruncated UDP response is the TCP response");
        require(ldns_pkt_ancount(u.get()) == ldns_pkt_ancount(t.get()) &&
                    ldns_pkt_nscount(u.get()) == ldns_pkt_nscount(t.get()) &&
                    ldns_pkt_arcount(u.get()) == ldns_pkt_arcount(t.get()),
                "an untruncated UDP response has the TCP response's sections");
    } else {
        require(n_udp <= n_tcp, "a truncated response is shorter");
    }

    // The shuffle changes the order of addresses, never the size.
    const std::size_t n_again = answer::respond(s, q, answer::Transport::udp, rng, again);
    require(n_again == n_udp, "answering again gives a response of the same size");

    // What every transport calls: parse and respond in one, with counters.
    answer::Counters counters;
    const std::size_t n_packet =
        answer::answer_packet(s, {data, size}, answer::Transport::tcp, rng, again, counters);
    require(n_packet == n_tcp, "answer_packet answers as parse_query and respond do");
    const answer::Totals totals = counters.read();
    std::uint64_t by_rcode = 0;
    for (std::uint64_t c : totals.by_rcode)
        by_rcode += c;
    require(totals.queries == 1 && totals.dropped == 0 && by_rcode == 1,
            "answer_packet counts the query once");
}

}  // namespace
}  // namespace nolb::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace nolb;
    using namespace nolb::fuzz;
    // A TCP message is at most 65535 octets; the same buffer size serves both transports.
    if (size > 65535) return 0;

    dns::Query q;
    dns::parse_query({data, size}, q);
    const bool drop = size < dns::kHeaderSize || (data[2] & 0x80) != 0;
    require((q.status == dns::ParseStatus::drop) == drop,
            "exactly responses and messages shorter than a header are dropped");
    compare_with_ldns(data, size, q);
    for (const auto& s : snapshots())
        answer_from(*s, data, size, q, drop);
    return 0;
}
