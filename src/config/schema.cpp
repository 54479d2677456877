// Every configuration key, declared once: one table of rows per kind of TOML table, in the
// spirit of Knot's schema. conf/nolb.toml documents the same keys for operators.
//
// Rows are walked in the order written here, not in file order, which the conversions rely on:
// a zone's origin is read before the names that hang from it, a name server's name before its
// glue, and zones before the services that must fall inside them. Tables are declared leaves
// first because a parent's store function walks its children.
#include "config/schema.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <string>

#include "util/log.hpp"
#include "util/version.hpp"

namespace nolb::config {

namespace {

constexpr double kMaxTtl = 2'147'483'647;  // RFC 2181 §8
constexpr double kMaxU32 = 4'294'967'295;

// ---- Conversions shared by several rows

std::optional<util::IpAddress> read_address(const Value& value, Context& ctx) {
    auto address = util::IpAddress::parse(value.string);
    if (!address) ctx.error(value, in_quotes(value.string) + " is not an IPv4 or IPv6 address");
    return address;
}

void bad_name(const Value& value, Context& ctx, std::string_view why) {
    ctx.error(value, in_quotes(value.string) + " is not a valid name: " + std::string(why));
}

// A name that is always absolute (a zone origin, a service); the trailing dot is optional.
std::optional<Name> read_absolute_name(const Value& value, Context& ctx) {
    std::string why;
    auto name = parse_name(value.string, why);
    if (!name) {
        bad_name(value, ctx, why);
        return std::nullopt;
    }
    name->absolute = true;
    return name;
}

// A name written inside a [[zone]], as in a zone file: "@" is the origin, a trailing dot makes it
// absolute, anything else is relative to the origin. `text` is value.string, or what a mailbox
// was rewritten to. Returns nullopt when the name is wrong (reported) or cannot be completed
// because the origin is (reported there).
std::optional<Name> read_zone_name(std::string_view text, const Value& value, Context& ctx) {
    if (text == "@") return ctx.origin;
    std::string why;
    auto name = parse_name(text, why);
    if (!name) {
        bad_name(value, ctx, why);
        return std::nullopt;
    }
    if (name->absolute) return name;
    if (!ctx.origin) return std::nullopt;
    Name full = name->under(*ctx.origin);
    if (full.wire_length() > kMaxNameOctets) {
        bad_name(value, ctx, "longer than 255 octets once the origin is appended");
        return std::nullopt;
    }
    return full;
}

bool inside_current_zone(const std::string& name, const Context& ctx) {
    std::string why;
    auto parsed = parse_name(name, why);
    return parsed && ctx.origin && parsed->at_or_below(*ctx.origin);
}

// Why `path` cannot be read as a zone file, or "" when it can.
std::string unreadable(const std::filesystem::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return std::strerror(errno);
    struct stat st {};
    bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    ::close(fd);
    return regular ? "" : "not a regular file";
}

// ---- [[service.node]]

bool is_node_name(std::string_view name) {
    for (char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == '-';
        if (!ok) return false;
    }
    return true;
}

void store_node_name(Node& node, const Value& value, Context& ctx) {
    if (!is_node_name(value.string)) {
        ctx.error(value, in_quotes(value.string) + " is not a node name (letters, digits, _ . -)");
        return;
    }
    const Value& service = ctx.enclosing(1);
    ctx.unique(service.path + " node", value.string, value,
               "node " + in_quotes(value.string) + " is already defined");
    node.name = value.string;
}

// No address may appear twice in one service, whichever nodes list it.
void store_node_addresses(Node& node, const Value& value, Context& ctx) {
    const Value& service = ctx.enclosing(1);
    for (const Value& element : value.items) {
        auto address = read_address(element, ctx);
        if (!address) continue;
        std::string text = address->to_string();
        if (ctx.unique(service.path + " address", text, element, text + " is already listed")) {
            node.addresses.push_back(*address);
        }
    }
}

constexpr Item<Node> kNodeItems[] = {
    {.key = "name",
     .type = Type::string,
     .required = true,
     .min = 1,
     .meaning = "label for the node, unique within the service: [A-Za-z0-9_.-]+",
     .store = store_node_name},
    {.key = "addresses",
     .type = Type::strings,
     .required = true,
     .min = 1,
     .meaning = "IPv4/IPv6 addresses the node serves on; each published as A or AAAA",
     .store = store_node_addresses},
};
constexpr Table<Node> kNode{kNodeItems};

// ---- [[service]]

void store_service_name(Service& service, const Value& value, Context& ctx) {
    auto name = read_absolute_name(value, ctx);
    if (!name) return;
    service.name = name->to_string();
    bool inside = false;
    for (const Name& origin : ctx.origins)
        inside = inside || name->at_or_below(origin);
    if (!inside) {
        if (ctx.origins_complete) {
            ctx.error(value, service.name + " is not inside any configured zone");
        }
        return;
    }
    ctx.unique("service", service.name, value, "service " + service.name + " is already defined");
}

void store_health(Service& service, const Value& value, Context& ctx) {
    if (value.string != "none") {
        ctx.error(value, in_quotes(value.string) +
                             ": health checks are not available in this version (only \"none\")");
        return;
    }
    service.health = HealthMode::none;
}

void store_nodes(Service& service, const Value& value, Context& ctx) {
    for (const Value& element : value.items) {
        Node node;
        node.where = ctx.source(element);
        walk(kNode, element, node, ctx);
        service.nodes.push_back(std::move(node));
    }
}

constexpr Item<Service> kServiceItems[] = {
    {.key = "name",
     .type = Type::string,
     .required = true,
     .min = 1,
     .meaning = "the name answered with every node's addresses; absolute, inside a zone",
     .store = store_service_name},
    {.key = "ttl",
     .type = Type::integer,
     .max = 86'400,
     .fallback = "20",
     .meaning = "TTL of the A/AAAA answers, seconds",
     .store = [](Service& s, const Value& v,
                 Context&) { s.ttl = static_cast<std::uint32_t>(v.integer); }},
    {.key = "health",
     .type = Type::string,
     .fallback = R"("none")",
     .meaning = "how nodes are checked; \"none\" publishes every address",
     .store = store_health},
    {.key = "node",
     .type = Type::tables,
     .required = true,
     .min = 1,
     .meaning = "the nodes behind the name, [[service.node]]",
     .store = store_nodes},
};
constexpr Table<Service> kService{kServiceItems};

// ---- [zone.soa]

// "hostmaster@demo.test" -> "hostmaster.demo.test."; dots in the local part are escaped
// (RFC 1035 §8) so that they stay part of the first label.
std::optional<std::string> mailbox_to_name(std::string_view text, const Value& value,
                                           Context& ctx) {
    auto at = text.find('@');
    std::string_view local = text.substr(0, at);
    std::string_view domain = text.substr(at + 1);
    if (local.empty() || domain.empty()) {
        ctx.error(value, in_quotes(value.string) + " is not a mailbox (user@domain)");
        return std::nullopt;
    }
    std::string name;
    for (std::size_t i = 0; i < local.size(); ++i) {
        if (local[i] == '.' && (i == 0 || local[i - 1] != '\\')) name += '\\';
        name += local[i];
    }
    name += '.';
    name += domain;
    if (name.back() != '.') name += '.';
    return name;
}

void store_rname(Soa& soa, const Value& value, Context& ctx) {
    std::string text = value.string;
    if (text != "@" && text.find('@') != std::string::npos) {
        auto converted = mailbox_to_name(text, value, ctx);
        if (!converted) return;
        text = *converted;
    }
    if (auto name = read_zone_name(text, value, ctx)) soa.rname = name->to_string();
}

std::uint32_t to_u32(const Value& value) {
    return static_cast<std::uint32_t>(value.integer);
}

constexpr Item<Soa> kSoaItems[] = {
    {.key = "mname",
     .type = Type::string,
     .min = 1,
     .meaning = "primary master name, relative to the origin unless it ends with a dot; "
                "default: the first [[zone.ns]] name",
     .store =
         [](Soa& soa, const Value& v, Context& ctx) {
             if (auto name = read_zone_name(v.string, v, ctx)) soa.mname = name->to_string();
         }},
    {.key = "rname",
     .type = Type::string,
     .min = 1,
     .meaning = "responsible mailbox, as a name or user@domain; default: hostmaster.<origin>",
     .store = store_rname},
    {.key = "serial",
     .type = Type::integer_or_auto,
     .max = kMaxU32,
     .fallback = R"("auto")",
     .meaning = "\"auto\" (seconds since the epoch at load) or a fixed integer",
     .store =
         [](Soa& soa, const Value& v, Context&) {
             if (v.kind == Value::Kind::integer) {
                 soa.serial = to_u32(v);
             } else {
                 soa.serial.reset();
             }
         }},
    {.key = "refresh",
     .type = Type::integer,
     .max = kMaxTtl,
     .fallback = "3600",
     .meaning = "seconds",
     .store = [](Soa& soa, const Value& v, Context&) { soa.refresh = to_u32(v); }},
    {.key = "retry",
     .type = Type::integer,
     .max = kMaxTtl,
     .fallback = "600",
     .meaning = "seconds",
     .store = [](Soa& soa, const Value& v, Context&) { soa.retry = to_u32(v); }},
    {.key = "expire",
     .type = Type::integer,
     .max = kMaxTtl,
     .fallback = "1209600",
     .meaning = "seconds",
     .store = [](Soa& soa, const Value& v, Context&) { soa.expire = to_u32(v); }},
    {.key = "minimum",
     .type = Type::integer,
     .max = kMaxTtl,
     .fallback = "60",
     .meaning = "negative-caching TTL, seconds (RFC 2308)",
     .store = [](Soa& soa, const Value& v, Context&) { soa.minimum = to_u32(v); }},
    {.key = "ttl",
     .type = Type::integer,
     .max = kMaxTtl,
     .meaning = "TTL of the SOA record itself; default: the zone's ttl",
     .store = [](Soa& soa, const Value& v, Context&) { soa.ttl = to_u32(v); }},
};
constexpr Table<Soa> kSoa{kSoaItems};

// ---- [[zone.ns]]

void store_ns_name(NameServer& ns, const Value& value, Context& ctx) {
    auto name = read_zone_name(value.string, value, ctx);
    if (!name) return;
    ns.name = name->to_string();
    const Value& zone = ctx.enclosing(1);
    ctx.unique(zone.path + " ns", ns.name, value, ns.name + " is already listed");
}

// Glue exists for names at or below the origin, and only for them.
void store_glue(NameServer& ns, const Value& value, Context& ctx) {
    bool known = !ns.name.empty() && ctx.origin;
    if (known && !inside_current_zone(ns.name, ctx)) {
        ctx.error(value, "glue is not allowed: " + ns.name + " is outside the zone " +
                             ctx.origin->to_string());
        return;
    }
    if (known && value.items.empty()) {
        ctx.error(value, "must not be empty: " + ns.name + " is inside the zone and needs glue");
        return;
    }
    for (const Value& element : value.items) {
        auto address = read_address(element, ctx);
        if (!address) continue;
        std::string text = address->to_string();
        if (ctx.unique(value.path, text, element, text + " is already listed")) {
            ns.addresses.push_back(*address);
        }
    }
}

void finish_ns(NameServer& ns, const Value& table, Context& ctx) {
    if (ns.name.empty() || table.member("addresses") || !inside_current_zone(ns.name, ctx)) return;
    ctx.error(table.at, child_path(table.path, "addresses"),
              "required key is missing: " + ns.name + " is inside the zone and needs glue");
}

constexpr Item<NameServer> kNameServerItems[] = {
    {.key = "name",
     .type = Type::string,
     .required = true,
     .min = 1,
     .meaning = "name server, relative to the origin unless it ends with a dot; \"@\" = origin",
     .store = store_ns_name},
    {.key = "addresses",
     .type = Type::strings,
     .meaning = "glue: required when the name is inside the zone, refused when outside",
     .store = store_glue},
};
constexpr Table<NameServer> kNameServer{kNameServerItems, finish_ns};

// ---- [[zone]]

void store_origin(Zone& zone, const Value& value, Context& ctx) {
    auto name = read_absolute_name(value, ctx);
    if (!name) return;
    if (name->is_root()) {
        ctx.error(value, "the root zone cannot be served");
        return;
    }
    zone.origin = name->to_string();
    ctx.origin = name;
    if (ctx.unique("zone", zone.origin, value, "zone " + zone.origin + " is already defined")) {
        ctx.origins.push_back(*name);
    }
}

void store_zone_file(Zone& zone, const Value& value, Context& ctx) {
    std::filesystem::path path(value.string);
    if (path.is_relative()) path = ctx.folder() / path;
    path = path.lexically_normal();
    if (std::string why = unreadable(path); !why.empty()) {
        ctx.error(value, "cannot read " + in_quotes(path.string()) + ": " + why);
        return;
    }
    zone.file = path.string();
}

void store_records(Zone& zone, const Value& value, Context& ctx) {
    for (const Value& element : value.items) {
        if (element.string.empty()) {
            ctx.error(element, "empty record");
        } else if (element.string.find_first_of("\r\n") != std::string::npos) {
            ctx.error(element, "a record must fit on one line");
        } else {
            zone.records.push_back({element.string, ctx.source(element)});
        }
    }
}

void store_name_servers(Zone& zone, const Value& value, Context& ctx) {
    for (const Value& element : value.items) {
        NameServer ns;
        ns.where = ctx.source(element);
        walk(kNameServer, element, ns, ctx);
        zone.ns.push_back(std::move(ns));
    }
}

// The SOA defaults that depend on other keys of the zone.
void finish_zone(Zone& zone, const Value&, Context&) {
    if (!zone.soa.ttl) zone.soa.ttl = zone.ttl;
    if (zone.origin.empty()) return;
    if (zone.soa.mname.empty() && !zone.ns.empty()) zone.soa.mname = zone.ns.front().name;
    if (zone.soa.rname.empty()) zone.soa.rname = "hostmaster." + zone.origin;
}

constexpr Item<Zone> kZoneItems[] = {
    {.key = "origin",
     .type = Type::string,
     .required = true,
     .min = 1,
     .meaning = "the zone's apex; trailing dot optional; not the root",
     .store = store_origin},
    {.key = "ttl",
     .type = Type::integer,
     .max = kMaxTtl,
     .fallback = "3600",
     .meaning = "TTL of records written without one, seconds",
     .store = [](Zone& z, const Value& v, Context&) { z.ttl = to_u32(v); }},
    {.key = "file",
     .type = Type::string,
     .min = 1,
     .meaning = "RFC 1035 master file with more records, relative to this file's folder",
     .store = store_zone_file},
    {.key = "records",
     .type = Type::strings,
     .meaning = "records in zone-file syntax, owner names relative to the origin",
     .store = store_records},
    {.key = "ns",
     .type = Type::tables,
     .required = true,
     .min = 1,
     .meaning = "the zone's name servers, [[zone.ns]]",
     .store = store_name_servers},
    {.key = "soa",
     .type = Type::table,
     .fallback = "{}",
     .meaning = "the zone's SOA fields, [zone.soa]",
     .store = [](Zone& z, const Value& v, Context& ctx) { walk(kSoa, v, z.soa, ctx); }},
};
constexpr Table<Zone> kZone{kZoneItems, finish_zone};

// ---- [server]

void store_listen(Server& server, const Value& value, Context& ctx) {
    for (const Value& element : value.items) {
        auto endpoint = util::Endpoint::parse(element.string, 53);
        if (!endpoint) {
            ctx.error(element, in_quotes(element.string) +
                                   " is not an endpoint (ADDR:PORT, [V6]:PORT or an address)");
            continue;
        }
        std::string text = endpoint->to_string();
        if (ctx.unique(value.path, text, element, text + " is already listed")) {
            server.listen.push_back(*endpoint);
        }
    }
}

void store_log_level(Server& server, const Value& value, Context& ctx) {
    log::Level level;
    if (!log::parse_level(value.string, level)) {
        ctx.error(value,
                  in_quotes(value.string) + " is not a log level (debug, info, warning, error)");
        return;
    }
    server.log_level = value.string;
}

std::string host_name() {
    char buffer[256] = {};
    if (::gethostname(buffer, sizeof buffer - 1) != 0 || buffer[0] == '\0') return "nolbd";
    return buffer;
}

void finish_server(Server& server, const Value&, Context&) {
    if (server.identity.empty()) server.identity = host_name();
    if (server.version.empty()) server.version = std::string("nolbd ") + kVersion;
}

constexpr Item<Server> kServerItems[] = {
    {.key = "listen",
     .type = Type::strings,
     .min = 1,
     .fallback = R"(["0.0.0.0:53", "[::]:53"])",
     .meaning = "where to answer, UDP and TCP: \"ADDR:PORT\", \"[V6]:PORT\" or an address",
     .store = store_listen},
    {.key = "workers",
     .type = Type::integer,
     .min = 1,
     .max = 64,
     .fallback = "1",
     .meaning = "answering threads",
     .store = [](Server& s, const Value& v,
                 Context&) { s.workers = static_cast<unsigned>(v.integer); }},
    {.key = "edns_payload",
     .type = Type::integer,
     .min = 512,
     .max = 4096,
     .fallback = "1232",
     .meaning = "largest UDP answer offered to EDNS clients, octets",
     .store = [](Server& s, const Value& v,
                 Context&) { s.edns_payload = static_cast<std::uint16_t>(v.integer); }},
    {.key = "tcp_idle_timeout",
     .type = Type::seconds,
     .min = 0.1,
     .max = 3600,
     .fallback = "10",
     .meaning = "seconds a TCP connection may stay silent",
     .store =
         [](Server& s, const Value& v, Context&) {
             s.tcp_idle_timeout = std::chrono::milliseconds(std::llround(v.number() * 1000));
         }},
    {.key = "tcp_max_connections",
     .type = Type::integer,
     .min = 1,
     .max = 1'000'000,
     .fallback = "256",
     .meaning = "open TCP connections, in total",
     .store = [](Server& s, const Value& v,
                 Context&) { s.tcp_max_connections = static_cast<unsigned>(v.integer); }},
    {.key = "chaos",
     .type = Type::boolean,
     .fallback = "false",
     .meaning = "answer version.bind, id.server and hostname.bind in class CHAOS",
     .store = [](Server& s, const Value& v, Context&) { s.chaos = v.boolean; }},
    {.key = "identity",
     .type = Type::string,
     .max = 255,
     .fallback = R"("")",
     .meaning = "id.server / hostname.bind answer; \"\": the host name",
     .store = [](Server& s, const Value& v, Context&) { s.identity = v.string; }},
    {.key = "version",
     .type = Type::string,
     .max = 255,
     .fallback = R"("")",
     .meaning = "version.bind answer; \"\": \"nolbd <version>\"",
     .store = [](Server& s, const Value& v, Context&) { s.version = v.string; }},
    {.key = "log_level",
     .type = Type::string,
     .fallback = R"("info")",
     .meaning = "debug, info, warning or error",
     .store = store_log_level},
};
constexpr Table<Server> kServer{kServerItems, finish_server};

// ---- The document

void store_zones(Config& config, const Value& value, Context& ctx) {
    for (const Value& element : value.items) {
        Zone zone;
        zone.where = ctx.source(element);
        ctx.origin.reset();
        walk(kZone, element, zone, ctx);
        if (zone.origin.empty()) ctx.origins_complete = false;
        ctx.origin.reset();
        config.zones.push_back(std::move(zone));
    }
}

void store_services(Config& config, const Value& value, Context& ctx) {
    for (const Value& element : value.items) {
        Service service;
        service.where = ctx.source(element);
        walk(kService, element, service, ctx);
        config.services.push_back(std::move(service));
    }
}

constexpr Item<Config> kConfigItems[] = {
    {.key = "server",
     .type = Type::table,
     .fallback = "{}",
     .meaning = "the daemon: sockets, threads, limits, logging",
     .store = [](Config& c, const Value& v, Context& ctx) { walk(kServer, v, c.server, ctx); }},
    {.key = "zone",
     .type = Type::tables,
     .required = true,
     .min = 1,
     .meaning = "the zones served, [[zone]]",
     .store = store_zones},
    {.key = "service",
     .type = Type::tables,
     .meaning = "names answered with their nodes' addresses, [[service]]",
     .store = store_services},
};
constexpr Table<Config> kConfig{kConfigItems};

}  // namespace

void read_config(const Value& document, Config& out, Context& ctx) {
    walk(kConfig, document, out, ctx);
}

}  // namespace nolb::config
