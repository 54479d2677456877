// Every configuration key, declared once: one table of rows per kind of TOML table, in the
// spirit of Knot's schema. The operators' reference (nolb.toml(5), conf/nolb.toml and the
// README's key table) is generated from these rows by nolb-docs, through describe_schema().
//
// Rows are walked in the order written here, not in file order, which the conversions rely on:
// a zone's origin is read before the names that hang from it, a name server's name before its
// glue, and zones before the services that must fall inside them. Tables are declared leaves
// first because a parent's store function walks its children.
#include "config/schema.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

#include "dns/tsig.hpp"
#include "util/base64.hpp"
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

// ---- [service.health] and [service.node.health]

bool parse_health_type(std::string_view text, HealthMode& out) {
    if (text == "http") {
        out = HealthMode::http;
    } else if (text == "tcp") {
        out = HealthMode::tcp;
    } else if (text == "none") {
        out = HealthMode::none;
    } else {
        return false;
    }
    return true;
}

void store_health_type(HealthCheck& check, const Value& value, Context& ctx) {
    if (!parse_health_type(value.string, check.type)) {
        ctx.error(value, in_quotes(value.string) +
                             " is not a check type (\"http\", \"tcp\" or "
                             "\"none\")");
    }
}

// A node inherits its service's type: mixing kinds of checks in one service would make the
// all-down policy compare unlike things.
void refuse_type_override(HealthCheck&, const Value& value, Context& ctx) {
    ctx.error(value.key_at, value.path,
              "the type is set in [service.health]; a node overrides only the other keys");
}

// Request targets go on the request line as written: anything that would split or end the
// line is refused here rather than escaped on the wire.
bool is_request_token(std::string_view text) {
    return std::none_of(text.begin(), text.end(), [](char c) {
        auto octet = static_cast<unsigned char>(c);
        return octet <= 0x20 || octet == 0x7f;
    });
}

void store_health_path(HealthCheck& check, const Value& value, Context& ctx) {
    if (value.string.front() != '/') {
        ctx.error(value, in_quotes(value.string) + " must start with \"/\"");
    } else if (!is_request_token(value.string)) {
        ctx.error(value, in_quotes(value.string) +
                             " must not hold spaces or control characters (encode them as %XX)");
    } else {
        check.path = value.string;
    }
}

void store_health_host(HealthCheck& check, const Value& value, Context& ctx) {
    if (!is_request_token(value.string)) {
        ctx.error(value, in_quotes(value.string) + " must not hold spaces or control characters");
        return;
    }
    check.host = value.string;
}

constexpr std::int64_t kMinStatus = 100, kMaxStatus = 599;

std::optional<std::uint16_t> read_status_code(std::string_view text) {
    if (text.size() != 3 ||
        !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return std::nullopt;
    }
    int code = (text[0] - '0') * 100 + (text[1] - '0') * 10 + (text[2] - '0');
    if (code < kMinStatus || code > kMaxStatus) return std::nullopt;
    return static_cast<std::uint16_t>(code);
}

// [200, 301, "200-299"]: single codes as integers, ranges as "LOW-HIGH" strings.
void store_health_status(HealthCheck& check, const Value& value, Context& ctx) {
    std::vector<StatusRange> ranges;
    bool ok = true;
    for (const Value& element : value.items) {
        if (element.kind == Value::Kind::integer) {
            if (element.integer < kMinStatus || element.integer > kMaxStatus) {
                ctx.error(element, std::to_string(element.integer) + " is out of range (100..599)");
                ok = false;
                continue;
            }
            auto code = static_cast<std::uint16_t>(element.integer);
            ranges.push_back({code, code});
        } else if (element.kind == Value::Kind::string) {
            std::string_view text = element.string;
            auto dash = text.find('-');
            std::optional<std::uint16_t> low, high;
            if (dash != std::string_view::npos) {
                low = read_status_code(text.substr(0, dash));
                high = read_status_code(text.substr(dash + 1));
            }
            if (!low || !high) {
                ctx.error(element, in_quotes(element.string) +
                                       " is not a range of status codes (\"LOW-HIGH\", 100..599)");
                ok = false;
            } else if (*low > *high) {
                ctx.error(element, in_quotes(element.string) + " is an empty range");
                ok = false;
            } else {
                ranges.push_back({*low, *high});
            }
        } else {
            ctx.error(element, "expected a status code or a \"LOW-HIGH\" string, found " +
                                   element.kind_name);
            ok = false;
        }
    }
    if (ok) check.status = std::move(ranges);
}

std::chrono::milliseconds to_milliseconds(const Value& value) {
    return std::chrono::milliseconds(std::llround(value.number() * 1000));
}

std::string seconds_text(std::chrono::milliseconds ms) {
    std::string text = std::to_string(ms.count() / 1000);
    if (auto fraction = ms.count() % 1000; fraction != 0) {
        std::string digits = std::to_string(fraction + 1000).substr(1);  // zero-padded to 3
        while (digits.back() == '0')
            digits.pop_back();
        text += "." + digits;
    }
    return text + " s";
}

// Keys that make sense for one type only. A check of type "none" keeps the others unused, so
// that checks can be switched off for a while without deleting their settings.
void finish_health(HealthCheck& check, const Value& table, Context& ctx) {
    if (check.type == HealthMode::tcp) {
        for (std::string_view key : {"path", "host", "status", "body"}) {
            if (const Value* given = table.member(key)) {
                ctx.error(given->key_at, given->path,
                          "only for type = \"http\" (this check is \"tcp\")");
            }
        }
    }
    if (check.timeout > check.interval) {
        // Blame the key written here: a node override may break the rule either way.
        const Value* given = table.member("timeout");
        if (!given) given = table.member("interval");
        std::string message = "timeout (" + seconds_text(check.timeout) +
                              ") must not exceed interval (" + seconds_text(check.interval) +
                              "): one probe at a time per address";
        if (given) {
            ctx.error(*given, message);
        } else {
            ctx.error(table.at, child_path(table.path, "timeout"), message);
        }
    }
    if (check.fast_interval && *check.fast_interval > check.interval) {
        const Value* given = table.member("fast_interval");
        if (!given) given = table.member("interval");
        std::string message = "fast_interval (" + seconds_text(*check.fast_interval) +
                              ") must not exceed interval (" + seconds_text(check.interval) +
                              "): it speeds probing up, never slows it down";
        if (given) {
            ctx.error(*given, message);
        } else {
            ctx.error(table.at, child_path(table.path, "fast_interval"), message);
        }
    }
}

constexpr Item<HealthCheck> kHealthItems[] = {
    {.key = "type",
     .type = Type::string,
     .required = true,
     .meaning = "How each address is checked: \"http\" (connect, send a GET, judge the status and "
                "optionally the body), \"tcp\" (the address accepts a connection) or \"none\" (no "
                "checks; the other keys are kept but unused, so that checks can be switched off "
                "without deleting them).",
     .store = store_health_type},
    {.key = "port",
     .type = Type::integer,
     .min = 1,
     .max = 65'535,
     .fallback = "80",
     .meaning = "The TCP port probed on each address.",
     .store = [](HealthCheck& c, const Value& v,
                 Context&) { c.port = static_cast<std::uint16_t>(v.integer); }},
    {.key = "path",
     .type = Type::string,
     .min = 1,
     .max = 1024,
     .fallback = R"("/")",
     .meaning = "http only: the request target. It starts with \"/\" and holds no spaces or "
                "control characters (encode them as %XX).",
     .store = store_health_path},
    {.key = "host",
     .type = Type::string,
     .min = 1,
     .max = 255,
     .default_note = "the service name without its trailing dot",
     .meaning = "http only: the Host header sent.",
     .store = store_health_host},
    {.key = "status",
     .type = Type::array,
     .min = 1,
     .fallback = R"(["200-299"])",
     .meaning = "http only: the accepted status codes, integers and/or \"LOW-HIGH\" ranges, each "
                "within 100..599. Any other status fails the probe as soon as the status line is "
                "read.",
     .store = store_health_status},
    {.key = "body",
     .type = Type::string,
     .max = 1024,
     .fallback = R"("")",
     .meaning = "http only: a substring the body must contain; \"\" checks nothing. The probe "
                "reads at most 64 KiB of response (status line, headers and body); more fails it.",
     .store = [](HealthCheck& c, const Value& v, Context&) { c.body = v.string; }},
    {.key = "interval",
     .type = Type::seconds,
     .min = 0.1,
     .max = 3600,
     .fallback = "1",
     .meaning = "Seconds from the start of one probe of an address to the start of the next; an "
                "integer or a float.",
     .store = [](HealthCheck& c, const Value& v, Context&) { c.interval = to_milliseconds(v); }},
    // No fallback: unset means a fifth of interval, whichever table sets interval.
    {.key = "fast_interval",
     .type = Type::seconds,
     .min = 0.01,
     .max = 3600,
     .default_note = "a fifth of interval",
     .meaning = "Seconds from a probe's result to the next probe while the address is in "
                "transition: a failure while it is up, or a success while it is down, short of "
                "fall or rise (HAProxy's fastinter). The streak is then confirmed or broken "
                "quickly, and probing returns to interval after it. For an up address whose probes "
                "are answered quickly, it is also how long a probe may go unanswered before the "
                "next one starts beside it. At most interval; equal to it, nothing is faster.",
     .store = [](HealthCheck& c, const Value& v,
                 Context&) { c.fast_interval = to_milliseconds(v); }},
    {.key = "timeout",
     .type = Type::seconds,
     .min = 0.05,
     .max = 60,
     .fallback = "1",
     .meaning = "Seconds a probe may take in all, connecting and the whole response; at most "
                "interval.",
     .store = [](HealthCheck& c, const Value& v, Context&) { c.timeout = to_milliseconds(v); }},
    {.key = "jitter",
     .type = Type::number,
     .max = 0.5,
     .fallback = "0.1",
     .meaning = "Each interval is drawn at random in interval * (1 - jitter) .. interval * (1 + "
                "jitter), so that the probes of many addresses do not stay in step.",
     .store = [](HealthCheck& c, const Value& v, Context&) { c.jitter = v.number(); }},
    {.key = "rise",
     .type = Type::integer,
     .min = 1,
     .max = 100,
     .fallback = "2",
     .meaning = "Consecutive successful probes that bring a down address up.",
     .store = [](HealthCheck& c, const Value& v,
                 Context&) { c.rise = static_cast<unsigned>(v.integer); }},
    {.key = "fall",
     .type = Type::integer,
     .min = 1,
     .max = 100,
     .fallback = "2",
     .meaning = "Consecutive failed probes that take an up address down. An address that fails "
                "fast (an error status, a refused connection) leaves the answers within about "
                "interval * (1 + jitter) + (fall - 1) * fast_interval.",
     .store = [](HealthCheck& c, const Value& v,
                 Context&) { c.fall = static_cast<unsigned>(v.integer); }},
};
constexpr Table<HealthCheck> kHealth{kHealthItems, finish_health};

// [service.node.health] is the same rows read onto a copy of the service's check: no defaults
// (what is not written stays as the service has it) and no type.
constexpr auto kHealthOverrideItems = [] {
    std::array<Item<HealthCheck>, std::size(kHealthItems)> items{};
    for (std::size_t i = 0; i < items.size(); ++i) {
        items[i] = kHealthItems[i];
        items[i].fallback = {};
        items[i].required = false;
        if (items[i].key == "type") items[i].store = refuse_type_override;
    }
    return items;
}();
constexpr Table<HealthCheck> kHealthOverride{kHealthOverrideItems, finish_health};

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

// Probe addresses pair with published ones by index: a node published on a public address may
// be checked on a private one, the same family (the check must test the same stack).
void store_probe_addresses(Node& node, const Value& value, Context& ctx) {
    const Value* published = ctx.enclosing(0).member("addresses");
    if (published && published->kind == Value::Kind::array &&
        published->items.size() != value.items.size()) {
        ctx.error(value, "has " + std::to_string(value.items.size()) + " where addresses has " +
                             std::to_string(published->items.size()) + ": they pair by index");
        return;
    }
    std::vector<util::IpAddress> probes;
    bool ok = true;
    for (std::size_t i = 0; i < value.items.size(); ++i) {
        const Value& element = value.items[i];
        auto address = read_address(element, ctx);
        if (!address) {
            ok = false;
            continue;
        }
        std::optional<util::IpAddress> pair;
        if (published && published->kind == Value::Kind::array &&
            published->items[i].kind == Value::Kind::string) {
            pair = util::IpAddress::parse(published->items[i].string);
        }
        if (pair && pair->family != address->family) {
            ctx.error(element, address->to_string() + " is not of the same family as " +
                                   pair->to_string() + ", the address it probes for");
            ok = false;
            continue;
        }
        probes.push_back(*address);
    }
    if (ok) node.probe_addresses = std::move(probes);
}

constexpr Item<Node> kNodeItems[] = {
    {.key = "name",
     .type = Type::string,
     .required = true,
     .min = 1,
     .meaning = "The node's name, unique within the service: letters, digits, \"_\", \".\" and "
                "\"-\". nolbctl drains and undrains nodes by this name.",
     .store = store_node_name},
    {.key = "addresses",
     .type = Type::strings,
     .required = true,
     .min = 1,
     .meaning = "The node's addresses, IPv4 and/or IPv6, published as A and AAAA records. An "
                "address may appear only once in a service.",
     .store = store_node_addresses},
    {.key = "probe_addresses",
     .type = Type::strings,
     .min = 1,
     .default_note = "each published address is probed",
     .meaning = "Addresses to probe instead of the published ones (a private interface, say), "
                "paired with addresses by index: as many of them, each of the same family as its "
                "pair.",
     .store = store_probe_addresses},
    {.key = "health",
     .type = Type::table,
     .meaning = "This node's changes to [service.health]: any of its keys but type. What is not "
                "written here is as [service.health] has it.",
     .store = [](Node& n, const Value& v,
                 Context& ctx) { walk(kHealthOverride, v, n.health, ctx); }},
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

// `health = "none"` is the zero-admin shorthand; a check is a [service.health] table.
void store_health(Service& service, const Value& value, Context& ctx) {
    if (value.kind == Value::Kind::string) {
        if (value.string == "none") {
            service.health = HealthCheck{};
            service.health.type = HealthMode::none;
        } else {
            HealthMode mode;
            std::string hint =
                parse_health_type(value.string, mode)
                    ? "write a [service.health] table with type = " + in_quotes(value.string)
                    : "write a [service.health] table";
            ctx.error(value,
                      in_quotes(value.string) + ": only \"none\" is written as a string; " + hint);
        }
        return;
    }
    walk(kHealth, value, service.health, ctx);
    if (service.health.host.empty() && !service.name.empty()) {
        service.health.host = service.name.substr(0, service.name.size() - 1);
    }
}

void store_all_down(Service& service, const Value& value, Context& ctx) {
    if (value.string == "all") {
        service.all_down = AllDown::all;
    } else if (value.string == "none") {
        service.all_down = AllDown::none;
    } else {
        ctx.error(value, in_quotes(value.string) + " is not \"all\" or \"none\"");
    }
}

void store_startup(Service& service, const Value& value, Context& ctx) {
    if (value.string == "probe") {
        service.startup = Startup::probe;
    } else if (value.string == "up") {
        service.startup = Startup::up;
    } else if (value.string == "down") {
        service.startup = Startup::down;
    } else {
        ctx.error(value, in_quotes(value.string) + " is not \"probe\", \"up\" or \"down\"");
    }
}

void store_nodes(Service& service, const Value& value, Context& ctx) {
    for (const Value& element : value.items) {
        Node node;
        node.where = ctx.source(element);
        node.health = service.health;  // [service.node.health] changes this copy
        walk(kNode, element, node, ctx);
        service.nodes.push_back(std::move(node));
    }
}

constexpr Item<Service> kServiceItems[] = {
    {.key = "name",
     .type = Type::string,
     .required = true,
     .min = 1,
     .meaning = "The service's name, answered with the addresses of its nodes. Always absolute "
                "(the trailing dot is optional) and inside one of the zones, the deepest of which "
                "serves it; two services may not share a name.",
     .store = store_service_name},
    {.key = "ttl",
     .type = Type::integer,
     .max = 86'400,
     .fallback = "20",
     .meaning = "TTL of the A and AAAA answers, in seconds. Keep it short: it bounds how long a "
                "client may keep using an address after its node went down.",
     .store = [](Service& s, const Value& v,
                 Context&) { s.ttl = static_cast<std::uint32_t>(v.integer); }},
    {.key = "health",
     .type = Type::string_or_table,
     .min = 1,
     .fallback = R"("none")",
     .meaning = "How the nodes are checked: the string \"none\" (no checks: every address is "
                "published, the zero-admin setting) or a [service.health] table. A node may "
                "change any key of the table but type in its own [service.node.health].",
     .nested = describe_rows<kHealth>,
     .store = store_health},
    {.key = "all_down",
     .type = Type::string,
     .fallback = R"("all")",
     .meaning = "What to publish for an address family (IPv4 or IPv6) when none of its addresses "
                "is up: \"all\" publishes every address of the family anyway (fail open: clients "
                "may still find one that works, and a broken health check cannot take the service "
                "off the air); \"none\" publishes none (the answer is NODATA). Addresses of "
                "drained nodes stay out either way.",
     .store = store_all_down},
    {.key = "startup",
     .type = Type::string,
     .fallback = R"("probe")",
     .meaning = "An address's state until its first probe result: \"probe\" (nolbd probes every "
                "address once before it answers, and that result decides), \"up\" (assume up; fall "
                "failures take it out) or \"down\" (assume down; rise successes bring it in).",
     .store = store_startup},
    {.key = "node",
     .type = Type::tables,
     .required = true,
     .min = 1,
     .meaning = "A machine behind the service.",
     .nested = describe_rows<kNode>,
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
     .default_note = "the first [[zone.ns]] name",
     .meaning = "The primary master's name, relative to the origin unless it ends with a dot.",
     .store =
         [](Soa& soa, const Value& v, Context& ctx) {
             if (auto name = read_zone_name(v.string, v, ctx)) soa.mname = name->to_string();
         }},
    {.key = "rname",
     .type = Type::string,
     .min = 1,
     .default_note = "hostmaster.<origin>",
     .meaning = "The responsible mailbox: a name (relative like mname) or \"user@domain\".",
     .store = store_rname},
    {.key = "serial",
     .type = Type::integer_or_auto,
     .max = kMaxU32,
     .fallback = R"("auto")",
     .meaning = "\"auto\" (seconds since the epoch when the zone is loaded, moving forward with "
                "every published change) or a fixed integer.",
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
     .meaning = "Seconds a secondary waits before it checks the serial again (the SOA refresh "
                "field).",
     .store = [](Soa& soa, const Value& v, Context&) { soa.refresh = to_u32(v); }},
    {.key = "retry",
     .type = Type::integer,
     .max = kMaxTtl,
     .fallback = "600",
     .meaning = "Seconds a secondary waits before it tries again after a failed refresh (the SOA "
                "retry field).",
     .store = [](Soa& soa, const Value& v, Context&) { soa.retry = to_u32(v); }},
    {.key = "expire",
     .type = Type::integer,
     .max = kMaxTtl,
     .fallback = "1209600",
     .meaning = "Seconds after which a secondary that cannot refresh stops answering for the zone "
                "(the SOA expire field).",
     .store = [](Soa& soa, const Value& v, Context&) { soa.expire = to_u32(v); }},
    {.key = "minimum",
     .type = Type::integer,
     .max = kMaxTtl,
     .fallback = "60",
     .meaning = "The negative-caching TTL, in seconds (RFC 2308): NXDOMAIN and NODATA answers "
                "carry the SOA with the smaller of this and its TTL.",
     .store = [](Soa& soa, const Value& v, Context&) { soa.minimum = to_u32(v); }},
    {.key = "ttl",
     .type = Type::integer,
     .max = kMaxTtl,
     .default_note = "the zone's ttl",
     .meaning = "TTL of the SOA record itself, in seconds.",
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
     .meaning = "The name server's name, published as an NS record at the apex: relative to the "
                "origin unless it ends with a dot; \"@\" is the origin.",
     .store = store_ns_name},
    {.key = "addresses",
     .type = Type::strings,
     .meaning = "Glue addresses, IPv4 or IPv6: required, and not empty, when the name is at or "
                "below the origin; not allowed when it is outside the zone.",
     .store = store_glue},
};
constexpr Table<NameServer> kNameServer{kNameServerItems, finish_ns};

// ---- [zone.transfer]

void store_allow(Transfer& transfer, const Value& value, Context& ctx) {
    for (const Value& element : value.items) {
        auto prefix = util::Prefix::parse(element.string);
        if (!prefix) {
            ctx.error(element, in_quotes(element.string) +
                                   " is not an address or a prefix (192.0.2.0/24, 2001:db8::/32) "
                                   "with its host bits clear");
            continue;
        }
        if (ctx.unique(value.path, prefix->to_string(), element,
                       prefix->to_string() + " is already listed"))
            transfer.allow.push_back(*prefix);
    }
}

void store_transfer_keys(Transfer& transfer, const Value& value, Context& ctx) {
    for (const Value& element : value.items) {
        auto name = read_absolute_name(element, ctx);
        if (name) transfer.keys.push_back(name->to_string());
    }
}

// Secondaries to NOTIFY, written as the listen endpoints are: "ADDR", "ADDR:PORT", "[V6]:PORT".
void store_notify(Transfer& transfer, const Value& value, Context& ctx) {
    for (const Value& element : value.items) {
        auto endpoint = util::Endpoint::parse(element.string, 53);
        if (!endpoint) {
            ctx.error(element, in_quotes(element.string) +
                                   " is not an endpoint (ADDR, ADDR:PORT or [IPV6]:PORT)");
            continue;
        }
        if (ctx.unique(value.path, endpoint->to_string(), element,
                       endpoint->to_string() + " is already listed"))
            transfer.notify.push_back(*endpoint);
    }
}

void store_notify_key(Transfer& transfer, const Value& value, Context& ctx) {
    if (value.string.empty()) return;  // unsigned, whatever keys says
    auto name = read_absolute_name(value, ctx);
    if (name) transfer.notify_key = name->to_string();
}

// NOTIFY is signed by default with the key the secondaries already use for transfers.
void finish_transfer(Transfer& transfer, const Value& table, Context&) {
    if (!table.member("notify_key") && !transfer.keys.empty())
        transfer.notify_key = transfer.keys.front();
}

constexpr Item<Transfer> kTransferItems[] = {
    {.key = "allow",
     .type = Type::strings,
     .meaning = "Client addresses and prefixes (\"192.0.2.0/24\") that may transfer the zone "
                "by AXFR or IXFR over TCP. Empty, nobody may.",
     .store = store_allow},
    {.key = "keys",
     .type = Type::strings,
     .meaning = "Names of [[key]]s. When set, a transfer must also be signed (TSIG) with one "
                "of them.",
     .store = store_transfer_keys},
    {.key = "journal_changes",
     .type = Type::integer,
     .min = 1,
     .max = 1'000'000,
     .fallback = "1000",
     .meaning = "How many changes IXFR can start from. A secondary further behind gets the "
                "whole zone.",
     .store = [](Transfer& t, const Value& v,
                 Context&) { t.journal_changes = static_cast<std::size_t>(v.integer); }},
    {.key = "journal_bytes",
     .type = Type::integer,
     .min = 1024,
     .max = 1 << 30,
     .fallback = "16777216",
     .meaning = "The most octets the kept changes may take; the oldest go first.",
     .store = [](Transfer& t, const Value& v,
                 Context&) { t.journal_bytes = static_cast<std::size_t>(v.integer); }},
    {.key = "notify",
     .type = Type::strings,
     .meaning = "Secondaries told by NOTIFY (RFC 1996, over UDP) each time the zone's serial "
                "moves, so that they transfer it at once rather than at the SOA refresh: "
                "\"ADDR\" (port 53), \"ADDR:PORT\" or \"[IPV6]:PORT\", as listen is written. "
                "Needs allow: a secondary notified must be able to transfer the zone.",
     .store = store_notify},
    {.key = "notify_ns",
     .type = Type::boolean,
     .fallback = "true",
     .meaning = "Also notify, on port 53, the glue addresses of the zone's [[zone.ns]] names, "
                "except the SOA mname's (the primary) and nolbd's own listen endpoints. Only "
                "names inside the zone have addresses in the configuration; names outside it "
                "are not looked up, so list their servers in notify. Nothing is notified while "
                "allow is empty.",
     .store = [](Transfer& t, const Value& v, Context&) { t.notify_ns = v.boolean; }},
    {.key = "notify_key",
     .type = Type::string,
     .default_note = "the first of keys; none without keys",
     .meaning = "The [[key]] that signs NOTIFY messages (TSIG); an answer must then be signed "
                "with it too, or it is ignored. \"\" sends them unsigned.",
     .store = store_notify_key},
    {.key = "notify_gap",
     .type = Type::seconds,
     .max = 3600,
     .fallback = "1",
     .meaning = "The least time, in seconds, between two NOTIFY to one secondary. Serials that "
                "move faster are not queued: the next message carries the newest serial when "
                "it goes, so a burst of changes costs one message per gap. An integer or a "
                "float.",
     .store = [](Transfer& t, const Value& v, Context&) { t.notify_gap = to_milliseconds(v); }},
    {.key = "notify_retries",
     .type = Type::integer,
     .max = 10,
     .fallback = "5",
     .meaning = "How many times an unanswered NOTIFY is sent again before nolbd gives up on it "
                "(until the serial next moves); 0 sends it once.",
     .store = [](Transfer& t, const Value& v,
                 Context&) { t.notify_retries = static_cast<unsigned>(v.integer); }},
    {.key = "notify_retry_interval",
     .type = Type::seconds,
     .min = 0.01,
     .max = 60,
     .fallback = "1",
     .meaning = "Seconds to wait for the answer to a NOTIFY before sending it again; the wait "
                "doubles with each retry (1, 2, 4, 8, 16 and 32 s by default, about a minute "
                "in all). An integer or a float.",
     .store = [](Transfer& t, const Value& v,
                 Context&) { t.notify_retry_interval = to_milliseconds(v); }},
    {.key = "max_lag",
     .type = Type::seconds,
     .max = 86400 * 7,
     .fallback = "60",
     .meaning = "nolbctl check warns (exit 1) of a secondary whose last transfer brought a serial "
                "the zone has had a newer one than for longer than this many seconds: it has "
                "missed changes (NOTIFY lost, transfers failing). 0 turns the warning off. An "
                "integer or a float.",
     .store = [](Transfer& t, const Value& v, Context&) { t.max_lag = to_milliseconds(v); }},
};
constexpr Table<Transfer> kTransfer{kTransferItems, finish_transfer};

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
     .meaning = "The zone's apex. The trailing dot is optional; the root (\".\") is not allowed, "
                "and two zones may not share an origin.",
     .store = store_origin},
    {.key = "ttl",
     .type = Type::integer,
     .max = kMaxTtl,
     .fallback = "3600",
     .meaning = "TTL of records written without one, in seconds.",
     .store = [](Zone& z, const Value& v, Context&) { z.ttl = to_u32(v); }},
    {.key = "file",
     .type = Type::string,
     .min = 1,
     .meaning = "An RFC 1035 master file with more records, its path relative to this file's "
                "folder. It must exist and be readable. The SOA and the apex NS records come from "
                "the TOML, never from the file.",
     .store = store_zone_file},
    {.key = "records",
     .type = Type::strings,
     .meaning = "Records in zone-file syntax, one per string, owners relative to the origin: [\"@ "
                "MX 10 mail\", \"mail A 192.0.2.25\"]. A record with double quotes in it is "
                "easiest written in single quotes ('...').",
     .store = store_records},
    {.key = "ns",
     .type = Type::tables,
     .required = true,
     .min = 1,
     .meaning = "A name server of the zone, published as an NS record at the apex.",
     .nested = describe_rows<kNameServer>,
     .store = store_name_servers},
    {.key = "soa",
     .type = Type::table,
     .fallback = "{}",
     .meaning = "The zone's SOA record; every key has a default.",
     .nested = describe_rows<kSoa>,
     .store = [](Zone& z, const Value& v, Context& ctx) { walk(kSoa, v, z.soa, ctx); }},
    {.key = "transfer",
     .type = Type::table,
     .fallback = "{}",
     .meaning = "Zone transfers to secondaries: who may take the zone, with which keys, and "
                "whom NOTIFY tells of each new serial.",
     .nested = describe_rows<kTransfer>,
     .store = [](Zone& z, const Value& v, Context& ctx) { walk(kTransfer, v, z.transfer, ctx); }},
};
constexpr Table<Zone> kZone{kZoneItems, finish_zone};

// ---- [[key]]

void store_key_name(Key& key, const Value& value, Context& ctx) {
    auto name = read_absolute_name(value, ctx);
    if (!name) return;
    key.name = name->to_string();
    ctx.unique("key", key.name, value, "key " + key.name + " is already defined");
}

void store_key_algorithm(Key& key, const Value& value, Context& ctx) {
    if (!dns::tsig::parse_algorithm(value.string)) {
        ctx.error(value, in_quotes(value.string) +
                             " is not a TSIG algorithm nolbd signs with (hmac-sha256, "
                             "hmac-sha512, hmac-sha1)");
        return;
    }
    key.algorithm = value.string;
}

// The secret of a key file: the whole file in base64, BIND's `secret "...";` (tsig-keygen) or
// the `Key:` line of a dnssec-keygen or ldns-keygen .private file.
std::string_view secret_text(std::string_view file) {
    for (std::string_view marker : {std::string_view("secret \""), std::string_view("Key:")}) {
        const std::size_t at = file.find(marker);
        if (at == std::string_view::npos) continue;
        std::string_view rest = file.substr(at + marker.size());
        return rest.substr(0, rest.find_first_of(marker == "Key:" ? "\n" : "\""));
    }
    return file;
}

void store_secret_file(Key& key, const Value& value, Context& ctx) {
    std::filesystem::path path(value.string);
    if (path.is_relative()) path = ctx.folder() / path;
    path = path.lexically_normal();
    key.secret_file = path.string();
    std::ifstream in(path, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (std::string why = unreadable(path); !why.empty() || !in) {
        ctx.error(value, "cannot read " + in_quotes(path.string()) + ": " +
                             (why.empty() ? "read error" : why));
        return;
    }
    auto secret = util::decode_base64(secret_text(text));
    if (!secret || secret->empty()) {
        ctx.error(value, in_quotes(path.string()) +
                             " holds no base64 secret (the secret alone, BIND's secret \"...\"; "
                             "or a .private file's Key: line)");
        return;
    }
    key.secret = std::move(*secret);
}

constexpr Item<Key> kKeyItems[] = {
    {.key = "name",
     .type = Type::string,
     .required = true,
     .min = 1,
     .meaning = "The key's name, as the secondaries know it (\"transfer.example.\").",
     .store = store_key_name},
    {.key = "algorithm",
     .type = Type::string,
     .fallback = R"("hmac-sha256")",
     .meaning = "The HMAC: hmac-sha256, hmac-sha512 or hmac-sha1.",
     .store = store_key_algorithm},
    {.key = "secret_file",
     .type = Type::string,
     .required = true,
     .min = 1,
     .meaning = "The file holding the secret in base64 (alone, as BIND's secret \"...\"; or as "
                "a .private file's Key: line), relative to this file's folder. Keep it readable "
                "by nolbd alone.",
     .store = store_secret_file},
};
constexpr Table<Key> kKey{kKeyItems};

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
     .meaning = "Where to answer queries, over UDP and TCP: \"ADDR:PORT\", \"[IPV6]:PORT\" or a "
                "bare address (port 53), each at most once.",
     .store = store_listen},
    {.key = "workers",
     .type = Type::integer,
     .min = 1,
     .max = 64,
     .fallback = "1",
     .meaning = "Socket sets: each has its own sockets on every listen address, served by one "
                "thread per UDP socket and one thread for TCP.",
     .store = [](Server& s, const Value& v,
                 Context&) { s.workers = static_cast<unsigned>(v.integer); }},
    {.key = "edns_payload",
     .type = Type::integer,
     .min = 512,
     .max = 4096,
     .fallback = "1232",
     .meaning = "The largest UDP response offered to EDNS clients, in octets (1232 avoids IP "
                "fragmentation).",
     .store = [](Server& s, const Value& v,
                 Context&) { s.edns_payload = static_cast<std::uint16_t>(v.integer); }},
    {.key = "tcp_idle_timeout",
     .type = Type::seconds,
     .min = 0.1,
     .max = 3600,
     .fallback = "10",
     .meaning = "Seconds a TCP connection may stay idle before it is closed; an integer or a "
                "float.",
     .store =
         [](Server& s, const Value& v, Context&) {
             s.tcp_idle_timeout = std::chrono::milliseconds(std::llround(v.number() * 1000));
         }},
    {.key = "tcp_io_timeout",
     .type = Type::seconds,
     .min = 0.05,
     .max = 60,
     .fallback = "2",
     .meaning = "Seconds a TCP client may take to send the rest of a query it has begun, or to "
                "read an answer nolbd has begun to write; a client that trickles or stops reading "
                "is cut off.",
     .store =
         [](Server& s, const Value& v, Context&) {
             s.tcp_io_timeout = std::chrono::milliseconds(std::llround(v.number() * 1000));
         }},
    {.key = "tcp_max_connections",
     .type = Type::integer,
     .min = 1,
     .max = 1'000'000,
     .fallback = "256",
     .meaning = "Open TCP connections allowed, in total across workers. At the cap a new "
                "connection closes the one idle the longest (RFC 7766 6.2.3); it is refused only "
                "when none is idle.",
     .store = [](Server& s, const Value& v,
                 Context&) { s.tcp_max_connections = static_cast<unsigned>(v.integer); }},
    {.key = "tcp_max_per_client",
     .type = Type::integer,
     .min = 1,
     .max = 1'000'000,
     .fallback = "32",
     .meaning = "Open TCP connections allowed from one client address, across workers; more are "
                "refused.",
     .store = [](Server& s, const Value& v,
                 Context&) { s.tcp_max_per_client = static_cast<unsigned>(v.integer); }},
    {.key = "user",
     .type = Type::string,
     .max = 255,
     .fallback = R"("")",
     .meaning = "Started as root, nolbd opens its sockets and then runs as this user, with its "
                "supplementary groups cleared. \"root\" keeps root (not advised); \"\" makes nolbd "
                "refuse to start as root. Started as another user, nolbd cannot switch: a "
                "different user here is ignored, with a warning. nolbd -u overrides it.",
     .store = [](Server& s, const Value& v, Context&) { s.user = v.string; }},
    {.key = "group",
     .type = Type::string,
     .max = 255,
     .fallback = R"("")",
     .meaning = "The group to run as with user; \"\" is the user's primary group.",
     .store = [](Server& s, const Value& v, Context&) { s.group = v.string; }},
    {.key = "chaos",
     .type = Type::boolean,
     .fallback = "false",
     .meaning = "Answer version.bind, id.server and hostname.bind TXT queries in class CHAOS.",
     .store = [](Server& s, const Value& v, Context&) { s.chaos = v.boolean; }},
    {.key = "identity",
     .type = Type::string,
     .max = 255,
     .fallback = R"("")",
     .default_note = "the host name",
     .meaning = "The id.server and hostname.bind answer (with chaos = true).",
     .store = [](Server& s, const Value& v, Context&) { s.identity = v.string; }},
    {.key = "version",
     .type = Type::string,
     .max = 255,
     .fallback = R"("")",
     .default_note = "\"nolbd <version>\"",
     .meaning = "The version.bind answer (with chaos = true).",
     .store = [](Server& s, const Value& v, Context&) { s.version = v.string; }},
    {.key = "log_level",
     .type = Type::string,
     .fallback = R"("info")",
     .meaning = "The least severe level logged: \"debug\", \"info\", \"warning\" or \"error\". "
                "nolbd --log-level overrides it.",
     .store = store_log_level},
};
constexpr Table<Server> kServer{kServerItems, finish_server};

// ---- [control] and [metrics]

// Paths are resolved against the config's folder, as zone files are, so that a config and the
// files next to it move together.
std::string resolve_path(const std::string& text, Context& ctx) {
    std::filesystem::path path(text);
    if (path.is_relative()) path = ctx.folder() / path;
    return path.lexically_normal().string();
}

void store_control_socket(Control& control, const Value& value, Context& ctx) {
    if (value.string.empty()) {
        control.socket.clear();
        return;
    }
    std::string path = resolve_path(value.string, ctx);
    constexpr std::size_t kMaxSocketPath = sizeof(sockaddr_un::sun_path) - 1;
    if (path.size() > kMaxSocketPath) {
        ctx.error(value, in_quotes(path) + " is longer than " + std::to_string(kMaxSocketPath) +
                             " octets, the limit of a Unix socket path");
        return;
    }
    control.socket = path;
}

void store_control_mode(Control& control, const Value& value, Context& ctx) {
    const std::string& text = value.string;
    bool octal = text.size() >= 3 && text.size() <= 4 &&
                 std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '7'; });
    unsigned mode = 0;
    for (char c : text)
        mode = mode * 8 + static_cast<unsigned>(c - '0');
    if (!octal || mode > 0777) {
        ctx.error(value, in_quotes(text) + " is not a permission mode (octal, e.g. \"0660\")");
        return;
    }
    control.mode = mode;
}

constexpr Item<Control> kControlItems[] = {
    {.key = "socket",
     .type = Type::string,
     .fallback = R"("/run/nolb/nolbd.sock")",
     .meaning = "The Unix socket nolbctl talks to; \"\" turns it off. A relative path is taken "
                "from this file's folder; the whole path may have at most 107 octets, the limit "
                "of a Unix socket's address.",
     .store = store_control_socket},
    {.key = "mode",
     .type = Type::string,
     .fallback = R"("0660")",
     .meaning = "The socket's permission bits, an octal string: who may connect, and so run "
                "nolbctl.",
     .store = store_control_mode},
    {.key = "state_file",
     .type = Type::string,
     .fallback = R"("")",
     .meaning = "A file that keeps drains across restarts; \"\" keeps them for the life of the "
                "process only. A relative path is taken from this file's folder. Drains are saved "
                "by renaming a new file into the state file's folder, which must be writable by "
                "the user nolbd runs as.",
     .store =
         [](Control& c, const Value& v, Context& ctx) {
             c.state_file = v.string.empty() ? "" : resolve_path(v.string, ctx);
         }},
};
constexpr Table<Control> kControl{kControlItems};

// ---- [rrl]

constexpr Item<Rrl> kRrlItems[] = {
    {.key = "responses_per_second",
     .type = Type::integer,
     .min = 0,
     .max = 1'000'000,
     .fallback = "0",
     .meaning = "UDP responses a second allowed to one client prefix, with a burst of one second's "
                "worth; 0 turns rate limiting off.",
     .store = [](Rrl& r, const Value& v,
                 Context&) { r.responses_per_second = static_cast<unsigned>(v.integer); }},
    {.key = "slip",
     .type = Type::integer,
     .min = 0,
     .max = 100,
     .fallback = "2",
     .meaning = "Every slip-th limited response goes out truncated (TC set, no records) instead of "
                "dropped, so that a real client behind the prefix retries over TCP; 0 drops them "
                "all, 1 truncates them all.",
     .store = [](Rrl& r, const Value& v, Context&) { r.slip = static_cast<unsigned>(v.integer); }},
    {.key = "ipv4_prefix",
     .type = Type::integer,
     .min = 8,
     .max = 32,
     .fallback = "24",
     .meaning = "How many leading bits of an IPv4 client address make its prefix.",
     .store = [](Rrl& r, const Value& v,
                 Context&) { r.ipv4_prefix = static_cast<unsigned>(v.integer); }},
    {.key = "ipv6_prefix",
     .type = Type::integer,
     .min = 16,
     .max = 128,
     .fallback = "56",
     .meaning = "How many leading bits of an IPv6 client address make its prefix.",
     .store = [](Rrl& r, const Value& v,
                 Context&) { r.ipv6_prefix = static_cast<unsigned>(v.integer); }},
    {.key = "buckets",
     .type = Type::integer,
     .min = 1024,
     .max = 16'777'216,
     .fallback = "65536",
     .meaning = "Prefixes each UDP thread tracks at once, in a table allocated when the thread "
                "starts; a prefix that lands on a slot held by another takes it over, so a "
                "collision can only make the limit more lenient.",
     .store = [](Rrl& r, const Value& v,
                 Context&) { r.buckets = static_cast<unsigned>(v.integer); }},
};
constexpr Table<Rrl> kRrl{kRrlItems};

constexpr std::uint16_t kMetricsPort = 9153;

constexpr Item<Metrics> kMetricsItems[] = {
    {.key = "listen",
     .type = Type::string,
     .min = 1,
     .default_note = "no endpoint",
     .meaning = "Where to serve Prometheus text at GET /metrics: \"ADDR:PORT\", \"[IPV6]:PORT\" or "
                "a bare address (port 9153).",
     .store =
         [](Metrics& m, const Value& v, Context& ctx) {
             m.listen = util::Endpoint::parse(v.string, kMetricsPort);
             if (!m.listen) {
                 ctx.error(v, in_quotes(v.string) +
                                  " is not an endpoint (ADDR:PORT, [V6]:PORT or an address)");
             }
         }},
};
constexpr Table<Metrics> kMetrics{kMetricsItems};

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

void store_keys(Config& config, const Value& value, Context& ctx) {
    for (const Value& element : value.items) {
        Key key;
        key.where = ctx.source(element);
        walk(kKey, element, key, ctx);
        config.keys.push_back(std::move(key));
    }
}

// Checks across tables, once everything is read: the keys a transfer or NOTIFY names exist, a
// zone notifies only secondaries that may transfer it, and a zone that is transferred moves its
// serial with every change.
void finish_config(Config& config, const Value& document, Context& ctx) {
    const Value* zones = document.member("zone");
    for (std::size_t zi = 0; zi < config.zones.size(); ++zi) {
        const Zone& zone = config.zones[zi];
        const Value* table = zones && zi < zones->items.size() ? &zones->items[zi] : nullptr;
        const Value* transfer = table ? table->member("transfer") : nullptr;
        const Value* keys = transfer ? transfer->member("keys") : nullptr;
        for (std::size_t k = 0; keys && k < zone.transfer.keys.size() && k < keys->items.size();
             ++k) {
            const std::string& name = zone.transfer.keys[k];
            if (std::none_of(config.keys.begin(), config.keys.end(),
                             [&](const Key& key) { return key.name == name; }))
                ctx.error(keys->items[k], "no [[key]] is named " + name);
        }
        if (keys && !zone.transfer.keys.empty() && !zone.transfer.enabled())
            ctx.error(*keys, "keys without allow: nobody may transfer the zone");
        const Value* notify_key = transfer ? transfer->member("notify_key") : nullptr;
        if (notify_key && !zone.transfer.notify_key.empty() &&
            std::none_of(config.keys.begin(), config.keys.end(),
                         [&](const Key& key) { return key.name == zone.transfer.notify_key; }))
            ctx.error(*notify_key, "no [[key]] is named " + zone.transfer.notify_key);
        const Value* notify = transfer ? transfer->member("notify") : nullptr;
        if (notify && !zone.transfer.notify.empty() && !zone.transfer.enabled())
            ctx.error(*notify,
                      "notify without allow: the secondaries notified could not transfer the "
                      "zone");
        const Value* soa = table ? table->member("soa") : nullptr;
        const Value* serial = soa ? soa->member("serial") : nullptr;
        if (zone.transfer.enabled() && zone.soa.serial && serial)
            ctx.error(*serial,
                      "a zone that secondaries transfer needs serial = \"auto\": every "
                      "change nolbd publishes must move the serial, or they would keep the old "
                      "data");
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
     .meaning = "The daemon itself: sockets, threads, TCP limits, privileges, identity and "
                "logging.",
     .nested = describe_rows<kServer>,
     .store = [](Config& c, const Value& v, Context& ctx) { walk(kServer, v, c.server, ctx); }},
    {.key = "key",
     .type = Type::tables,
     .meaning = "TSIG keys that sign zone transfers and NOTIFY, one [[key]] table each.",
     .nested = describe_rows<kKey>,
     .store = store_keys},
    {.key = "zone",
     .type = Type::tables,
     .required = true,
     .min = 1,
     .meaning = "A zone nolbd is authoritative for.",
     .nested = describe_rows<kZone>,
     .store = store_zones},
    {.key = "service",
     .type = Type::tables,
     .meaning = "A name that answers with the addresses of all its healthy nodes, shuffled on "
                "every response.",
     .nested = describe_rows<kService>,
     .store = store_services},
    {.key = "control",
     .type = Type::table,
     .fallback = "{}",
     .meaning = "The Unix socket nolbctl talks to, and the file that keeps drains.",
     .nested = describe_rows<kControl>,
     .store = [](Config& c, const Value& v, Context& ctx) { walk(kControl, v, c.control, ctx); }},
    {.key = "rrl",
     .type = Type::table,
     .fallback = "{}",
     .meaning = "Response rate limiting for UDP, as NSD and Knot offer it: answers to one client "
                "prefix beyond the rate are dropped, except every slip-th, which goes out "
                "truncated so that a real client behind a spoofed address retries over TCP. "
                "Changing it takes a restart.",
     .nested = describe_rows<kRrl>,
     .store = [](Config& c, const Value& v, Context& ctx) { walk(kRrl, v, c.rrl, ctx); }},
    {.key = "metrics",
     .type = Type::table,
     .fallback = "{}",
     .meaning = "An HTTP endpoint with Prometheus text metrics.",
     .nested = describe_rows<kMetrics>,
     .store = [](Config& c, const Value& v, Context& ctx) { walk(kMetrics, v, c.metrics, ctx); }},
};
constexpr Table<Config> kConfig{kConfigItems, finish_config};

}  // namespace

void read_config(const Value& document, Config& out, Context& ctx) {
    walk(kConfig, document, out, ctx);
}

std::vector<KeyDoc> describe_schema() {
    std::vector<KeyDoc> keys;
    describe(kConfig, "", keys);
    return keys;
}

}  // namespace nolb::config
