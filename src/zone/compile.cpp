// zone::compile: from a validated Config to a Snapshot. It gathers every record by owner
// (config SOA/NS/glue, record strings, master files, services), checks what RFC 1034 forbids
// (CNAME beside other data, data below a zone cut), then renders each response a query can
// get: per node and type, the zone's negative answers, referrals and CNAME chains.
#include "zone/compile.hpp"

#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <map>
#include <optional>
#include <set>

#include "dns/types.hpp"
#include "util/log.hpp"
#include "util/version.hpp"
#include "zone/records.hpp"
#include "zone/render.hpp"

namespace nolb::zone {
namespace {

using dns::WireName;
namespace type = dns::type;

constexpr int kMaxChain = 8;  // CNAMEs followed in one answer

WireName must_wire(const std::string& text) {
    WireName out;
    std::string error;
    if (!dns::wire_from_text(text, WireName(1, '\0'), out, error))
        throw config::Error({text + ": " + error});
    return dns::lowered(out);
}

std::string u32_bytes(std::uint32_t v) {
    std::string s(4, '\0');
    s[0] = static_cast<char>(v >> 24);
    s[1] = static_cast<char>(v >> 16);
    s[2] = static_cast<char>(v >> 8);
    s[3] = static_cast<char>(v);
    return s;
}

RData name_rdata(const WireName& name) {
    return RData{{Piece{true, name}}};
}

RData address_rdata(const util::IpAddress& a) {
    return RData{
        {Piece{false, std::string(reinterpret_cast<const char*>(a.bytes.data()), a.size())}}};
}

RData txt_rdata(std::string_view text) {
    std::string bytes;
    while (true) {
        const std::size_t n = std::min<std::size_t>(text.size(), 255);
        bytes += static_cast<char>(n);
        bytes.append(text.substr(0, n));
        text.remove_prefix(n);
        if (text.empty()) break;
    }
    return RData{{Piece{false, bytes}}};
}

bool is_wildcard(const WireName& name) {
    return name.size() >= 2 && name[0] == 1 && name[1] == '*';
}

struct ZoneInfo {
    const config::Zone* config = nullptr;
    WireName origin;     // lower-cased
    RRset negative_soa;  // SOA with the RFC 2308 negative TTL
    std::uint32_t serial = 0;
    std::uint32_t nodata = kNoAnswer;
    std::uint32_t nxdomain = kNoAnswer;
};

// The outcome of looking a name up at load time (CNAME chains).
struct Resolution {
    enum Kind { data, nxdomain, stop } kind = stop;
    const NodeData* node = nullptr;
};

class Compiler {
  public:
    explicit Compiler(const config::Config& config) : config_(config) {}

    std::shared_ptr<Snapshot> run() {
        for (const config::Zone& z : config_.zones)
            add_zone(z);
        for (std::uint32_t i = 0; i < zones_.size(); ++i)
            collect_zone(i);
        for (const config::Service& s : config_.services)
            add_service(s);
        add_empty_non_terminals();
        check_nodes();
        if (!problems_.empty()) throw config::Error(problems_);
        render();
        return std::move(snapshot_);
    }

  private:
    // ---- gathering -------------------------------------------------------------------------

    void add_zone(const config::Zone& z) {
        ZoneInfo info;
        info.config = &z;
        info.origin = must_wire(z.origin);
        info.serial = z.soa.serial ? *z.soa.serial : static_cast<std::uint32_t>(std::time(nullptr));
        zones_.push_back(std::move(info));
    }

    // The deepest configured zone containing `name` (lower-cased).
    std::optional<std::uint32_t> zone_of(const WireName& name) const {
        std::optional<std::uint32_t> best;
        for (std::uint32_t i = 0; i < zones_.size(); ++i) {
            if (!dns::is_subdomain(name, zones_[i].origin)) continue;
            if (!best || zones_[i].origin.size() > zones_[*best].origin.size()) best = i;
        }
        return best;
    }

    NodeData& node(const WireName& lower_name, std::uint32_t zone) {
        auto [it, inserted] = nodes_.try_emplace(lower_name);
        if (inserted) {
            it->second.name = lower_name;
            it->second.zone = zone;
        }
        return it->second;
    }

    void add_rdata(std::uint32_t zone, const WireName& owner, std::uint16_t rtype,
                   std::uint32_t ttl, RData rdata, const std::string& where) {
        const WireName lower = dns::lowered(owner);
        const auto deepest = zone_of(lower);
        if (!deepest || !dns::is_subdomain(lower, zones_[zone].origin)) {
            problems_.push_back(where + ": " + dns::text_from_wire(owner) + " is outside zone " +
                                zones_[zone].config->origin);
            return;
        }
        // A child zone we also serve owns its names; the parent's delegation data yields to it.
        if (*deepest != zone) return;
        RRset& set = node(lower, zone).rrsets[rtype];
        if (set.rdatas.empty()) {
            set.type = rtype;
            set.ttl = ttl;
        } else if (set.ttl != ttl) {
            log::warning("TTLs differ within an RRset; using the lowest (RFC 2181 5.2)",
                         {{"where", where}, {"owner", dns::text_from_wire(owner)}});
            set.ttl = std::min(set.ttl, ttl);
        }
        if (std::find(set.rdatas.begin(), set.rdatas.end(), rdata) == set.rdatas.end())
            set.rdatas.push_back(std::move(rdata));
    }

    void add_parsed(std::uint32_t zone, const ParsedRecord& r, const std::string& where) {
        if (r.klass != dns::cls::IN) {
            problems_.push_back(where + ": only class IN records can be served");
            return;
        }
        switch (r.type) {
            case type::SOA:
                problems_.push_back(where +
                                    ": the SOA comes from [zone.soa] in the config; "
                                    "remove it from here");
                return;
            case type::DNAME:
            case type::OPT:
            case type::TSIG:
            case type::TKEY:
            case type::IXFR:
            case type::AXFR:
            case type::MAILA:
            case type::MAILB:
            case type::ANY:
                problems_.push_back(where + ": records of this type cannot be served");
                return;
            default:
                break;
        }
        add_rdata(zone, r.owner, r.type, r.ttl, r.rdata, where);
    }

    void collect_zone(std::uint32_t zi) {
        ZoneInfo& z = zones_[zi];
        const config::Zone& cz = *z.config;
        const std::string where = cz.where.to_string();
        node(z.origin, zi);  // the apex exists even when every record is elsewhere

        // SOA (RFC 1035 §3.3.13); its negative TTL per RFC 2308 §5.
        const std::uint32_t soa_ttl = cz.soa.ttl.value_or(cz.ttl);
        RData soa;
        soa.pieces.push_back(Piece{true, must_wire(cz.soa.mname)});
        soa.pieces.push_back(Piece{true, must_wire(cz.soa.rname)});
        std::string numbers = u32_bytes(z.serial) + u32_bytes(cz.soa.refresh) +
                              u32_bytes(cz.soa.retry) + u32_bytes(cz.soa.expire) +
                              u32_bytes(cz.soa.minimum);
        soa.pieces.push_back(Piece{false, numbers});
        add_rdata(zi, z.origin, type::SOA, soa_ttl, soa, where);
        z.negative_soa =
            RRset{type::SOA, dns::cls::IN, std::min(soa_ttl, cz.soa.minimum), {soa}, false};

        for (const config::NameServer& ns : cz.ns) {
            const WireName target = must_wire(ns.name);
            add_rdata(zi, z.origin, type::NS, cz.ttl, name_rdata(target), ns.where.to_string());
            for (const util::IpAddress& a : ns.addresses)
                add_rdata(zi, target, a.is_v4() ? type::A : type::AAAA, cz.ttl, address_rdata(a),
                          ns.where.to_string());
        }
        for (const config::RecordText& text : cz.records) {
            ParsedRecord r;
            std::string error;
            if (!parse_record_text(text.text, z.origin, cz.ttl, r, error)) {
                problems_.push_back(text.where.to_string() + ": record \"" + text.text +
                                    "\": " + error);
                continue;
            }
            add_parsed(zi, r, text.where.to_string());
        }
        if (cz.file) {
            for (const ParsedRecord& r : read_zone_file(*cz.file, z.origin, cz.ttl, problems_))
                add_parsed(zi, r, *cz.file + ":" + std::to_string(r.line));
        }
    }

    void add_service(const config::Service& s) {
        const std::string where = s.where.to_string();
        const WireName name = must_wire(s.name);
        const auto zone = zone_of(name);
        if (!zone) {
            problems_.push_back(where + ": service " + s.name + " is outside every zone");
            return;
        }
        NodeData& n = node(name, *zone);
        for (std::uint16_t t : {type::A, type::AAAA, type::CNAME}) {
            if (n.rrsets.count(t)) {
                problems_.push_back(where + ": service " + s.name +
                                    " also has static A, AAAA or CNAME records; a service name "
                                    "publishes its nodes' addresses only");
                return;
            }
        }
        for (const config::Node& cn : s.nodes) {
            for (const util::IpAddress& a : cn.addresses) {
                RRset& set = n.rrsets[a.is_v4() ? type::A : type::AAAA];
                set.type = a.is_v4() ? type::A : type::AAAA;
                set.ttl = s.ttl;
                set.shuffled = true;
                set.rdatas.push_back(address_rdata(a));
            }
        }
        services_.insert(name);
    }

    // RFC 8020: a name with nothing but descendants exists; give it a node.
    void add_empty_non_terminals() {
        std::vector<std::pair<WireName, std::uint32_t>> missing;
        for (const auto& [name, n] : nodes_) {
            const WireName& apex = zones_[n.zone].origin;
            for (WireName p = dns::parent_of(name); p.size() > apex.size(); p = dns::parent_of(p))
                if (!nodes_.count(p)) missing.emplace_back(p, n.zone);
        }
        for (const auto& [name, zone] : missing)
            node(name, zone);
    }

    // The delegation point at or above `name` inside its zone, if any.
    const NodeData* cut_above(const NodeData& n) const {
        const WireName& apex = zones_[n.zone].origin;
        const NodeData* cut = nullptr;
        for (WireName p = n.name; p.size() > apex.size(); p = dns::parent_of(p)) {
            auto it = nodes_.find(p);
            if (it != nodes_.end() && it->second.rrsets.count(type::NS)) cut = &it->second;
        }
        return cut;  // the highest one: everything below it is the child's
    }

    void check_nodes() {
        for (const auto& [name, n] : nodes_) {
            const std::string text = dns::text_from_wire(name);
            const bool apex = name == zones_[n.zone].origin;
            if (n.rrsets.count(type::CNAME)) {
                if (apex)
                    problems_.push_back(text +
                                        ": CNAME at a zone apex (it would hide the SOA and NS)");
                else if (n.rrsets.size() > 1)
                    problems_.push_back(text +
                                        ": CNAME and other data at the same name (RFC 1034 3.6.2)");
                else if (n.rrsets.at(type::CNAME).rdatas.size() > 1)
                    problems_.push_back(text + ": more than one CNAME at the same name");
            }
            const NodeData* cut = cut_above(n);
            if (cut && cut != &n && services_.count(name))
                problems_.push_back(text + ": service below the zone cut at " +
                                    dns::text_from_wire(cut->name));
            if (cut && cut != &n) {
                for (const auto& [t, set] : n.rrsets)
                    if (t != type::A && t != type::AAAA)
                        log::warning("record below a zone cut is not served",
                                     {{"owner", text}, {"cut", dns::text_from_wire(cut->name)}});
            }
        }
    }

    // ---- rendering -------------------------------------------------------------------------

    Resolution resolve(const WireName& lower, std::uint32_t zone) const {
        const auto z = zone_of(lower);
        if (!z || *z != zone) return {};
        auto it = nodes_.find(lower);
        if (it != nodes_.end()) {
            if (cut_above(it->second)) return {};
            return {Resolution::data, &it->second};
        }
        WireName encloser = dns::parent_of(lower);
        while (!nodes_.count(encloser))
            encloser = dns::parent_of(encloser);
        const NodeData& ce = nodes_.at(encloser);
        if (cut_above(ce)) return {};
        auto wild = nodes_.find(WireName("\1*", 2) + encloser);
        if (wild != nodes_.end()) return {Resolution::data, &wild->second};
        return {Resolution::nxdomain, nullptr};
    }

    // Additional-section processing (RFC 1034 §4.3.2 step 6): addresses of in-zone targets.
    void add_additional(TailBuilder& t, const RRset& set, std::uint32_t zone,
                        std::set<WireName>& done) {
        if (set.type != type::NS && set.type != type::MX && set.type != type::SRV) return;
        for (const RData& rd : set.rdatas) {
            for (const Piece& p : rd.pieces) {
                if (!p.is_name) continue;
                const WireName target = dns::lowered(p.bytes);
                if (!done.insert(target).second) continue;
                if (!dns::is_subdomain(target, zones_[zone].origin)) continue;
                auto it = nodes_.find(target);
                if (it == nodes_.end()) continue;
                for (std::uint16_t at : {type::A, type::AAAA}) {
                    auto s = it->second.rrsets.find(at);
                    if (s != it->second.rrsets.end())
                        t.add(Section::additional, p.bytes, s->second);
                }
            }
        }
    }

    std::uint32_t negative(std::uint32_t zone, std::uint8_t rcode) {
        TailBuilder t(zones_[zone].origin);
        t.add(Section::authority, zones_[zone].origin, zones_[zone].negative_soa);
        t.set_rcode(rcode);
        return t.finish(*snapshot_);
    }

    std::uint32_t referral(const NodeData& cut) {
        auto cached = referrals_.find(cut.name);
        if (cached != referrals_.end()) return cached->second;
        TailBuilder t(cut.name);
        const RRset& ns = cut.rrsets.at(type::NS);
        t.add(Section::authority, cut.name, ns);
        // Glue at or below the cut is required (RFC 9471): TC when it does not fit.
        std::vector<const Piece*> sibling;
        for (int pass = 0; pass < 2; ++pass) {
            for (const RData& rd : ns.rdatas) {
                const Piece& p = rd.pieces.front();
                const WireName target = dns::lowered(p.bytes);
                const bool below = dns::is_subdomain(target, cut.name);
                if ((pass == 0) != below) continue;
                if (!dns::is_subdomain(target, zones_[cut.zone].origin)) continue;
                auto it = nodes_.find(target);
                if (it == nodes_.end()) continue;
                for (std::uint16_t at : {type::A, type::AAAA}) {
                    auto s = it->second.rrsets.find(at);
                    if (s != it->second.rrsets.end())
                        t.add(Section::additional, p.bytes, s->second);
                }
            }
            if (pass == 0) t.mark_required_additional();
        }
        t.set_authoritative(false);
        const std::uint32_t index = t.finish(*snapshot_);
        referrals_.emplace(cut.name, index);
        return index;
    }

    // Answers for one node: a typed answer per RRset, ANY, and the rest (NODATA or a chain).
    void render_node(const NodeData& n, Node& out, std::vector<TypedAnswer>& typed) {
        ZoneInfo& z = zones_[n.zone];
        const bool apex = n.name == z.origin;
        const WireName match = is_wildcard(n.name) ? dns::parent_of(n.name) : n.name;
        out.other = z.nodata;

        if (const NodeData* cut = cut_above(n); cut && !apex) {
            out.referral = referral(*cut);
            out.is_cut = cut == &n;
            if (out.is_cut) {  // DS belongs to the parent side of the cut
                auto ds = n.rrsets.find(type::DS);
                if (ds != n.rrsets.end()) {
                    TailBuilder t(match);
                    t.add(Section::answer, {}, ds->second);
                    typed.push_back({type::DS, t.finish(*snapshot_)});
                }
            }
            return;
        }

        auto cname = n.rrsets.find(type::CNAME);
        if (cname == n.rrsets.end()) {
            for (const auto& [t_type, set] : n.rrsets) {
                TailBuilder t(match);
                t.add(Section::answer, {}, set);
                std::set<WireName> done;
                add_additional(t, set, n.zone, done);
                typed.push_back({t_type, t.finish(*snapshot_)});
                if (out.any == kNoAnswer) out.any = typed.back().answer;
            }
            return;
        }

        // A CNAME: follow it inside the zone at load time (RFC 1034 §4.3.2 step 3a).
        std::vector<std::pair<WireName, const RRset*>> chain;  // (owner as written, CNAME set)
        chain.emplace_back(WireName(), &cname->second);
        std::set<WireName> seen{n.name};
        Resolution end;
        WireName end_owner;
        for (int hop = 0; hop < kMaxChain; ++hop) {
            const WireName target = chain.back().second->rdatas.front().pieces.front().bytes;
            const WireName lower = dns::lowered(target);
            if (!seen.insert(lower).second) break;  // a loop: stop at the CNAME
            end = resolve(lower, n.zone);
            end_owner = target;
            if (end.kind != Resolution::data) break;
            auto next = end.node->rrsets.find(type::CNAME);
            if (next == end.node->rrsets.end()) break;
            chain.emplace_back(target, &next->second);
            end = {};
        }
        auto add_chain = [&](TailBuilder& t) {
            for (const auto& [owner, set] : chain)
                t.add(Section::answer, owner, *set);
        };
        {
            TailBuilder t(match);
            t.add(Section::answer, {}, cname->second);
            typed.push_back({type::CNAME, t.finish(*snapshot_)});
            out.any = typed.back().answer;
        }
        if (end.kind == Resolution::data) {
            for (const auto& [t_type, set] : end.node->rrsets) {
                TailBuilder t(match);
                add_chain(t);
                t.add(Section::answer, end_owner, set);
                std::set<WireName> done;
                add_additional(t, set, n.zone, done);
                typed.push_back({t_type, t.finish(*snapshot_)});
            }
        }
        TailBuilder t(match);
        add_chain(t);
        if (end.kind != Resolution::stop) {
            // RFC 6604: the rcode speaks of the last name in the chain.
            t.add(Section::authority, z.origin, z.negative_soa);
            if (end.kind == Resolution::nxdomain)
                t.set_rcode(static_cast<std::uint8_t>(dns::rcode::NXDOMAIN));
        }
        out.other = t.finish(*snapshot_);
    }

    void render_chaos() {
        const config::Server& s = config_.server;
        if (!s.chaos) return;
        std::string identity = s.identity;
        if (identity.empty()) {
            char host[256] = {};
            if (gethostname(host, sizeof host - 1) == 0) identity = host;
        }
        const std::string version =
            s.version.empty() ? std::string("nolbd ") + kVersion : s.version;
        const std::pair<const char*, std::string> names[] = {{"version.bind.", version},
                                                             {"version.server.", version},
                                                             {"id.server.", identity},
                                                             {"hostname.bind.", identity}};
        for (const auto& [text, value] : names) {
            const WireName name = must_wire(text);
            TailBuilder t(name);
            t.add(Section::answer, {},
                  RRset{type::TXT, dns::cls::CH, 0, {txt_rdata(value)}, false});
            snapshot_->chaos.push_back({name, t.finish(*snapshot_)});
        }
        TailBuilder empty(must_wire("bind."));
        snapshot_->chaos_nodata = empty.finish(*snapshot_);
    }

    void render() {
        snapshot_ = std::make_shared<Snapshot>();
        snapshot_->edns_payload = config_.server.edns_payload;
        for (std::uint32_t i = 0; i < zones_.size(); ++i) {
            zones_[i].nodata = negative(i, static_cast<std::uint8_t>(dns::rcode::NOERROR));
            zones_[i].nxdomain = negative(i, static_cast<std::uint8_t>(dns::rcode::NXDOMAIN));
        }

        std::map<WireName, std::uint32_t> index;
        for (const auto& [name, n] : nodes_) {
            index.emplace(name, static_cast<std::uint32_t>(snapshot_->nodes.size()));
            Node out;
            out.name_at = static_cast<std::uint32_t>(snapshot_->names.size());
            out.name_size = static_cast<std::uint8_t>(name.size());
            out.zone = n.zone;
            snapshot_->names.insert(snapshot_->names.end(), name.begin(), name.end());
            snapshot_->nodes.push_back(out);
        }
        for (const auto& [name, n] : nodes_) {
            Node& out = snapshot_->nodes[index.at(name)];
            std::vector<TypedAnswer> typed;
            render_node(n, out, typed);
            std::sort(typed.begin(), typed.end(),
                      [](const TypedAnswer& a, const TypedAnswer& b) { return a.type < b.type; });
            out.typed_at = static_cast<std::uint32_t>(snapshot_->typed.size());
            out.typed = static_cast<std::uint16_t>(typed.size());
            snapshot_->typed.insert(snapshot_->typed.end(), typed.begin(), typed.end());
            if (is_wildcard(name)) {
                auto parent = index.find(dns::parent_of(name));
                if (parent != index.end())
                    snapshot_->nodes[parent->second].wildcard = index.at(name);
            }
        }
        for (const ZoneInfo& z : zones_) {
            snapshot_->zones.push_back(
                {z.config->origin, index.at(z.origin), z.nxdomain, z.serial});
        }
        render_chaos();
        build_table();
    }

    void build_table() {
        std::size_t size = 16;
        while (size < snapshot_->nodes.size() * 2)
            size <<= 1;
        snapshot_->slots.assign(size, 0);
        const std::size_t mask = size - 1;
        for (std::uint32_t i = 0; i < snapshot_->nodes.size(); ++i) {
            const Node& n = snapshot_->nodes[i];
            std::size_t slot =
                dns::name_hash(snapshot_->names.data() + n.name_at, n.name_size) & mask;
            while (snapshot_->slots[slot] != 0)
                slot = (slot + 1) & mask;
            snapshot_->slots[slot] = i + 1;
        }
    }

    const config::Config& config_;
    std::vector<std::string> problems_;
    std::vector<ZoneInfo> zones_;
    std::map<WireName, NodeData> nodes_;
    std::set<WireName> services_;
    std::map<WireName, std::uint32_t> referrals_;
    std::shared_ptr<Snapshot> snapshot_;
};

}  // namespace

std::shared_ptr<const Snapshot> compile(const config::Config& config) {
    return Compiler(config).run();
}

}  // namespace nolb::zone
