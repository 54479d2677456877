// The configuration schema: what each key of a good file turns into, the defaults of the keys
// left out, and how each kind of mistake in a key is reported (file:line:column, the dotted key,
// a reason). read_config is given the parsed document, as config::load gives it.
#include "config/schema.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "util/version.hpp"

namespace nolb::config {
namespace {

const std::string kSourceDir = NOLB_SOURCE_DIR;

// The schema's reading of `text`: the Config, or an Error with every problem, as
// config::load_string gives them; relative paths hang from the folder of `path`.
Config read(std::string_view text, const std::string& path = "t.toml") {
    Value document = parse_document(text, path);
    Context ctx(path, std::filesystem::path(path).parent_path());
    Config config;
    read_config(document, config, ctx);
    if (auto problems = ctx.take_problems(); !problems.empty()) throw Error(std::move(problems));
    return config;
}

// Reads `text` expecting it to fail, and returns the problems.
std::vector<std::string> problems(std::string_view text, const std::string& path = "t.toml") {
    try {
        read(text, path);
    } catch (const Error& e) {
        return e.problems();
    }
    ADD_FAILURE() << "read without errors:\n" << text;
    return {};
}

// The only problem of `text`.
std::string problem(std::string_view text) {
    auto all = problems(text);
    if (all.size() != 1) {
        std::string joined;
        for (const auto& p : all)
            joined += "\n  " + p;
        ADD_FAILURE() << "expected one problem, got " << all.size() << ":" << joined;
        return all.empty() ? "" : all.front();
    }
    return all.front();
}

util::IpAddress ip(const char* text) {
    return *util::IpAddress::parse(text);
}

// A zone that needs nothing else: the tests below add one mistake at a time.
constexpr const char* kMinimal = R"([[zone]]
origin = "demo.test."
[[zone.ns]]
name = "ns1.example.net."
)";

std::string with_minimal(std::string_view tail) {
    return kMinimal + std::string(tail);
}

// The same zone with `keys` (starting on line 3) in its [[zone]] table.
std::string zone_with(std::string_view keys) {
    return "[[zone]]\norigin = \"demo.test.\"\n" + std::string(keys) +
           "[[zone.ns]]\nname = \"ns1.example.net.\"\n";
}

TEST(Schema, FullConfigRoundTrips) {
    const std::string path = kSourceDir + "/conf/full.toml";  // only names the text
    Config c = read(R"([server]
listen = ["192.0.2.1:5300", "[2001:db8::1]:5300", "192.0.2.2"]
workers = 4
edns_payload = 1400
tcp_idle_timeout = 2.5
tcp_max_connections = 1000
chaos = true
identity = "ns-a"
version = "hidden"
log_level = "debug"

[[zone]]
origin = "Demo.TEST"
ttl = 600
file = "zones/demo.test.zone"
records = ["@ MX 10 mail", "mail A 192.0.2.25"]
[[zone.ns]]
name = "NS1"
addresses = ["192.0.2.53", "2001:db8::53"]
[[zone.ns]]
name = "ns.Example.NET."
[zone.soa]
mname = "@"
rname = "John.Doe@Demo.Test"
serial = 2024010101
refresh = 1
retry = 2
expire = 3
minimum = 4
ttl = 5

[[service]]
name = "WWW.demo.test"
ttl = 30
health = "none"
[[service.node]]
name = "london"
addresses = ["192.0.2.10", "2001:db8::10"]
[[service.node]]
name = "geneva-2"
addresses = ["192.0.2.11"]
)",
                    path);

    const Server& s = c.server;
    ASSERT_EQ(s.listen.size(), 3u);
    EXPECT_EQ(s.listen[0].to_string(), "192.0.2.1:5300");
    EXPECT_EQ(s.listen[1].to_string(), "[2001:db8::1]:5300");
    EXPECT_EQ(s.listen[2].to_string(), "192.0.2.2:53");
    EXPECT_EQ(s.workers, 4u);
    EXPECT_EQ(s.edns_payload, 1400);
    EXPECT_EQ(s.tcp_idle_timeout, std::chrono::milliseconds(2500));
    EXPECT_EQ(s.tcp_max_connections, 1000u);
    EXPECT_TRUE(s.chaos);
    EXPECT_EQ(s.identity, "ns-a");
    EXPECT_EQ(s.version, "hidden");
    EXPECT_EQ(s.log_level, "debug");

    ASSERT_EQ(c.zones.size(), 1u);
    const Zone& z = c.zones[0];
    EXPECT_EQ(z.origin, "demo.test.");
    EXPECT_EQ(z.ttl, 600u);
    EXPECT_EQ(z.where.to_string(), path + ":12:1");
    ASSERT_TRUE(z.file.has_value());
    EXPECT_EQ(*z.file, kSourceDir + "/conf/zones/demo.test.zone");
    ASSERT_EQ(z.records.size(), 2u);
    EXPECT_EQ(z.records[0].text, "@ MX 10 mail");
    EXPECT_EQ(z.records[1].text, "mail A 192.0.2.25");
    EXPECT_EQ(z.records[1].where.to_string(), path + ":16:28");
    ASSERT_EQ(z.ns.size(), 2u);
    EXPECT_EQ(z.ns[0].name, "ns1.demo.test.");
    EXPECT_EQ(z.ns[0].addresses, (std::vector{ip("192.0.2.53"), ip("2001:db8::53")}));
    EXPECT_EQ(z.ns[0].where.line, 17u);
    EXPECT_EQ(z.ns[1].name, "ns.example.net.");
    EXPECT_TRUE(z.ns[1].addresses.empty());
    EXPECT_EQ(z.soa.mname, "demo.test.");
    EXPECT_EQ(z.soa.rname, "john\\.doe.demo.test.");
    EXPECT_EQ(z.soa.serial, 2024010101u);
    EXPECT_EQ(z.soa.refresh, 1u);
    EXPECT_EQ(z.soa.retry, 2u);
    EXPECT_EQ(z.soa.expire, 3u);
    EXPECT_EQ(z.soa.minimum, 4u);
    EXPECT_EQ(z.soa.ttl, 5u);

    ASSERT_EQ(c.services.size(), 1u);
    const Service& w = c.services[0];
    EXPECT_EQ(w.name, "www.demo.test.");
    EXPECT_EQ(w.ttl, 30u);
    EXPECT_EQ(w.health.type, HealthMode::none);
    EXPECT_EQ(w.where.line, 32u);
    ASSERT_EQ(w.nodes.size(), 2u);
    EXPECT_EQ(w.nodes[0].name, "london");
    EXPECT_EQ(w.nodes[0].addresses, (std::vector{ip("192.0.2.10"), ip("2001:db8::10")}));
    EXPECT_EQ(w.nodes[1].name, "geneva-2");
    EXPECT_EQ(w.nodes[1].where.to_string(), path + ":39:1");
}

TEST(Schema, DefaultsApplied) {
    Config c = read(R"([[zone]]
origin = "demo.test"
[[zone.ns]]
name = "ns1"
addresses = ["127.0.0.1"]
[[service]]
name = "www.demo.test"
[[service.node]]
name = "a"
addresses = ["127.0.0.2"]
)",
                    "t.toml");
    const Server& s = c.server;
    ASSERT_EQ(s.listen.size(), 2u);
    EXPECT_EQ(s.listen[0].to_string(), "0.0.0.0:53");
    EXPECT_EQ(s.listen[1].to_string(), "[::]:53");
    EXPECT_EQ(s.workers, 1u);
    EXPECT_EQ(s.edns_payload, 1232);
    EXPECT_EQ(s.tcp_idle_timeout, std::chrono::seconds(10));
    EXPECT_EQ(s.tcp_max_connections, 256u);
    EXPECT_FALSE(s.chaos);
    char host[256] = {};
    ASSERT_EQ(gethostname(host, sizeof host - 1), 0);
    EXPECT_EQ(s.identity, host);
    EXPECT_EQ(s.version, std::string("nolbd ") + kVersion);
    EXPECT_EQ(s.log_level, "info");

    const Zone& z = c.zones.at(0);
    EXPECT_EQ(z.ttl, 3600u);
    EXPECT_FALSE(z.file.has_value());
    EXPECT_TRUE(z.records.empty());
    EXPECT_EQ(z.ns.at(0).name, "ns1.demo.test.");
    EXPECT_EQ(z.soa.mname, "ns1.demo.test.");
    EXPECT_EQ(z.soa.rname, "hostmaster.demo.test.");
    EXPECT_FALSE(z.soa.serial.has_value());
    EXPECT_EQ(z.soa.refresh, 3600u);
    EXPECT_EQ(z.soa.retry, 600u);
    EXPECT_EQ(z.soa.expire, 1'209'600u);
    EXPECT_EQ(z.soa.minimum, 60u);
    EXPECT_EQ(z.soa.ttl, 3600u);

    const Service& w = c.services.at(0);
    EXPECT_EQ(w.ttl, 20u);
    EXPECT_EQ(w.health.type, HealthMode::none);
    EXPECT_EQ(w.all_down, AllDown::all);
    EXPECT_EQ(w.startup, Startup::probe);
    EXPECT_TRUE(w.nodes.at(0).probe_addresses.empty());
    EXPECT_EQ(w.nodes.at(0).health, w.health);

    EXPECT_EQ(c.control.socket, "/run/nolb/nolbd.sock");
    EXPECT_EQ(c.control.mode, 0660u);
    EXPECT_EQ(c.control.state_file, "");
    EXPECT_FALSE(c.metrics.listen.has_value());
}

TEST(Schema, ZoneNamesAreRelativeToTheOrigin) {
    Config c = read(R"([[zone]]
origin = "Example.TEST."
ttl = 7
[[zone.ns]]
name = "@"
addresses = ["192.0.2.1"]
[[zone.ns]]
name = "a\\.b.NS"
addresses = ["192.0.2.2"]
[zone.soa]
mname = "ns.elsewhere.example."
rname = "dns-admin"
)",
                    "t.toml");
    const Zone& z = c.zones.at(0);
    EXPECT_EQ(z.ns.at(0).name, "example.test.");
    EXPECT_EQ(z.ns.at(1).name, "a\\.b.ns.example.test.");
    EXPECT_EQ(z.soa.mname, "ns.elsewhere.example.");
    EXPECT_EQ(z.soa.rname, "dns-admin.example.test.");
    EXPECT_EQ(z.soa.ttl, 7u);
}

TEST(Schema, SerialIsAutoOrAnInteger) {
    auto serial_of = [](const std::string& value) {
        return read(with_minimal("[zone.soa]\nserial = " + value + "\n"), "t.toml")
            .zones.at(0)
            .soa.serial;
    };
    EXPECT_EQ(serial_of(R"("auto")"), std::nullopt);
    EXPECT_EQ(serial_of("0"), 0u);
    EXPECT_EQ(serial_of("4294967295"), 4294967295u);
    EXPECT_EQ(problem(with_minimal("[zone.soa]\nserial = \"tomorrow\"\n")),
              R"(t.toml:6:10: zone[0].soa.serial: "tomorrow" is neither "auto" nor an integer)");
    EXPECT_EQ(problem(with_minimal("[zone.soa]\nserial = 4294967296\n")),
              "t.toml:6:10: zone[0].soa.serial: 4294967296 is out of range (0..4294967295)");
    EXPECT_EQ(problem(with_minimal("[zone.soa]\nserial = true\n")),
              R"(t.toml:6:10: zone[0].soa.serial: expected an integer or "auto", found a boolean)");
}

TEST(Schema, UnknownKeysInEveryTable) {
    auto all = problems(R"(colour = "blue"
[server]
wokers = 2
[[zone]]
origin = "demo.test."
tll = 60
[[zone.ns]]
name = "ns1.example.net."
glue = ["192.0.2.1"]
[zone.soa]
serial = 1
mnmae = "ns1"
[[service]]
name = "www.demo.test."
zzz = 1
[[service.node]]
name = "a"
addresses = ["192.0.2.2"]
weight = 5
)");
    ASSERT_EQ(all.size(), 7u);
    EXPECT_EQ(all[0],
              "t.toml:1:1: colour: unknown key (expected one of: server key zone service control "
              "rrl metrics)");
    EXPECT_EQ(all[1], R"(t.toml:3:1: server.wokers: unknown key (did you mean "workers"?))");
    EXPECT_EQ(all[2], R"(t.toml:6:1: zone[0].tll: unknown key (did you mean "ttl"?))");
    EXPECT_EQ(all[3],
              "t.toml:9:1: zone[0].ns[0].glue: unknown key (expected one of: name "
              "addresses)");
    EXPECT_EQ(all[4], R"(t.toml:12:1: zone[0].soa.mnmae: unknown key (did you mean "mname"?))");
    EXPECT_EQ(all[5],
              "t.toml:15:1: service[0].zzz: unknown key (expected one of: name ttl "
              "health all_down startup node)");
    EXPECT_EQ(all[6],
              "t.toml:19:1: service[0].node[0].weight: unknown key (expected one of: "
              "name addresses probe_addresses health)");
}

TEST(Schema, UnknownTableAndOddKeys) {
    EXPECT_EQ(problem(with_minimal("[servers]\nworkers = 2\n")),
              R"(t.toml:5:2: servers: unknown key (did you mean "server"?))");
    EXPECT_EQ(problem("\"two words\" = 1\n" + std::string(kMinimal)),
              "t.toml:1:1: \"two words\": unknown key (expected one of: server key zone "
              "service control rrl metrics)");
}

TEST(Schema, WrongTypes) {
    EXPECT_EQ(problem(with_minimal("[server]\nworkers = \"2\"\n")),
              "t.toml:6:11: server.workers: expected an integer, found a string");
    EXPECT_EQ(problem(with_minimal("[server]\nchaos = 1\n")),
              "t.toml:6:9: server.chaos: expected a boolean, found an integer");
    EXPECT_EQ(problem(with_minimal("[server]\nlisten = \"127.0.0.1\"\n")),
              "t.toml:6:10: server.listen: expected an array of strings, found a string");
    EXPECT_EQ(problem(with_minimal("[server]\nlisten = [\"127.0.0.1\", 53]\n")),
              "t.toml:6:24: server.listen[1]: expected a string, found an integer");
    EXPECT_EQ(problem(with_minimal("[server]\ntcp_idle_timeout = 1979-05-27\n")),
              "t.toml:6:20: server.tcp_idle_timeout: expected a number of seconds, found a date");
    EXPECT_EQ(problem("[zone]\norigin = \"demo.test.\"\n"),
              "t.toml:1:1: zone: expected an array of tables ([[zone]]), found a table");
    EXPECT_EQ(problem(with_minimal("[[server]]\nworkers = 1\n")),
              "t.toml:5:1: server: expected a table ([server]), found an array");
    EXPECT_EQ(problem(with_minimal("[[service]]\nname = \"www.demo.test\"\nnode = 3\n")),
              "t.toml:7:8: service[0].node: expected an array of tables ([[service.node]]), "
              "found an integer");
    auto both =
        problems(with_minimal("[[service]]\nname = \"www.demo.test\"\nnode = [3]\n"
                              "health = 5\n"));
    ASSERT_EQ(both.size(), 2u);
    EXPECT_EQ(both[0], "t.toml:7:9: service[0].node[0]: expected a table, found an integer");
    EXPECT_EQ(both[1],
              "t.toml:8:10: service[0].health: expected a string or a table ([service.health]), "
              "found an integer");
}

TEST(Schema, OutOfRange) {
    auto all = problems(with_minimal(R"([server]
workers = 0
edns_payload = 4097
tcp_idle_timeout = 0.05
tcp_max_connections = 1000001
identity = ")" + std::string(256, 'x') +
                                     R"("
[[service]]
name = "www.demo.test"
ttl = 86401
[[service.node]]
name = "a"
addresses = ["192.0.2.1"]
)"));
    ASSERT_EQ(all.size(), 6u);
    EXPECT_EQ(all[0], "t.toml:6:11: server.workers: 0 is out of range (1..64)");
    EXPECT_EQ(all[1], "t.toml:7:16: server.edns_payload: 4097 is out of range (512..4096)");
    EXPECT_EQ(all[2], "t.toml:8:20: server.tcp_idle_timeout: 0.05 is out of range (0.1..3600)");
    EXPECT_EQ(all[3],
              "t.toml:9:23: server.tcp_max_connections: 1000001 is out of range (1..1000000)");
    EXPECT_EQ(all[4], "t.toml:10:12: server.identity: longer than 255 octets");
    EXPECT_EQ(all[5], "t.toml:13:7: service[0].ttl: 86401 is out of range (0..86400)");
    EXPECT_EQ(problem(zone_with("ttl = -1\n")),
              "t.toml:3:7: zone[0].ttl: -1 is out of range (0..2147483647)");
}

TEST(Schema, MissingRequiredKeys) {
    EXPECT_EQ(problem("[server]\nworkers = 1\n"),
              "t.toml:1:1: zone: at least one [[zone]] is required");
    EXPECT_EQ(problem("zone = []\n"), "t.toml:1:8: zone: at least one [[zone]] is required");
    EXPECT_EQ(problem("[[zone]]\n[[zone.ns]]\nname = \"ns.example.\"\n"),
              "t.toml:1:1: zone[0].origin: required key is missing");
    EXPECT_EQ(problem("\n[[zone]]\norigin = \"demo.test\"\n"),
              "t.toml:2:1: zone[0].ns: at least one [[zone.ns]] is required");
    EXPECT_EQ(problem(with_minimal("[[zone.ns]]\naddresses = [\"192.0.2.1\"]\n")),
              "t.toml:5:1: zone[0].ns[1].name: required key is missing");
    EXPECT_EQ(problem(with_minimal("[[service]]\nname = \"www.demo.test\"\n")),
              "t.toml:5:1: service[0].node: at least one [[service.node]] is required");
    EXPECT_EQ(problem(with_minimal("[[service]]\n[[service.node]]\nname = \"a\"\n"
                                   "addresses = [\"192.0.2.1\"]\n")),
              "t.toml:5:1: service[0].name: required key is missing");
    auto node =
        problems(with_minimal("[[service]]\nname = \"www.demo.test\"\n"
                              "[[service.node]]\n[[service.node]]\nname = \"b\"\n"
                              "addresses = []\n"));
    ASSERT_EQ(node.size(), 3u);
    EXPECT_EQ(node[0], "t.toml:7:1: service[0].node[0].name: required key is missing");
    EXPECT_EQ(node[1], "t.toml:7:1: service[0].node[0].addresses: required key is missing");
    EXPECT_EQ(node[2], "t.toml:10:13: service[0].node[1].addresses: must not be empty");
}

TEST(Schema, ServiceOutsideEveryZone) {
    const std::string nodes = "[[service.node]]\nname = \"a\"\naddresses = [\"192.0.2.1\"]\n";
    EXPECT_EQ(problem(with_minimal("[[service]]\nname = \"www.example.test\"\n" + nodes)),
              "t.toml:6:8: service[0].name: www.example.test. is not inside any configured zone");
    EXPECT_EQ(problem(with_minimal("[[service]]\nname = \"xdemo.test.\"\n" + nodes)),
              "t.toml:6:8: service[0].name: xdemo.test. is not inside any configured zone");
    EXPECT_EQ(problem(with_minimal("[[service]]\nname = \".\"\n" + nodes)),
              "t.toml:6:8: service[0].name: . is not inside any configured zone");
    // The apex itself and deeper names are fine, whatever the order of tables in the file.
    Config c = read("[[service]]\nname = \"demo.test\"\n" + nodes + kMinimal +
                        "[[service]]\nname = \"a.b.demo.test\"\n" + nodes,
                    "t.toml");
    EXPECT_EQ(c.services.size(), 2u);
    // A zone whose origin is wrong may be the one meant: only the origin is reported.
    EXPECT_EQ(problem("[[zone]]\norigin = \"demo..test\"\n[[zone.ns]]\nname = \"ns.example.\"\n"
                      "[[service]]\nname = \"www.demo.test\"\n" +
                      nodes),
              R"(t.toml:2:10: zone[0].origin: "demo..test" is not a valid name: empty label)");
}

TEST(Schema, Duplicates) {
    const std::string nodes = "[[service.node]]\nname = \"a\"\naddresses = [\"192.0.2.1\"]\n";
    EXPECT_EQ(problem(with_minimal("[[zone]]\norigin = \"DEMO.test\"\n[[zone.ns]]\n"
                                   "name = \"ns.example.\"\n")),
              "t.toml:6:10: zone[1].origin: zone demo.test. is already defined on line 2");
    EXPECT_EQ(problem(with_minimal("[[service]]\nname = \"www.demo.test\"\n" + nodes +
                                   "[[service]]\nname = \"WWW.demo.test.\"\n" + nodes)),
              "t.toml:11:8: service[1].name: service www.demo.test. is already defined on line 6");
    EXPECT_EQ(problem(with_minimal("[[service]]\nname = \"www.demo.test\"\n" + nodes +
                                   "[[service.node]]\nname = \"a\"\n"
                                   "addresses = [\"192.0.2.2\"]\n")),
              R"(t.toml:11:8: service[0].node[1].name: node "a" is already defined on line 8)");
    // An address belongs to one node of a service; another service may reuse it.
    auto all = problems(with_minimal("[[service]]\nname = \"www.demo.test\"\n" + nodes +
                                     "[[service.node]]\nname = \"b\"\n"
                                     "addresses = [\"192.0.2.2\", \"192.0.2.1\", \"192.0.2.2\"]\n"
                                     "[[service]]\nname = \"api.demo.test\"\n" +
                                     nodes));
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0],
              "t.toml:12:27: service[0].node[1].addresses[1]: 192.0.2.1 is already "
              "listed on line 9");
    EXPECT_EQ(all[1],
              "t.toml:12:40: service[0].node[1].addresses[2]: 192.0.2.2 is already "
              "listed on line 12");
    EXPECT_EQ(problem(with_minimal("[server]\nlisten = [\"127.0.0.1\", \"127.0.0.1:53\"]\n")),
              "t.toml:6:24: server.listen[1]: 127.0.0.1:53 is already listed on line 6");
    EXPECT_EQ(problem(with_minimal("[[zone.ns]]\nname = \"NS1.example.net.\"\n")),
              "t.toml:6:8: zone[0].ns[1].name: ns1.example.net. is already listed on line 4");
}

TEST(Schema, GlueRules) {
    const std::string zone = "[[zone]]\norigin = \"demo.test\"\n[[zone.ns]]\n";
    // Inside the zone: glue required and not empty.
    EXPECT_EQ(problem(zone + "name = \"ns1\"\n"),
              "t.toml:3:1: zone[0].ns[0].addresses: required key is missing: ns1.demo.test. is "
              "inside the zone and needs glue");
    EXPECT_EQ(problem(zone + "name = \"@\"\naddresses = []\n"),
              "t.toml:5:13: zone[0].ns[0].addresses: must not be empty: demo.test. is inside "
              "the zone and needs glue");
    // Outside: no glue.
    EXPECT_EQ(problem(zone + "name = \"ns1.example.net.\"\naddresses = [\"192.0.2.1\"]\n"),
              "t.toml:5:13: zone[0].ns[0].addresses: glue is not allowed: ns1.example.net. is "
              "outside the zone demo.test.");
    EXPECT_EQ(problem(zone + "name = \"ns1.xdemo.test.\"\naddresses = [\"192.0.2.1\"]\n"),
              "t.toml:5:13: zone[0].ns[0].addresses: glue is not allowed: ns1.xdemo.test. is "
              "outside the zone demo.test.");
    EXPECT_EQ(problem(zone + "name = \"ns1\"\naddresses = [\"1.2.3\", \"192.0.2.1\"]\n"),
              R"(t.toml:5:14: zone[0].ns[0].addresses[0]: "1.2.3" is not an IPv4 or IPv6 address)");
    Config c = read(zone + "name = \"ns1.DEMO.test.\"\naddresses = [\"::1\"]\n", "t.toml");
    EXPECT_EQ(c.zones[0].ns[0].addresses, std::vector{ip("::1")});
}

TEST(Schema, BadListenEndpoints) {
    auto all = problems(with_minimal(R"([server]
listen = ["1.2.3.4:0", "1.2.3.4:65536", "localhost:53", "1.2.3", "[::1", "[::1]:x", "::1", "[::1]"]
)"));
    ASSERT_EQ(all.size(), 7u);
    const std::string why = " is not an endpoint (ADDR:PORT, [V6]:PORT or an address)";
    EXPECT_EQ(all[0], R"(t.toml:6:11: server.listen[0]: "1.2.3.4:0")" + why);
    EXPECT_EQ(all[1], R"(t.toml:6:24: server.listen[1]: "1.2.3.4:65536")" + why);
    EXPECT_EQ(all[2], R"(t.toml:6:41: server.listen[2]: "localhost:53")" + why);
    EXPECT_EQ(all[3], R"(t.toml:6:57: server.listen[3]: "1.2.3")" + why);
    EXPECT_EQ(all[4], R"(t.toml:6:66: server.listen[4]: "[::1")" + why);
    EXPECT_EQ(all[5], R"(t.toml:6:74: server.listen[5]: "[::1]:x")" + why);
    // "::1" and "[::1]" are the same endpoint, port 53.
    EXPECT_EQ(all[6], "t.toml:6:92: server.listen[7]: [::1]:53 is already listed on line 6");
}

TEST(Schema, ZoneFileIsResolvedAndMustBeReadable) {
    const std::string path = kSourceDir + "/conf/x.toml";
    const std::string text =
        "[[zone]]\norigin = \"demo.test\"\nfile = \"zones/missing.zone\"\n"
        "[[zone.ns]]\nname = \"ns.example.\"\n";
    auto all = problems(text, path);
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0], path + ":3:8: zone[0].file: cannot read \"" + kSourceDir +
                          "/conf/zones/missing.zone\": No such file or directory");
    EXPECT_EQ(problem("[[zone]]\norigin = \"demo.test\"\nfile = \"/\"\n"
                      "[[zone.ns]]\nname = \"ns.example.\"\n"),
              R"(t.toml:3:8: zone[0].file: cannot read "/": not a regular file)");
    // An absolute path is kept as written.
    Config c = read("[[zone]]\norigin = \"demo.test\"\nfile = \"" + kSourceDir +
                        "/conf/zones/../zones/demo.test.zone\"\n"
                        "[[zone.ns]]\nname = \"ns.example.\"\n",
                    "t.toml");
    EXPECT_EQ(c.zones[0].file, kSourceDir + "/conf/zones/demo.test.zone");
}

TEST(Schema, BadNames) {
    auto all = problems(R"([[zone]]
origin = "."
[[zone.ns]]
name = "ns1.example.net."
[[zone]]
origin = "a\\256.test"
[[zone.ns]]
name = ")" + std::string(64, 'x') +
                        R"("
[[zone]]
origin = "example.test"
[[zone.ns]]
name = "ns..x"
[zone.soa]
rname = "@example.test"
)");
    ASSERT_EQ(all.size(), 5u);
    EXPECT_EQ(all[0], "t.toml:2:10: zone[0].origin: the root zone cannot be served");
    EXPECT_EQ(all[1], R"(t.toml:6:10: zone[1].origin: "a\\256.test" is not a valid name: )"
                      R"(\DDD escape above 255)");
    EXPECT_EQ(all[2], "t.toml:8:8: zone[1].ns[0].name: \"" + std::string(64, 'x') +
                          "\" is not a valid name: label longer than 63 octets");
    EXPECT_EQ(all[3], R"(t.toml:12:8: zone[2].ns[0].name: "ns..x" is not a valid name: )"
                      R"(empty label)");
    EXPECT_EQ(all[4], R"(t.toml:14:9: zone[2].soa.rname: "@example.test" is not a mailbox )"
                      R"((user@domain))");

    // 249 octets alone, 259 once demo.test. is appended.
    std::string label(63, 'a');
    std::string long_name = label + "." + label + "." + label + "." + label.substr(0, 55);
    EXPECT_EQ(problem(with_minimal("[[zone.ns]]\nname = \"" + long_name + "\"\n")),
              "t.toml:6:8: zone[0].ns[1].name: \"" + long_name +
                  "\" is not a valid name: longer than 255 octets once the origin is appended");
}

// A service with one node, and `health` (lines from 7 on) between its name and the node.
std::string service_with(std::string_view health, std::string_view node_tail = "") {
    return with_minimal("[[service]]\nname = \"www.demo.test\"\n" + std::string(health) +
                        "[[service.node]]\nname = \"a\"\naddresses = [\"192.0.2.1\"]\n" +
                        std::string(node_tail));
}

TEST(Schema, HealthCheckTableAndNodeOverrides) {
    Config c = read(with_minimal(R"([[service]]
name = "WWW.demo.test"
all_down = "none"
startup = "up"
[service.health]
type = "http"
port = 8080
path = "/health?full=1"
status = [200, "300-399", 204]
body = "ok"
interval = 2.5
timeout = 0.5
jitter = 0
rise = 3
fall = 1
[[service.node]]
name = "london"
addresses = ["192.0.2.1", "2001:db8::1"]
probe_addresses = ["10.0.0.1", "fd00::1"]
[service.node.health]
port = 9090
host = "london.internal"
[[service.node]]
name = "geneva"
addresses = ["192.0.2.2"]
)"),
                    "t.toml");
    const Service& s = c.services.at(0);
    EXPECT_EQ(s.all_down, AllDown::none);
    EXPECT_EQ(s.startup, Startup::up);
    const HealthCheck& h = s.health;
    EXPECT_EQ(h.type, HealthMode::http);
    EXPECT_EQ(h.port, 8080);
    EXPECT_EQ(h.path, "/health?full=1");
    EXPECT_EQ(h.host, "www.demo.test");  // the service name, without its dot
    EXPECT_EQ(h.status, (std::vector<StatusRange>{{200, 200}, {300, 399}, {204, 204}}));
    EXPECT_EQ(h.body, "ok");
    EXPECT_EQ(h.interval, std::chrono::milliseconds(2500));
    EXPECT_EQ(h.timeout, std::chrono::milliseconds(500));
    EXPECT_EQ(h.jitter, 0.0);
    EXPECT_EQ(h.rise, 3u);
    EXPECT_EQ(h.fall, 1u);

    const Node& london = s.nodes.at(0);
    EXPECT_EQ(london.probe_addresses, (std::vector{ip("10.0.0.1"), ip("fd00::1")}));
    HealthCheck expected = h;
    expected.port = 9090;
    expected.host = "london.internal";
    EXPECT_EQ(london.health, expected);
    // Without an override, a node's check is its service's.
    EXPECT_EQ(s.nodes.at(1).health, h);
    EXPECT_TRUE(s.nodes.at(1).probe_addresses.empty());
}

TEST(Schema, HealthCheckDefaults) {
    Config c = read(service_with("[service.health]\ntype = \"tcp\"\n"), "t.toml");
    const HealthCheck& h = c.services.at(0).health;
    EXPECT_EQ(h.type, HealthMode::tcp);
    EXPECT_EQ(h.port, 80);
    EXPECT_EQ(h.path, "/");
    EXPECT_EQ(h.host, "www.demo.test");
    EXPECT_EQ(h.status, (std::vector<StatusRange>{{200, 299}}));
    EXPECT_EQ(h.body, "");
    EXPECT_EQ(h.interval, std::chrono::seconds(1));
    EXPECT_EQ(h.timeout, std::chrono::seconds(1));
    EXPECT_EQ(h.jitter, 0.1);
    EXPECT_EQ(h.rise, 2u);
    EXPECT_EQ(h.fall, 2u);
    EXPECT_EQ(c.services[0].nodes.at(0).health, h);

    // "none", as a string or as a type, checks nothing; a type "none" table keeps its other
    // keys unused, so that checks can be switched off without deleting them.
    Config none = read(service_with("health = \"none\"\n"), "t.toml");
    EXPECT_EQ(none.services[0].health.type, HealthMode::none);
    Config off =
        read(service_with("[service.health]\ntype = \"none\"\nport = 8080\npath = \"/x\"\n",
                          "[service.node.health]\nport = 9090\n"),
             "t.toml");
    EXPECT_EQ(off.services[0].health.type, HealthMode::none);
    EXPECT_EQ(off.services[0].health.port, 8080);
    EXPECT_EQ(off.services[0].nodes[0].health.port, 9090);
}

TEST(Schema, HealthAsAStringIsOnlyNone) {
    EXPECT_EQ(problem(service_with("health = \"http\"\n")),
              R"(t.toml:7:10: service[0].health: "http": only "none" is written as a string; )"
              R"(write a [service.health] table with type = "http")");
    EXPECT_EQ(problem(service_with("health = \"ping\"\n")),
              R"(t.toml:7:10: service[0].health: "ping": only "none" is written as a string; )"
              R"(write a [service.health] table)");
}

TEST(Schema, HealthCheckTypeIsRequiredAndSetPerService) {
    EXPECT_EQ(problem(service_with("[service.health]\nport = 80\n")),
              "t.toml:7:1: service[0].health.type: required key is missing");
    EXPECT_EQ(problem(service_with("[service.health]\ntype = \"htp\"\n")),
              R"(t.toml:8:8: service[0].health.type: "htp" is not a check type ("http", "tcp" )"
              R"(or "none"))");
    EXPECT_EQ(problem(service_with("[service.health]\ntype = \"http\"\n",
                                   "[service.node.health]\ntype = \"tcp\"\n")),
              "t.toml:13:1: service[0].node[0].health.type: the type is set in [service.health]; "
              "a node overrides only the other keys");
    EXPECT_EQ(problem(service_with("[service.health]\ntype = \"http\"\n",
                                   "[service.node.health]\nrise = 2\nfal = 3\n")),
              R"(t.toml:14:1: service[0].node[0].health.fal: unknown key (did you mean "fall"?))");
}

TEST(Schema, HttpKeysNeedAnHttpCheck) {
    auto all =
        problems(service_with("[service.health]\ntype = \"tcp\"\npath = \"/x\"\n"
                              "body = \"ok\"\n",
                              "[service.node.health]\nstatus = [200]\nport = 81\n"));
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(
        all[0],
        R"(t.toml:9:1: service[0].health.path: only for type = "http" (this check is "tcp"))");
    EXPECT_EQ(
        all[1],
        R"(t.toml:10:1: service[0].health.body: only for type = "http" (this check is "tcp"))");
    EXPECT_EQ(all[2],
              "t.toml:15:1: service[0].node[0].health.status: only for type = \"http\" "
              "(this check is \"tcp\")");
}

TEST(Schema, TimeoutMustNotExceedInterval) {
    EXPECT_EQ(problem(service_with("[service.health]\ntype = \"http\"\ninterval = 1\n"
                                   "timeout = 1.5\n")),
              "t.toml:10:11: service[0].health.timeout: timeout (1.5 s) must not exceed interval "
              "(1 s): one probe at a time per address");
    // A node override breaks the rule from either side; the key it wrote is blamed.
    EXPECT_EQ(problem(service_with("[service.health]\ntype = \"tcp\"\ntimeout = 0.5\n",
                                   "[service.node.health]\ninterval = 0.2\n")),
              "t.toml:14:12: service[0].node[0].health.interval: timeout (0.5 s) must not exceed "
              "interval (0.2 s): one probe at a time per address");
    // Equal is fine.
    EXPECT_NO_THROW(
        read(service_with("[service.health]\ntype = \"tcp\"\ninterval = 0.25\ntimeout = 0.25\n"),
             "t.toml"));
}

TEST(Schema, FastIntervalDefaultsToAFifthOfInterval) {
    // Unset, it follows whichever interval applies, the service's or a node's own.
    Config c =
        read(service_with("[service.health]\ntype = \"tcp\"\ninterval = 0.25\ntimeout = 0.1\n",
                          "[service.node.health]\ninterval = 2\n"),
             "t.toml");
    const HealthCheck& h = c.services.at(0).health;
    EXPECT_FALSE(h.fast_interval.has_value());
    EXPECT_EQ(h.fast_interval_or_default(), std::chrono::milliseconds(50));
    EXPECT_EQ(c.services[0].nodes.at(0).health.fast_interval_or_default(),
              std::chrono::milliseconds(400));

    // Written, it is kept as written, and a node inherits it.
    Config given = read(service_with("[service.health]\ntype = \"tcp\"\ninterval = "
                                     "0.25\ntimeout = 0.1\nfast_interval = 0.01\n",
                                     "[service.node.health]\ninterval = 2\n"),
                        "t.toml");
    EXPECT_EQ(given.services[0].health.fast_interval, std::chrono::milliseconds(10));
    EXPECT_EQ(given.services[0].nodes.at(0).health.fast_interval_or_default(),
              std::chrono::milliseconds(10));
    // Equal to interval is allowed (HAProxy's default: no speed-up).
    EXPECT_NO_THROW(read(service_with("[service.health]\ntype = \"tcp\"\ninterval = "
                                      "0.5\ntimeout = 0.2\nfast_interval = 0.5\n"),
                         "t.toml"));
}

TEST(Schema, FastIntervalRangeAndIntervalBound) {
    EXPECT_EQ(problem(service_with("[service.health]\ntype = \"tcp\"\nfast_interval = 0.005\n")),
              "t.toml:9:17: service[0].health.fast_interval: 0.005 is out of range (0.01..3600)");
    EXPECT_EQ(problem(service_with("[service.health]\ntype = \"tcp\"\nfast_interval = \"fast\"\n")),
              "t.toml:9:17: service[0].health.fast_interval: expected a number of seconds, found "
              "a string");
    EXPECT_EQ(problem(service_with("[service.health]\ntype = \"tcp\"\ninterval = 1\n"
                                   "fast_interval = 1.5\n")),
              "t.toml:10:17: service[0].health.fast_interval: fast_interval (1.5 s) must not "
              "exceed interval (1 s): it speeds probing up, never slows it down");
    // A node override breaks the rule from either side; the key it wrote is blamed.
    EXPECT_EQ(problem(service_with("[service.health]\ntype = \"tcp\"\nfast_interval = 0.5\n",
                                   "[service.node.health]\ninterval = 0.2\ntimeout = 0.1\n")),
              "t.toml:14:12: service[0].node[0].health.interval: fast_interval (0.5 s) must not "
              "exceed interval (0.2 s): it speeds probing up, never slows it down");
    EXPECT_EQ(problem(service_with("[service.health]\ntype = \"tcp\"\ninterval = 0.5\n"
                                   "timeout = 0.2\n",
                                   "[service.node.health]\nfast_interval = 0.75\n")),
              "t.toml:15:17: service[0].node[0].health.fast_interval: fast_interval (0.75 s) "
              "must not exceed interval (0.5 s): it speeds probing up, never slows it down");
}

TEST(Schema, HealthCheckRanges) {
    auto all = problems(service_with(R"([service.health]
type = "http"
port = 0
interval = 0.05
timeout = 61
jitter = 0.6
rise = 0
fall = 101
path = "health"
host = "a b"
status = [99, "200-600", "2xx", "300-200", true, 600]
)"));
    ASSERT_EQ(all.size(), 14u);
    EXPECT_EQ(all[0], "t.toml:9:8: service[0].health.port: 0 is out of range (1..65535)");
    EXPECT_EQ(all[1], "t.toml:10:12: service[0].health.interval: 0.05 is out of range (0.1..3600)");
    EXPECT_EQ(all[2], "t.toml:11:11: service[0].health.timeout: 61 is out of range (0.05..60)");
    EXPECT_EQ(all[3], "t.toml:12:10: service[0].health.jitter: 0.6 is out of range (0..0.5)");
    EXPECT_EQ(all[4], "t.toml:13:8: service[0].health.rise: 0 is out of range (1..100)");
    EXPECT_EQ(all[5], "t.toml:14:8: service[0].health.fall: 101 is out of range (1..100)");
    EXPECT_EQ(all[6], R"(t.toml:15:8: service[0].health.path: "health" must start with "/")");
    EXPECT_EQ(all[7], R"(t.toml:16:8: service[0].health.host: "a b" must not hold spaces or )"
                      R"(control characters)");
    EXPECT_EQ(all[8], "t.toml:17:11: service[0].health.status[0]: 99 is out of range (100..599)");
    EXPECT_EQ(all[9], R"(t.toml:17:15: service[0].health.status[1]: "200-600" is not a range of )"
                      R"(status codes ("LOW-HIGH", 100..599))");
    EXPECT_EQ(all[10], R"(t.toml:17:26: service[0].health.status[2]: "2xx" is not a range of )"
                       R"(status codes ("LOW-HIGH", 100..599))");
    EXPECT_EQ(all[11], R"(t.toml:17:33: service[0].health.status[3]: "300-200" is an empty range)");
    EXPECT_EQ(all[12], R"(t.toml:17:44: service[0].health.status[4]: expected a status code or )"
                       R"(a "LOW-HIGH" string, found a boolean)");
    EXPECT_EQ(all[13], "t.toml:17:50: service[0].health.status[5]: 600 is out of range (100..599)");

    EXPECT_EQ(problem(service_with("[service.health]\ntype = \"http\"\nstatus = []\n")),
              "t.toml:9:10: service[0].health.status: must not be empty");
    EXPECT_EQ(problem(service_with("[service.health]\ntype = \"http\"\npath = \"/a\\r\\nX: y\"\n")),
              R"(t.toml:9:8: service[0].health.path: "/a\x0d\x0aX: y" must not hold spaces or )"
              R"(control characters (encode them as %XX))");
    EXPECT_EQ(problem(service_with("[service.health]\ntype = \"http\"\njitter = \"0.1\"\n")),
              "t.toml:9:10: service[0].health.jitter: expected a number, found a string");
}

TEST(Schema, ProbeAddressesPairWithAddresses) {
    auto all = problems(with_minimal(R"([[service]]
name = "www.demo.test"
[[service.node]]
name = "a"
addresses = ["192.0.2.1", "2001:db8::1"]
probe_addresses = ["10.0.0.1"]
[[service.node]]
name = "b"
addresses = ["192.0.2.2", "2001:db8::2"]
probe_addresses = ["fd00::2", "10.0.0.2"]
[[service.node]]
name = "c"
addresses = ["192.0.2.3"]
probe_addresses = ["10.0.0.300"]
)"));
    ASSERT_EQ(all.size(), 4u);
    EXPECT_EQ(all[0],
              "t.toml:10:19: service[0].node[0].probe_addresses: has 1 where addresses "
              "has 2: they pair by index");
    EXPECT_EQ(all[1],
              "t.toml:14:20: service[0].node[1].probe_addresses[0]: fd00::2 is not of "
              "the same family as 192.0.2.2, the address it probes for");
    EXPECT_EQ(all[2],
              "t.toml:14:31: service[0].node[1].probe_addresses[1]: 10.0.0.2 is not of "
              "the same family as 2001:db8::2, the address it probes for");
    EXPECT_EQ(all[3], R"(t.toml:18:20: service[0].node[2].probe_addresses[0]: "10.0.0.300" is )"
                      R"(not an IPv4 or IPv6 address)");
}

TEST(Schema, AllDownAndStartupValues) {
    auto all =
        problems(with_minimal("[[service]]\nname = \"www.demo.test\"\n"
                              "all_down = \"some\"\nstartup = \"later\"\n"
                              "[[service.node]]\nname = \"a\"\n"
                              "addresses = [\"192.0.2.1\"]\n"));
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0], R"(t.toml:7:12: service[0].all_down: "some" is not "all" or "none")");
    EXPECT_EQ(all[1], R"(t.toml:8:11: service[0].startup: "later" is not "probe", "up" or "down")");
    for (auto [text, value] : {std::pair{"probe", Startup::probe}, std::pair{"up", Startup::up},
                               std::pair{"down", Startup::down}}) {
        Config c = read(service_with("startup = \"" + std::string(text) + "\"\n"), "t.toml");
        EXPECT_EQ(c.services[0].startup, value);
    }
}

TEST(Schema, ControlAndMetrics) {
    const std::string path = kSourceDir + "/conf/x.toml";
    Config c = read(with_minimal("[control]\nsocket = \"run/nolbd.sock\"\nmode = \"0600\"\n"
                                 "state_file = \"state/drains.json\"\n"
                                 "[metrics]\nlisten = \"127.0.0.1\"\n"),
                    path);
    // Relative paths hang from the config's folder, as zone files do.
    EXPECT_EQ(c.control.socket, kSourceDir + "/conf/run/nolbd.sock");
    EXPECT_EQ(c.control.mode, 0600u);
    EXPECT_EQ(c.control.state_file, kSourceDir + "/conf/state/drains.json");
    ASSERT_TRUE(c.metrics.listen.has_value());
    EXPECT_EQ(c.metrics.listen->to_string(), "127.0.0.1:9153");

    Config off = read(with_minimal("[control]\nsocket = \"\"\nmode = \"640\"\n"
                                   "[metrics]\nlisten = \"[::1]:9999\"\n"),
                      "t.toml");
    EXPECT_EQ(off.control.socket, "");
    EXPECT_EQ(off.control.mode, 0640u);
    EXPECT_EQ(off.metrics.listen->to_string(), "[::1]:9999");

    auto all = problems(with_minimal("[control]\nsocket = \"/" + std::string(120, 'x') +
                                     "\"\nmode = \"rw\"\nowner = \"nolb\"\n"
                                     "[metrics]\nlisten = \"localhost:9153\"\n"));
    ASSERT_EQ(all.size(), 4u);
    EXPECT_EQ(all[0], "t.toml:6:10: control.socket: \"/" + std::string(120, 'x') +
                          "\" is longer than 107 octets, the limit of a Unix socket path");
    EXPECT_EQ(all[1], R"(t.toml:7:8: control.mode: "rw" is not a permission mode (octal, )"
                      R"(e.g. "0660"))");
    EXPECT_EQ(all[2],
              "t.toml:8:1: control.owner: unknown key (expected one of: socket mode "
              "state_file)");
    EXPECT_EQ(all[3], R"(t.toml:10:10: metrics.listen: "localhost:9153" is not an endpoint )"
                      R"((ADDR:PORT, [V6]:PORT or an address))");
    EXPECT_EQ(problem(with_minimal("[control]\nmode = \"1777\"\n")),
              R"(t.toml:6:8: control.mode: "1777" is not a permission mode (octal, e.g. "0660"))");
    EXPECT_EQ(problem(with_minimal("[control]\nmode = \"0680\"\n")),
              R"(t.toml:6:8: control.mode: "0680" is not a permission mode (octal, e.g. "0660"))");
}

TEST(Schema, RecordsKeepTheirPosition) {
    Config c = read(zone_with("records = [\n  \"@ MX 10 mail\",\n"
                              "  'info TXT \"hi\"',\n]\n"),
                    "t.toml");
    ASSERT_EQ(c.zones[0].records.size(), 2u);
    EXPECT_EQ(c.zones[0].records[1].text, "info TXT \"hi\"");
    EXPECT_EQ(c.zones[0].records[1].where.to_string(), "t.toml:5:3");
    EXPECT_EQ(problem(zone_with("records = [\"a A 192.0.2.1\\n$INCLUDE /etc/passwd\"]\n")),
              "t.toml:3:12: zone[0].records[0]: a record must fit on one line");
}

// [[key]] and [zone.transfer]: a key's secret read from its file in any of the three usual
// forms, each mistake named where it is, and the checks across tables (a key a transfer names
// must exist; a transferred zone needs an automatic serial).
TEST(Schema, KeysAndTransfers) {
    char name[] = "/tmp/nolb-keys-XXXXXX";
    ASSERT_NE(::mkdtemp(name), nullptr);
    const std::filesystem::path dir = name;
    auto write = [&](const char* file, const char* text) {
        std::ofstream(dir / file) << text;
        return (dir / file).string();
    };
    write("plain.key", "Zm9vYmFy\n");
    write("bind.key", "key \"xfr.\" {\n\talgorithm hmac-sha256;\n\tsecret \"Zm9vYmFy\";\n};\n");
    write("ldns.private",
          "Private-key-format: v1.2\nAlgorithm: 163 (HMAC_SHA256)\nKey: Zm9vYmFy\n");
    write("empty.key", "\n");
    const std::string path = (dir / "nolb.toml").string();
    const std::string zone =
        "[[zone]]\norigin = \"demo.test\"\n[[zone.ns]]\nname = \"ns.example.\"\n";

    Config c = read(
        "[[key]]\nname = \"Plain.Demo.Test\"\nsecret_file = \"plain.key\"\n"
        "[[key]]\nname = \"bind.\"\nalgorithm = \"hmac-sha512\"\n"
        "secret_file = \"bind.key\"\n"
        "[[key]]\nname = \"ldns.\"\nsecret_file = \"ldns.private\"\n" +
            zone +
            "[zone.transfer]\nallow = [\"192.0.2.0/24\", \"2001:db8::7\"]\n"
            "keys = [\"plain.demo.test\"]\njournal_changes = 50\n",
        path);
    ASSERT_EQ(c.keys.size(), 3u);
    EXPECT_EQ(c.keys[0].name, "plain.demo.test.");
    EXPECT_EQ(c.keys[0].algorithm, "hmac-sha256");
    for (const Key& key : c.keys)
        EXPECT_EQ(std::string(key.secret.begin(), key.secret.end()), "foobar") << key.name;
    EXPECT_EQ(c.keys[1].algorithm, "hmac-sha512");
    EXPECT_EQ(c.keys[0].secret_file, (dir / "plain.key").string());
    const Transfer& t = c.zones[0].transfer;
    EXPECT_TRUE(t.enabled());
    ASSERT_EQ(t.allow.size(), 2u);
    EXPECT_EQ(t.allow[0].to_string(), "192.0.2.0/24");
    EXPECT_EQ(t.allow[1].to_string(), "2001:db8::7/128");
    EXPECT_EQ(t.keys, std::vector<std::string>{"plain.demo.test."});
    EXPECT_EQ(t.journal_changes, 50u);
    EXPECT_EQ(t.journal_bytes, std::size_t{16} << 20);
    EXPECT_FALSE(read(zone).zones[0].transfer.enabled()) << "nobody by default";

    EXPECT_EQ(problem("[[key]]\nname = \"k.\"\nalgorithm = \"hmac-md5\"\nsecret_file = \"" +
                      (dir / "plain.key").string() + "\"\n" + zone),
              "t.toml:3:13: key[0].algorithm: \"hmac-md5\" is not a TSIG algorithm nolbd signs "
              "with (hmac-sha256, hmac-sha512, hmac-sha1)");
    EXPECT_EQ(problem("[[key]]\nname = \"k.\"\nsecret_file = \"" + (dir / "empty.key").string() +
                      "\"\n" + zone),
              "t.toml:3:15: key[0].secret_file: \"" + (dir / "empty.key").string() +
                  "\" holds no base64 secret (the secret alone, BIND's secret \"...\"; or a "
                  ".private file's Key: line)");
    EXPECT_EQ(problem("[[key]]\nname = \"k.\"\nsecret_file = \"/nonexistent/k\"\n" + zone),
              "t.toml:3:15: key[0].secret_file: cannot read \"/nonexistent/k\": No such file or "
              "directory");
    EXPECT_EQ(problem(zone + "[zone.transfer]\nallow = [\"192.0.2.1/24\"]\n"),
              "t.toml:6:10: zone[0].transfer.allow[0]: \"192.0.2.1/24\" is not an address or a "
              "prefix (192.0.2.0/24, 2001:db8::/32) with its host bits clear");
    EXPECT_EQ(problem(zone + "[zone.transfer]\nallow = [\"127.0.0.1\"]\nkeys = [\"nope.\"]\n"),
              "t.toml:7:9: zone[0].transfer.keys[0]: no [[key]] is named nope.");
    EXPECT_EQ(problem("[[key]]\nname = \"k.\"\nsecret_file = \"" + (dir / "plain.key").string() +
                      "\"\n" + zone + "[zone.transfer]\nkeys = [\"k.\"]\n"),
              "t.toml:9:8: zone[0].transfer.keys: keys without allow: nobody may transfer the "
              "zone");
    EXPECT_EQ(problem(zone + "[zone.soa]\nserial = 7\n[zone.transfer]\nallow = [\"127.0.0.1\"]\n"),
              "t.toml:6:10: zone[0].soa.serial: a zone that secondaries transfer needs serial = "
              "\"auto\": every change nolbd publishes must move the serial, or they would keep "
              "the old data");
    std::filesystem::remove_all(dir);
}

// [zone.transfer]'s NOTIFY keys: endpoints written as listen's are, the key that signs them
// (keys' first unless named; "" for none) and the timings, each mistake named where it is.
TEST(Schema, Notify) {
    char name[] = "/tmp/nolb-notify-XXXXXX";
    ASSERT_NE(::mkdtemp(name), nullptr);
    const std::filesystem::path dir = name;
    std::ofstream(dir / "k.key") << "Zm9vYmFy\n";
    const std::string keys = "[[key]]\nname = \"a.\"\nsecret_file = \"" + (dir / "k.key").string() +
                             "\"\n[[key]]\nname = \"b.\"\nsecret_file = \"" +
                             (dir / "k.key").string() + "\"\n";
    const std::string zone =
        "[[zone]]\norigin = \"demo.test\"\n[[zone.ns]]\nname = \"ns.example.\"\n"
        "[zone.transfer]\nallow = [\"127.0.0.1\"]\n";

    const Transfer defaults = read(zone).zones[0].transfer;
    EXPECT_TRUE(defaults.notify.empty());
    EXPECT_TRUE(defaults.notify_ns);
    EXPECT_EQ(defaults.notify_key, "");
    EXPECT_EQ(defaults.notify_gap, std::chrono::milliseconds(1000));
    EXPECT_EQ(defaults.notify_retries, 5u);
    EXPECT_EQ(defaults.notify_retry_interval, std::chrono::milliseconds(1000));
    EXPECT_EQ(read(keys + zone + "keys = [\"b.\", \"a.\"]\n").zones[0].transfer.notify_key, "b.")
        << "signed by default with the first of keys";
    EXPECT_EQ(
        read(keys + zone + "keys = [\"b.\"]\nnotify_key = \"\"\n").zones[0].transfer.notify_key, "")
        << "\"\" sends NOTIFY unsigned";

    const Transfer t = read(keys + zone +
                            "notify = [\"192.0.2.7\", \"192.0.2.8:5300\", \"[2001:db8::9]:53\"]\n"
                            "notify_ns = false\nnotify_key = \"A\"\nnotify_gap = 0.25\n"
                            "notify_retries = 0\nnotify_retry_interval = 3\n")
                           .zones[0]
                           .transfer;
    ASSERT_EQ(t.notify.size(), 3u);
    EXPECT_EQ(t.notify[0].to_string(), "192.0.2.7:53");
    EXPECT_EQ(t.notify[1].to_string(), "192.0.2.8:5300");
    EXPECT_EQ(t.notify[2].to_string(), "[2001:db8::9]:53");
    EXPECT_FALSE(t.notify_ns);
    EXPECT_EQ(t.notify_key, "a.");
    EXPECT_EQ(t.notify_gap, std::chrono::milliseconds(250));
    EXPECT_EQ(t.notify_retries, 0u);
    EXPECT_EQ(t.notify_retry_interval, std::chrono::milliseconds(3000));

    EXPECT_EQ(problem(zone + "notify = [\"192.0.2.7#53\"]\n"),
              "t.toml:7:11: zone[0].transfer.notify[0]: \"192.0.2.7#53\" is not an endpoint "
              "(ADDR, ADDR:PORT or [IPV6]:PORT)");
    EXPECT_EQ(problem(zone + "notify = [\"192.0.2.7\", \"192.0.2.7:53\"]\n"),
              "t.toml:7:24: zone[0].transfer.notify[1]: 192.0.2.7:53 is already listed on line 7");
    EXPECT_EQ(problem(zone + "notify_key = \"nope.\"\n"),
              "t.toml:7:14: zone[0].transfer.notify_key: no [[key]] is named nope.");
    EXPECT_EQ(problem(zone + "notify_gap = 3601\n"),
              "t.toml:7:14: zone[0].transfer.notify_gap: 3601 is out of range (0..3600)");
    EXPECT_EQ(problem(zone + "notify_retries = 11\n"),
              "t.toml:7:18: zone[0].transfer.notify_retries: 11 is out of range (0..10)");
    EXPECT_EQ(problem(zone + "notify_retry_interval = 0\n"),
              "t.toml:7:25: zone[0].transfer.notify_retry_interval: 0 is out of range "
              "(0.01..60)");
    EXPECT_EQ(problem("[[zone]]\norigin = \"demo.test\"\n[[zone.ns]]\nname = \"ns.example.\"\n"
                      "[zone.transfer]\nnotify = [\"192.0.2.7\"]\n"),
              "t.toml:6:10: zone[0].transfer.notify: notify without allow: the secondaries "
              "notified could not transfer the zone");
    std::filesystem::remove_all(dir);
}

// describe_schema() is what the reference is written from. Each table's keys in it must be the
// keys the walk accepts there: a stray key in a table is answered with the list of its rows,
// which must be the described ones, in every table of a file that has them all.
TEST(Schema, DescribesTheKeysEachTableAccepts) {
    std::map<std::string, std::set<std::string>> described;  // table path -> its keys
    for (const KeyDoc& key : describe_schema())
        described[key.table].insert(key.key);
    const std::string every_table = R"([server]
[[key]]
name = "k."
[[zone]]
origin = "demo.test."
[[zone.ns]]
name = "ns1.example.net."
[zone.soa]
[zone.transfer]
[[service]]
name = "www.demo.test."
[service.health]
type = "http"
[[service.node]]
name = "a"
addresses = ["192.0.2.2"]
[control]
[rrl]
[metrics]
)";
    for (const auto& [table, keys] : described) {
        std::string header = table;  // "zone[].ns[]" -> "[[zone.ns]]"
        std::erase(header, '[');
        std::erase(header, ']');
        header = table.ends_with("[]") ? "[[" + header + "]]\n" : "[" + header + "]\n";
        std::string text = every_table;
        const std::size_t at = table.empty() ? 0 : text.find(header) + header.size();
        ASSERT_TRUE(table.empty() || text.find(header) != std::string::npos) << header;
        text.insert(at, "zzzzzzzzzz = 1\n");
        std::set<std::string> accepted;
        for (const std::string& p : problems(text)) {
            const std::string list = "(expected one of: ";
            const auto begin = p.find(list);
            if (begin == std::string::npos) continue;
            std::istringstream words(
                p.substr(begin + list.size(), p.size() - begin - list.size() - 1));
            for (std::string word; words >> word;)
                accepted.insert(word);
        }
        EXPECT_EQ(accepted, keys) << "table " << (table.empty() ? "(the document)" : table);
    }
    EXPECT_EQ(described.size(), 13u);  // the document and its twelve tables
}

TEST(Schema, DescribesEachKeyWithItsFacts) {
    const std::vector<KeyDoc> keys = describe_schema();
    auto at = [&](std::string_view path) {
        auto it =
            std::find_if(keys.begin(), keys.end(), [&](const KeyDoc& k) { return k.path == path; });
        if (it == keys.end()) {
            ADD_FAILURE() << "no key " << path;
            return KeyDoc{};
        }
        return *it;
    };
    const KeyDoc fast = at("service[].health.fast_interval");
    EXPECT_EQ(fast.table, "service[].health");
    EXPECT_EQ(fast.key, "fast_interval");
    EXPECT_EQ(fast.type, "seconds");
    EXPECT_EQ(fast.range, "0.01..3600");
    EXPECT_EQ(fast.fallback, "");
    EXPECT_EQ(fast.default_note, "a fifth of interval");
    EXPECT_FALSE(fast.required);
    const KeyDoc listen = at("server.listen");
    EXPECT_EQ(listen.type, "array of strings");
    EXPECT_EQ(listen.range, "at least 1");
    EXPECT_EQ(listen.fallback, R"(["0.0.0.0:53", "[::]:53"])");
    const KeyDoc zones = at("zone[]");
    EXPECT_TRUE(zones.required);
    EXPECT_EQ(zones.type, "array of tables");
    const KeyDoc serial = at("zone[].soa.serial");
    EXPECT_EQ(serial.type, "integer or \"auto\"");
    EXPECT_EQ(serial.range, "0..4294967295");
    EXPECT_EQ(serial.fallback, "\"auto\"");
    EXPECT_EQ(at("server.identity").range, "at most 255 octets");
    EXPECT_EQ(at("server.identity").default_note, "the host name");
    EXPECT_TRUE(at("zone[].ns[].name").required);
    EXPECT_EQ(at("service[].node[].health").type, "table");  // overrides, not repeated
    std::set<std::string> paths;
    for (const KeyDoc& key : keys) {
        EXPECT_TRUE(paths.insert(key.path).second) << "twice: " << key.path;
        EXPECT_TRUE(!key.meaning.empty() && key.meaning.back() == '.')
            << key.path << ": a meaning in sentences: " << key.meaning;
        EXPECT_TRUE(key.table.empty() || paths.count(key.table)) << key.path << " before its table";
    }
}

}  // namespace
}  // namespace nolb::config
