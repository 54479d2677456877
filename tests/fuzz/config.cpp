// Fuzz target: a configuration file's text through config::load_string (toml++, the schema
// walk, every check), then, when it loads, through zone::load and zone::compile, and a few
// queries answered from the result.
//
// A bad file must come back as config::Error listing every problem as "file:line:column: ...";
// any other exception, or a crash, is a bug. A file that loads must hold what config.hpp
// promises of a validated Config (absolute lower-case names, services inside a zone, ranges
// kept), and must compile into a snapshot whose apex SOA and service answers ldns reads back.
#include <toml++/toml.h>
#include "util/ldns.hpp"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "answer/respond.hpp"
#include "config/config.hpp"
#include "dns/name.hpp"
#include "fuzz.hpp"
#include "util/log.hpp"
#include "zone/compile.hpp"

namespace nolb::fuzz {
namespace {

constexpr const char* kPath = "fuzz.toml";

// The loader opens every zone file the text names, to report an unreadable one. Opening a device
// can have effects, so inputs that name a file outside the working folder (an absolute path, or
// one through "..") are skipped. The TOML is read here first so that escapes cannot hide one.
bool names_only_plain_files(const toml::node& node) {
    if (const toml::table* table = node.as_table()) {
        for (auto&& [key, value] : *table) {
            if (key.str() == "file" && value.is_string()) {
                const std::string& path = value.as_string()->get();
                if (path.starts_with("/") || path.find("..") != std::string::npos) return false;
            }
            if (!names_only_plain_files(value)) return false;
        }
    } else if (const toml::array* array = node.as_array()) {
        for (const toml::node& element : *array)
            if (!names_only_plain_files(element)) return false;
    }
    return true;
}

bool safe_to_load(std::string_view text) {
    try {
        return names_only_plain_files(toml::parse(text));
    } catch (const toml::parse_error&) {
        return true;  // nothing is opened for a file that does not parse
    }
}

bool absolute_lower(const std::string& name) {
    return !name.empty() && name.back() == '.' &&
           std::none_of(name.begin(), name.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

void check_health(const config::HealthCheck& h) {
    require(h.timeout <= h.interval, "a check's timeout is at most its interval");
    require(h.interval.count() > 0 && h.timeout.count() > 0, "a check's times are positive");
    require(h.rise >= 1 && h.fall >= 1, "rise and fall are at least 1");
    require(h.jitter >= 0 && h.jitter <= 1, "jitter is a fraction");
    for (const config::StatusRange& r : h.status)
        require(r.low <= r.high && r.low >= 100 && r.high <= 999, "status ranges are HTTP codes");
}

// What config.hpp says of a Config that load returned.
void check_config(const config::Config& c) {
    require(!c.zones.empty(), "a config serves at least one zone");
    require(!c.server.listen.empty(), "a config listens somewhere");
    require(c.server.workers >= 1 && c.server.workers <= 64, "workers in 1..64");
    require(c.server.edns_payload >= 512 && c.server.edns_payload <= 4096,
            "edns_payload in 512..4096");
    for (const config::Zone& z : c.zones) {
        require(absolute_lower(z.origin), "zone origins are absolute and lower case", z.origin);
        require(!z.ns.empty(), "a zone has name servers");
        for (const config::NameServer& ns : z.ns)
            require(!ns.name.empty() && ns.name.back() == '.', "NS names are absolute", ns.name);
    }
    for (const config::Service& s : c.services) {
        require(absolute_lower(s.name), "service names are absolute and lower case", s.name);
        dns::WireName wire;
        std::string error;
        require(dns::wire_from_text(s.name, dns::WireName(1, '\0'), wire, error),
                "a service name is a valid name", s.name);
        const bool inside = std::any_of(c.zones.begin(), c.zones.end(), [&](const auto& z) {
            dns::WireName origin;
            return dns::wire_from_text(z.origin, dns::WireName(1, '\0'), origin, error) &&
                   dns::is_subdomain(wire, origin);
        });
        require(inside, "a service is inside a configured zone", s.name);
        require(!s.nodes.empty(), "a service has nodes", s.name);
        check_health(s.health);
        for (const config::Node& n : s.nodes) {
            require(!n.addresses.empty(), "a node has addresses", n.name);
            require(n.probe_addresses.empty() || n.probe_addresses.size() == n.addresses.size(),
                    "probe_addresses pair with addresses", n.name);
            check_health(n.health);
        }
    }
}

std::vector<std::uint8_t> query(const std::string& name, std::uint16_t type) {
    std::vector<std::uint8_t> q = {0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    dns::WireName wire;
    std::string error;
    require(dns::wire_from_text(name, dns::WireName(1, '\0'), wire, error), "a loaded name parses",
            name);
    q.insert(q.end(), wire.begin(), wire.end());
    q.insert(q.end(),
             {static_cast<std::uint8_t>(type >> 8), static_cast<std::uint8_t>(type), 0, 1});
    return q;
}

// Asks the snapshot over TCP and checks that the response reads back with the expected rcode.
void ask(const zone::Snapshot& s, const std::string& name, std::uint16_t type) {
    static std::vector<std::uint8_t> out(65535);
    static util::Rng rng(1);
    answer::Counters counters;
    const std::vector<std::uint8_t> q = query(name, type);
    const std::size_t n = answer::answer_packet(s, q, answer::Transport::tcp, rng, out, counters);
    require(n >= dns::kHeaderSize, "a loaded name gets an answer", name);
    ldns_pkt* raw = nullptr;
    const ldns_status status = ldns_wire2pkt(&raw, out.data(), n);
    std::unique_ptr<ldns_pkt, decltype(&ldns_pkt_free)> pkt(raw, ldns_pkt_free);
    require(status == LDNS_STATUS_OK, "ldns reads the answer back", name);
    require(ldns_pkt_get_rcode(pkt.get()) == LDNS_RCODE_NOERROR,
            "a zone apex and a service name exist", name);
}

}  // namespace
}  // namespace nolb::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace nolb;
    using namespace nolb::fuzz;
    log::set_level(log::Level::error);
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (!safe_to_load(text)) return 0;

    config::Config c;
    try {
        c = config::load_string(text, kPath);
    } catch (const config::Error& e) {
        require(!e.problems().empty(), "config::Error lists its problems");
        for (const std::string& problem : e.problems())
            require(problem.starts_with(std::string(kPath) + ":"),
                    "every problem starts with the file's name", problem);
        return 0;
    }
    check_config(c);

    // Zone files are the zone_file target's business: this one reads only the config's records.
    for (config::Zone& z : c.zones)
        z.file.reset();
    std::shared_ptr<const zone::Model> model;
    try {
        model = zone::load(c);
    } catch (const config::Error& e) {
        require(!e.problems().empty(), "zone::load's config::Error lists its problems");
        return 0;
    }
    const auto snapshot = zone::compile(*model, {}, zone::next_serials(*model, {}));
    for (const config::Zone& z : c.zones)
        ask(*snapshot, z.origin, dns::type::SOA);
    for (const config::Service& s : c.services)
        for (std::uint16_t type : {dns::type::A, dns::type::AAAA})
            ask(*snapshot, s.name, type);
    return 0;
}
