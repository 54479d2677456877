// Fuzz target: a master file (RFC 1035 §5) through zone::read_zone_file (ldns), then as the
// `file` of a zone through zone::load, zone::compile and queries for every name it holds.
//
// Checks: every problem names the file and a line; every record read has valid wire names;
// loading fails only with config::Error and compiling never fails; every name of the zone, and
// a name below each, gets an answer that ldns reads back, with the query's ID and question,
// NOERROR or NXDOMAIN, never REFUSED; a UDP answer fits the client's limit and, untruncated,
// holds what the TCP one does; and a name that holds an RRset of the asked type, away from
// CNAMEs and zone cuts, gets exactly that RRset over TCP.
#include <sys/mman.h>
#include <unistd.h>
#include "util/ldns.hpp"

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "answer/respond.hpp"
#include "config/config.hpp"
#include "dns/name.hpp"
#include "fuzz.hpp"
#include "util/log.hpp"
#include "zone/compile.hpp"
#include "zone/model.hpp"

namespace nolb::fuzz {
namespace {

struct PktFree {
    void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
using Pkt = std::unique_ptr<ldns_pkt, PktFree>;

// The input lives in an anonymous memory file, reached by a path as any zone file is.
class MemoryFile {
  public:
    MemoryFile() : fd_(memfd_create("fuzz.zone", MFD_CLOEXEC)) {
        require(fd_ >= 0, "memfd_create works");
        path_ = "/proc/self/fd/" + std::to_string(fd_);
    }
    void write(const std::uint8_t* data, std::size_t size) {
        require(ftruncate(fd_, 0) == 0, "the memory file can be emptied");
        std::size_t done = 0;
        while (done < size) {
            const ssize_t n = pwrite(fd_, data + done, size - done, static_cast<off_t>(done));
            require(n > 0, "the memory file can be written");
            done += static_cast<std::size_t>(n);
        }
    }
    const std::string& path() const { return path_; }

  private:
    int fd_;
    std::string path_;
};

bool valid_wire_name(const std::string& name) {
    std::size_t i = 0;
    while (i < name.size()) {
        const auto len = static_cast<std::uint8_t>(name[i]);
        if (len == 0) return i + 1 == name.size() && name.size() <= dns::kMaxNameSize;
        if (len > dns::kMaxLabelSize) return false;
        i += len + 1u;
    }
    return false;
}

config::Config zone_config(const std::string& file) {
    config::Config c;
    c.path = "fuzz.toml";
    config::Zone z;
    z.origin = "fuzz.test.";
    z.soa.mname = "ns1.fuzz.test.";
    z.soa.rname = "hostmaster.fuzz.test.";
    z.soa.serial = 1;
    z.ns.push_back({"ns1.fuzz.test.", {*util::IpAddress::parse("192.0.2.53")}, {}});
    z.file = file;
    c.zones.push_back(z);
    config::Service s;
    s.name = "www.fuzz.test.";
    config::Node n;
    n.name = "london";
    n.addresses = {*util::IpAddress::parse("192.0.2.1"), *util::IpAddress::parse("2001:db8::1")};
    s.nodes.push_back(n);
    c.services.push_back(s);
    return c;
}

// A query for `name`, with an OPT offering 1232 octets when `edns`.
std::vector<std::uint8_t> query(const dns::WireName& name, std::uint16_t type, bool edns) {
    std::vector<std::uint8_t> q = {0xab, 0xcd, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    q[11] = edns ? 1 : 0;  // ARCOUNT
    q.insert(q.end(), name.begin(), name.end());
    q.insert(q.end(),
             {static_cast<std::uint8_t>(type >> 8), static_cast<std::uint8_t>(type), 0, 1});
    if (edns) q.insert(q.end(), {0, 0, 41, 1232 >> 8, 1232 & 0xff, 0, 0, 0, 0, 0, 0});
    return q;
}

// True when `name` is at or below a delegation (an NS below the apex) of the model's zone.
bool at_or_below_cut(const zone::Model& model, const zone::NodeData& node) {
    const dns::WireName& apex = model.zones[node.zone].origin;
    for (dns::WireName p = node.name; p.size() > apex.size(); p = dns::parent_of(p)) {
        auto it = model.nodes.find(p);
        if (it != model.nodes.end() && it->second.rrsets.count(dns::type::NS)) return true;
    }
    return false;
}

Pkt ask(const zone::Snapshot& s, const dns::WireName& name, std::uint16_t type,
        answer::Transport transport, bool edns = false) {
    static std::vector<std::uint8_t> out(65535);
    static util::Rng rng(1);
    answer::Counters counters;
    const std::vector<std::uint8_t> q = query(name, type, edns);
    const std::size_t question = name.size() + 4;
    const std::size_t n = answer::answer_packet(s, q, transport, rng, out, counters);
    require(n >= dns::kHeaderSize + question, "every name of the zone gets an answer");
    require(std::memcmp(out.data(), q.data(), 2) == 0, "the answer has the query's ID");
    require(std::memcmp(out.data() + 12, q.data() + 12, question) == 0,
            "the answer echoes the question");
    if (transport == answer::Transport::udp)
        require(n <= (edns ? 1232u : 512u), "a UDP answer fits the client's limit");
    ldns_pkt* raw = nullptr;
    const ldns_status status = ldns_wire2pkt(&raw, out.data(), n);
    Pkt pkt(raw);
    require(status == LDNS_STATUS_OK, "ldns reads the answer back",
            ldns_get_errorstr_by_id(status));
    const ldns_pkt_rcode rcode = ldns_pkt_get_rcode(pkt.get());
    require(rcode == LDNS_RCODE_NOERROR || rcode == LDNS_RCODE_NXDOMAIN,
            "a name of the zone gets NOERROR or NXDOMAIN");
    return pkt;
}

}  // namespace
}  // namespace nolb::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace nolb;
    using namespace nolb::fuzz;
    log::set_level(log::Level::error);
    static MemoryFile file;
    file.write(data, size);

    dns::WireName origin;
    std::string error;
    require(dns::wire_from_text("fuzz.test.", dns::WireName(1, '\0'), origin, error),
            "the origin parses");
    std::vector<std::string> problems;
    const std::vector<zone::ParsedRecord> records =
        zone::read_zone_file(file.path(), origin, 3600, problems);
    for (const std::string& problem : problems)
        require(problem.starts_with(file.path() + ":"), "a problem names the file", problem);
    for (const zone::ParsedRecord& r : records) {
        require(valid_wire_name(r.owner), "an owner is a valid wire name");
        require(r.line >= 1, "a record has its line");
        for (const zone::Piece& piece : r.rdata.pieces)
            require(!piece.is_name || valid_wire_name(piece.bytes),
                    "a name in RDATA is a valid wire name");
    }

    std::shared_ptr<const zone::Model> model;
    try {
        model = zone::load(zone_config(file.path()));
    } catch (const config::Error& e) {
        require(!e.problems().empty(), "config::Error lists its problems");
        return 0;
    }
    const auto snapshot = zone::compile(*model, {}, zone::next_serials(*model, {}));

    // Every name (up to a bound), for ANY, for a type it may lack (NODATA, or the end of a CNAME
    // chain), and for each type it holds, checked against the RRset.
    std::size_t asked = 0;
    for (const auto& [name, node] : model->nodes) {
        if (++asked > 64) break;
        const bool plain = !node.rrsets.count(dns::type::CNAME) && !at_or_below_cut(*model, node);
        for (std::uint16_t type : {dns::type::ANY, dns::type::A})
            ask(*snapshot, name, type, answer::Transport::udp);
        // A name below it: a wildcard, NXDOMAIN or a referral, with the compression pointers
        // re-aimed for a longer question.
        if (name.size() + 6 <= dns::kMaxNameSize) {
            const dns::WireName below = dns::WireName("\5below", 6) + name;
            ask(*snapshot, below, dns::type::TXT, answer::Transport::udp, true);
            ask(*snapshot, below, dns::type::A, answer::Transport::tcp);
        }
        for (const auto& [type, rrset] : node.rrsets) {
            if (type == dns::type::SOA) continue;  // rendered with the snapshot's serial
            const Pkt tcp = ask(*snapshot, name, type, answer::Transport::tcp);
            require(!ldns_pkt_tc(tcp.get()), "loading refuses what would not fit a TCP answer");
            const Pkt udp = ask(*snapshot, name, type, answer::Transport::udp, true);
            // ldns takes the OPT out of the additional section and its count.
            if (!ldns_pkt_tc(udp.get()))
                require(ldns_pkt_ancount(udp.get()) == ldns_pkt_ancount(tcp.get()) &&
                            ldns_pkt_nscount(udp.get()) == ldns_pkt_nscount(tcp.get()) &&
                            ldns_pkt_arcount(udp.get()) == ldns_pkt_arcount(tcp.get()),
                        "an untruncated UDP answer holds what the TCP one does");
            if (!plain) continue;
            ldns_rr_list* answer = ldns_pkt_answer(tcp.get());
            const std::size_t count = answer ? ldns_rr_list_rr_count(answer) : 0;
            require(count == rrset.rdatas.size(), "a name's RRset is answered whole over TCP");
            for (std::size_t i = 0; i < count; ++i)
                require(ldns_rr_get_type(ldns_rr_list_rr(answer, i)) == type,
                        "the answer holds the asked type");
        }
    }
    return 0;
}
