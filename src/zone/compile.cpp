// zone::load and zone::compile. Loading gathers every record by owner (config SOA/NS/glue,
// record strings, master files, services) and checks what RFC 1034 forbids (CNAME beside other
// data, data below a zone cut). Compiling adds the service addresses that are up and renders
// each response a query can get: per node and type, the zone's negative answers, referrals and
// CNAME chains.
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
#include "zone/model.hpp"
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

// The deepest zone containing `name` (lower-cased).
std::optional<std::uint32_t> zone_of(const std::vector<ZoneModel>& zones, const WireName& name) {
    std::optional<std::uint32_t> best;
    for (std::uint32_t i = 0; i < zones.size(); ++i) {
        if (!dns::is_subdomain(name, zones[i].origin)) continue;
        if (!best || zones[i].origin.size() > zones[*best].origin.size()) best = i;
    }
    return best;
}

// The highest delegation point at or above `n` inside its zone, if any: everything below it
// belongs to the child.
const NodeData* cut_above(const std::map<WireName, NodeData>& nodes,
                          const std::vector<ZoneModel>& zones, const NodeData& n) {
    const WireName& apex = zones[n.zone].origin;
    const NodeData* cut = nullptr;
    for (WireName p = n.name; p.size() > apex.size(); p = dns::parent_of(p)) {
        auto it = nodes.find(p);
        if (it != nodes.end() && it->second.rrsets.count(type::NS)) cut = &it->second;
    }
    return cut;
}

RData soa_rdata(const ZoneModel& z, std::uint32_t serial) {
    RData soa;
    soa.pieces.push_back(Piece{true, z.mname});
    soa.pieces.push_back(Piece{true, z.rname});
    soa.pieces.push_back(Piece{false, u32_bytes(serial) + u32_bytes(z.refresh) +
                                          u32_bytes(z.retry) + u32_bytes(z.expire) +
                                          u32_bytes(z.minimum)});
    return soa;
}

// The outcome of looking a name up at load time (CNAME chains).
struct Resolution {
    enum Kind { data, nxdomain, stop } kind = stop;
    const NodeData* node = nullptr;
};

class Loader {
  public:
    explicit Loader(const config::Config& config) : config_(config) {}

    std::shared_ptr<const Model> run() {
        for (const config::Zone& z : config_.zones)
            add_zone(z);
        for (std::uint32_t i = 0; i < zones_.size(); ++i)
            collect_zone(i);
        for (const config::Service& s : config_.services)
            add_service(s);
        add_empty_non_terminals();
        check_nodes();
        if (!problems_.empty()) throw config::Error(problems_);
        auto model = std::make_shared<Model>();
        model->config = config_;
        model->zones = std::move(zones_);
        model->nodes = std::move(nodes_);
        model->services = std::move(services_);
        return model;
    }

  private:
    // ---- gathering -------------------------------------------------------------------------

    void add_zone(const config::Zone& z) {
        ZoneModel info;
        info.origin = must_wire(z.origin);
        info.origin_text = z.origin;
        info.serial = z.soa.serial;
        info.soa_ttl = z.soa.ttl.value_or(z.ttl);
        info.minimum = z.soa.minimum;
        info.mname = must_wire(z.soa.mname);
        info.rname = must_wire(z.soa.rname);
        info.refresh = z.soa.refresh;
        info.retry = z.soa.retry;
        info.expire = z.soa.expire;
        zones_.push_back(std::move(info));
    }

    std::optional<std::uint32_t> zone_of(const WireName& name) const {
        return zone::zone_of(zones_, name);
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
                                zones_[zone].origin_text);
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
        ZoneModel& z = zones_[zi];
        const config::Zone& cz = config_.zones[zi];
        const std::string where = cz.where.to_string();
        node(z.origin, zi);  // the apex exists even when every record is elsewhere
        // The SOA (RFC 1035 §3.3.13) is rendered with each snapshot's serial; this placeholder
        // marks the apex as holding one.
        add_rdata(zi, z.origin, type::SOA, z.soa_ttl, soa_rdata(z, 0), where);

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
        ServiceModel model{name, *zone, s.ttl, {}};
        for (const config::Node& cn : s.nodes)
            model.addresses.insert(model.addresses.end(), cn.addresses.begin(), cn.addresses.end());
        services_.push_back(std::move(model));
        service_names_.insert(name);
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

    const NodeData* cut_above(const NodeData& n) const {
        return zone::cut_above(nodes_, zones_, n);
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
            if (cut && cut != &n && service_names_.count(name))
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

    const config::Config& config_;
    std::vector<std::string> problems_;
    std::vector<ZoneModel> zones_;
    std::map<WireName, NodeData> nodes_;
    std::vector<ServiceModel> services_;
    std::set<WireName> service_names_;
};

class Renderer {
  public:
    Renderer(const Model& model, const Availability& available,
             const std::vector<std::uint32_t>& serials)
        : model_(model), available_(available), serials_(serials), nodes_(model.nodes) {}

    std::shared_ptr<const Snapshot> run() {
        render();
        return std::move(snapshot_);
    }

  private:
    struct ZoneState {
        RRset negative_soa;  // the SOA with the RFC 2308 negative TTL
        std::uint32_t nodata = kNoAnswer;
        std::uint32_t nxdomain = kNoAnswer;
    };

    // ---- rendering -------------------------------------------------------------------------

    const NodeData* cut_above(const NodeData& n) const {
        return zone::cut_above(nodes_, model_.zones, n);
    }

    Resolution resolve(const WireName& lower, std::uint32_t zone) const {
        const auto z = zone_of(model_.zones, lower);
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
                if (!dns::is_subdomain(target, model_.zones[zone].origin)) continue;
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
        TailBuilder t(model_.zones[zone].origin);
        t.add(Section::authority, model_.zones[zone].origin, state_[zone].negative_soa);
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
                if (!dns::is_subdomain(target, model_.zones[cut.zone].origin)) continue;
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
        const ZoneModel& z = model_.zones[n.zone];
        const ZoneState& zs = state_[n.zone];
        const bool apex = n.name == z.origin;
        const WireName match = is_wildcard(n.name) ? dns::parent_of(n.name) : n.name;
        out.other = zs.nodata;

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
            t.add(Section::authority, z.origin, zs.negative_soa);
            if (end.kind == Resolution::nxdomain)
                t.set_rcode(static_cast<std::uint8_t>(dns::rcode::NXDOMAIN));
        }
        out.other = t.finish(*snapshot_);
    }

    void render_chaos() {
        const config::Server& s = model_.config.server;
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

    // Service addresses that are up join the static data as shuffled RRsets.
    void add_services() {
        for (std::size_t si = 0; si < model_.services.size(); ++si) {
            const ServiceModel& s = model_.services[si];
            NodeData& n = nodes_.at(s.name);
            for (std::size_t ai = 0; ai < s.addresses.size(); ++ai) {
                if (!available_.empty() && !available_[si][ai]) continue;
                const util::IpAddress& a = s.addresses[ai];
                RRset& set = n.rrsets[a.is_v4() ? type::A : type::AAAA];
                set.type = a.is_v4() ? type::A : type::AAAA;
                set.ttl = s.ttl;
                set.shuffled = true;
                set.rdatas.push_back(address_rdata(a));
            }
        }
    }

    void render() {
        snapshot_ = std::make_shared<Snapshot>();
        snapshot_->edns_payload = model_.config.server.edns_payload;
        add_services();
        state_.resize(model_.zones.size());
        for (std::uint32_t i = 0; i < model_.zones.size(); ++i) {
            const ZoneModel& z = model_.zones[i];
            RRset soa{type::SOA, dns::cls::IN, z.soa_ttl, {soa_rdata(z, serials_.at(i))}, false};
            nodes_.at(z.origin).rrsets[type::SOA] = soa;
            // RFC 2308 §5: the negative TTL is the lower of the SOA's TTL and MINIMUM.
            soa.ttl = std::min(z.soa_ttl, z.minimum);
            state_[i].negative_soa = soa;
            state_[i].nodata = negative(i, static_cast<std::uint8_t>(dns::rcode::NOERROR));
            state_[i].nxdomain = negative(i, static_cast<std::uint8_t>(dns::rcode::NXDOMAIN));
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
        for (std::uint32_t i = 0; i < model_.zones.size(); ++i) {
            const ZoneModel& z = model_.zones[i];
            snapshot_->zones.push_back(
                {z.origin_text, index.at(z.origin), state_[i].nxdomain, serials_.at(i)});
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

    const Model& model_;
    const Availability& available_;
    const std::vector<std::uint32_t>& serials_;
    std::map<WireName, NodeData> nodes_;  // the model's, plus the service addresses that are up
    std::vector<ZoneState> state_;
    std::map<WireName, std::uint32_t> referrals_;
    std::shared_ptr<Snapshot> snapshot_;
};

}  // namespace

std::shared_ptr<const Model> load(const config::Config& config) {
    return Loader(config).run();
}

std::shared_ptr<const Snapshot> compile(const Model& model, const Availability& available,
                                        const std::vector<std::uint32_t>& serials) {
    return Renderer(model, available, serials).run();
}

std::vector<std::uint32_t> next_serials(const Model& model,
                                        const std::vector<std::uint32_t>& previous) {
    const auto now = static_cast<std::uint32_t>(std::time(nullptr));
    std::vector<std::uint32_t> out;
    for (std::size_t i = 0; i < model.zones.size(); ++i) {
        if (model.zones[i].serial) {
            out.push_back(*model.zones[i].serial);
        } else if (i < previous.size() && static_cast<std::int32_t>(now - previous[i]) <= 0) {
            out.push_back(previous[i] + 1);  // not newer in RFC 1982 terms: step past it
        } else {
            out.push_back(now);
        }
    }
    return out;
}

std::shared_ptr<const Snapshot> compile(const config::Config& config) {
    auto model = load(config);
    return compile(*model, {}, next_serials(*model, {}));
}

}  // namespace nolb::zone
