// zone::Compiler renders a change from the previous snapshot, rendering again only what reads
// the services that changed and the SOA. Whatever the sequence of changes, every question must
// get byte for byte the response a whole rendering (zone::compile) gives for the same
// addresses and serials: for every name, type and transport, through answer::respond.
#include <gtest/gtest.h>

#include <random>

#include "dns/name.hpp"
#include "dns/query.hpp"
#include "health/plan.hpp"
#include "unit/health/states.hpp"
#include "unit/support.hpp"

namespace nolb::test {
namespace {

// demo.test. (see demo_config) with its service read in every way an answer can read one: its
// own name, a CNAME chain (alias -> alias2 -> www), SRV and MX additional records, and glue of
// a delegation (sub2); a service with IPv4 and IPv6 (api) and one at a wildcard (*.pool), each
// behind a CNAME; and apex.test., a zone with a fixed serial and a service at its apex.
config::Config rich_config() {
    config::Config c = demo_config();
    c.server.chaos = true;
    c.server.identity = "test";
    for (const char* r : {"@ MX 20 www", "sub2 NS www", "sub2 NS ns.elsewhere.example.",
                          "to-api CNAME api", "to-pool CNAME x.pool", "to-nowhere CNAME y.nopool"})
        c.zones[0].records.push_back({r, {}});
    config::Service api;
    api.name = "api.demo.test.";
    api.ttl = 30;
    api.nodes.push_back(node("london", {ip("127.0.0.10"), ip("2001:db8::10")}));
    api.nodes.push_back(node("paris", {ip("127.0.0.11")}));
    api.nodes.push_back(node("rome", {ip("127.0.0.12"), ip("2001:db8::12")}));
    c.services.push_back(api);
    config::Service pool;
    pool.name = "*.pool.demo.test.";
    pool.ttl = 10;
    pool.nodes.push_back(node("london", {ip("127.0.0.20")}));
    pool.nodes.push_back(node("geneva", {ip("127.0.0.21")}));
    c.services.push_back(pool);

    config::Zone z;
    z.origin = "apex.test.";
    z.ttl = 600;
    z.soa.mname = "ns1.apex.test.";
    z.soa.rname = "hostmaster.apex.test.";
    z.soa.serial = 7;
    z.soa.minimum = 30;
    z.ns.push_back({"ns1.apex.test.", {ip("192.0.2.1")}, {}});
    z.records.push_back({"info TXT \"apex\"", {}});
    c.zones.push_back(z);
    config::Service apex;
    apex.name = "apex.test.";
    apex.ttl = 60;
    apex.nodes.push_back(node("london", {ip("192.0.2.50"), ip("2001:db8::50")}));
    apex.nodes.push_back(node("geneva", {ip("192.0.2.51")}));
    c.services.push_back(apex);
    return c;
}

// Every name the snapshot holds, and names it answers through wildcards, negative answers and
// referrals; asked for each type, over UDP without EDNS (512 octets: cuts) and over TCP.
std::vector<std::vector<std::uint8_t>> all_queries(const zone::Snapshot& s) {
    std::vector<std::string> names = {
        "nothere.demo.test.",   "a.b.pool.demo.test.", "x.wild.demo.test.", "host.sub.demo.test.",
        "host.sub2.demo.test.", "nothere.apex.test.",  "b.demo.test.",      "WWW.Demo.Test."};
    for (const zone::Node& n : s.nodes) {
        const std::uint8_t* at = s.node_name(n);
        names.push_back(dns::text_from_wire(dns::WireName(at, at + n.name_size)));
    }
    const ldns_rr_type types[] = {
        LDNS_RR_TYPE_A,   LDNS_RR_TYPE_AAAA, LDNS_RR_TYPE_ANY,  LDNS_RR_TYPE_SOA,
        LDNS_RR_TYPE_NS,  LDNS_RR_TYPE_MX,   LDNS_RR_TYPE_TXT,  LDNS_RR_TYPE_CNAME,
        LDNS_RR_TYPE_SRV, LDNS_RR_TYPE_DS,   LDNS_RR_TYPE_NULL, static_cast<ldns_rr_type>(65534)};
    std::vector<std::vector<std::uint8_t>> out;
    for (const std::string& name : names)
        for (ldns_rr_type type : types)
            out.push_back(make_query(name, type));
    QueryOptions chaos;
    chaos.qclass = LDNS_RR_CLASS_CH;
    out.push_back(make_query("version.bind.", LDNS_RR_TYPE_TXT, chaos));
    out.push_back(make_query("id.server.", LDNS_RR_TYPE_A, chaos));
    return out;
}

std::vector<std::uint8_t> response(const zone::Snapshot& s, const std::vector<std::uint8_t>& query,
                                   answer::Transport transport) {
    dns::Query q;
    dns::parse_query(query, q);
    util::Rng rng(7);  // the same draws for both snapshots: the same shuffle
    std::vector<std::uint8_t> out(65535);
    out.resize(answer::respond(s, q, transport, rng, out));
    return out;
}

std::string describe(const std::vector<std::uint8_t>& query) {
    ldns_pkt* raw = nullptr;
    if (ldns_wire2pkt(&raw, query.data(), query.size()) != LDNS_STATUS_OK) return "?";
    Pkt pkt(raw);
    char* text = ldns_rr_list2str(ldns_pkt_question(pkt.get()));
    std::string out = text ? text : "?";
    free(text);
    return out;
}

// Asserts that both snapshots answer every query with the same bytes.
void expect_same_answers(const zone::Snapshot& changed, const zone::Snapshot& whole,
                         const std::vector<std::vector<std::uint8_t>>& queries,
                         const std::string& step) {
    for (const auto& query : queries) {
        for (answer::Transport t : {answer::Transport::udp, answer::Transport::tcp}) {
            ASSERT_EQ(response(changed, query, t), response(whole, query, t))
                << step << ": " << describe(query)
                << (t == answer::Transport::udp ? " (udp)" : " (tcp)");
        }
    }
}

zone::Availability everything(const zone::Model& model) {
    zone::Availability out;
    for (const zone::ServiceModel& s : model.services)
        out.emplace_back(s.addresses.size(), true);
    return out;
}

TEST(Compiler, EveryChangeAnswersAsAWholeRendering) {
    auto model = zone::load(rich_config());
    zone::Compiler compiler(model);
    zone::Availability available = everything(*model);
    std::vector<std::uint32_t> serials = {1000, 7};
    const auto queries = all_queries(*zone::compile(*model, available, serials));

    auto snapshot = compiler.render(available, serials);
    EXPECT_TRUE(compiler.last_work().full);
    expect_same_answers(*snapshot, *zone::compile(*model, available, serials), queries, "first");

    std::mt19937 random(12345);
    bool packed = false;
    for (int step = 0; step < 150; ++step) {
        const std::size_t service = random() % available.size();
        std::vector<bool>& row = available[service];
        switch (step % 5) {
            case 0:  // a service goes from some to none published, or back to all
                row.assign(row.size(), !std::count(row.begin(), row.end(), true));
                break;
            case 1:  // nothing changes but the serial
                break;
            default:  // one address flips
                row[random() % row.size()].flip();
                break;
        }
        if (step % 3 != 2) ++serials[0];  // an automatic serial moves; apex.test.'s is fixed
        // Every other step as the publisher does it, naming the one service it may have changed
        // (a row named but unchanged is rendered again, to the same answers).
        snapshot = step % 2 ? compiler.render(available, serials, {service})
                            : compiler.render(available, serials);
        EXPECT_FALSE(compiler.last_work().full);
        packed = packed || compiler.last_work().packed;
        expect_same_answers(*snapshot, *zone::compile(*model, available, serials), queries,
                            "step " + std::to_string(step));
        if (HasFatalFailure()) return;
    }
    EXPECT_TRUE(packed) << "garbage never grew enough to be packed";
}

TEST(Compiler, RendersOnlyTheReadersOfWhatChanged) {
    auto model = zone::load(rich_config());
    zone::Compiler compiler(model);
    zone::Availability available = everything(*model);
    const std::vector<std::uint32_t> serials = {1000, 7};
    const auto first = compiler.render(available, serials);
    const std::size_t all = compiler.last_work().nodes;
    EXPECT_EQ(all, first->nodes.size());

    // www (service 0) loses an address: www itself, alias and alias2 (the CNAME chain ends
    // there), srv._tcp (SRV target) and the apex (MX target) are rendered again, and sub2's
    // referral (glue); nothing else, not even the SOA readers: the serial stayed.
    available[0][0] = false;
    const auto second = compiler.render(available, serials);
    EXPECT_EQ(compiler.last_work().services, 1u);
    EXPECT_EQ(compiler.last_work().nodes, 5u);
    EXPECT_EQ(compiler.last_work().referrals, 1u);
    expect_same_answers(*second, *zone::compile(*model, available, serials), all_queries(*first),
                        "www lost an address");
    // The previous snapshot is untouched: workers may still be reading it.
    Responder r(demo_config());
    r.snapshot = first;
    EXPECT_EQ(ldns_pkt_ancount(r.ask("www.demo.test.", LDNS_RR_TYPE_A).get()), 2);
    r.snapshot = second;
    EXPECT_EQ(ldns_pkt_ancount(r.ask("www.demo.test.", LDNS_RR_TYPE_A).get()), 1);

    // The serial moves alone: only what carries demo.test.'s SOA.
    const auto third = compiler.render(available, {1001, 7});
    EXPECT_EQ(compiler.last_work().services, 0u);
    EXPECT_GT(compiler.last_work().nodes, 0u);
    EXPECT_LT(compiler.last_work().nodes, all / 2);
    r.snapshot = third;
    auto soa = r.ask("nothere.demo.test.", LDNS_RR_TYPE_A);
    ASSERT_EQ(ldns_pkt_nscount(soa.get()), 1);
    EXPECT_EQ(
        ldns_rdf2native_int32(ldns_rr_rdf(ldns_rr_list_rr(ldns_pkt_authority(soa.get()), 0), 2)),
        1001u);
}

// States as the monitor gives them, `up` or down as listed (in config order).
std::vector<health::AddressState> states(const config::Config& c, const std::vector<bool>& up) {
    std::vector<health::Observed> observed;
    for (bool u : up)
        observed.push_back(u ? health::Observed::up : health::Observed::down);
    return address_states(c, observed);
}

TEST(Compiler, DrainsAndAllDownAnswerAsAWholeRendering) {
    config::Config c = rich_config();
    for (config::Service& s : c.services)
        s.health.type = config::HealthMode::http;
    c.services[1].all_down = config::AllDown::none;  // api
    auto model = zone::load(c);
    zone::Compiler compiler(model);
    const auto queries = all_queries(*zone::compile(*model, {}, {1000, 7}));

    // Addresses in config order: www 4 (london v4 v6, geneva v4 v6), api 5 (london v4 v6,
    // paris v4, rome v4 v6), pool 2, apex 3.
    std::vector<bool> up(14, true);
    health::Drains drains;
    std::uint32_t serial = 1000;
    auto publish = [&](const std::string& step) {
        const auto available = health::availability(health::plan(c, states(c, up), drains));
        const std::vector<std::uint32_t> serials = {serial++, 7};
        const auto changed = compiler.render(available, serials);
        expect_same_answers(*changed, *zone::compile(*model, available, serials), queries, step);
    };
    publish("all up");
    up[0] = false;
    publish("www london v4 down");
    up[2] = false;
    publish("www v4 all down: all_down = all fails open");
    drains = health::drains_from({"www.demo.test./geneva"});
    publish("www geneva drained");
    up[0] = up[2] = true;
    publish("www v4 back up");
    up[4] = up[6] = up[7] = false;
    publish("api v4 all down: all_down = none publishes none");
    up[5] = up[8] = false;
    publish("api from some to none published");
    drains = health::drains_from({"london"});
    publish("london drained everywhere");
    drains = {};
    std::fill(up.begin(), up.end(), true);
    publish("everything back");
}

}  // namespace
}  // namespace nolb::test
