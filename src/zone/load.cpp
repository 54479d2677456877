// zone::load: gathers every record by owner (config SOA/NS/glue, record strings, master files,
// services) and checks what RFC 1034 forbids (CNAME beside other data, data below a zone cut).
// The result, a Model, is what every rendering of the same configuration starts from.
#include <algorithm>
#include <optional>

#include "dns/types.hpp"
#include "util/log.hpp"
#include "zone/model.hpp"
#include "zone/records.hpp"

namespace nolb::zone {
namespace {

using dns::WireName;
namespace type = dns::type;

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

class Loader {
  public:
    explicit Loader(const config::Config& config) : config_(config) {}

    std::shared_ptr<const Model> run() {
        for (const config::Zone& z : config_.zones)
            add_zone(z);
        for (std::uint32_t i = 0; i < zones_.size(); ++i)
            collect_zone(i);
        services_.reserve(config_.services.size());
        for (const config::Service& s : config_.services)
            add_service(s);
        add_empty_non_terminals();
        check_nodes();
        if (!problems_.empty()) throw config::Error(problems_);
        auto model = std::make_shared<Model>();
        model->server = config_.server;
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
        if (std::find(set.rdatas.begin(), set.rdatas.end(), rdata) != set.rdatas.end()) return;
        // Every RRset must fit one message, whatever the question: check the uncompressed size.
        std::size_t& size = rrset_sizes_[{lower, rtype}];
        const std::size_t before = size;
        size += record_size(rdata, lower);
        set.rdatas.push_back(std::move(rdata));
        if (size > dns::kMaxRecordsSize && before <= dns::kMaxRecordsSize)
            problems_.push_back(where + ": the " + dns::type_name(rtype) + " records at " +
                                dns::text_from_wire(owner) + " add up to more than the " +
                                std::to_string(dns::kMaxRecordsSize) +
                                " octets one DNS message can carry");
    }

    static std::size_t record_size(const RData& rdata, const WireName& owner) {
        std::size_t size = owner.size() + 10;
        for (const Piece& piece : rdata.pieces)
            size += piece.bytes.size();
        return size;
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
        n.service = static_cast<std::uint32_t>(services_.size());
        services_.push_back(std::move(model));
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
            const bool apex = name == zones_[n.zone].origin;
            if (n.rrsets.count(type::CNAME)) {
                const std::string text = dns::text_from_wire(name);
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
            if (!cut || cut == &n) continue;
            if (n.service)
                problems_.push_back(dns::text_from_wire(name) + ": service below the zone cut at " +
                                    dns::text_from_wire(cut->name));
            for (const auto& [t, set] : n.rrsets)
                if (t != type::A && t != type::AAAA)
                    log::warning("record below a zone cut is not served",
                                 {{"owner", dns::text_from_wire(name)},
                                  {"cut", dns::text_from_wire(cut->name)}});
        }
    }

    const config::Config& config_;
    std::vector<std::string> problems_;
    std::vector<ZoneModel> zones_;
    std::map<WireName, NodeData> nodes_;
    std::vector<ServiceModel> services_;
    std::map<std::pair<WireName, std::uint16_t>, std::size_t> rrset_sizes_;  // uncompressed
};

}  // namespace

std::shared_ptr<const Model> load(const config::Config& config) {
    return Loader(config).run();
}

std::optional<std::uint32_t> zone_of(const std::vector<ZoneModel>& zones, const WireName& name) {
    std::optional<std::uint32_t> best;
    for (std::uint32_t i = 0; i < zones.size(); ++i) {
        if (!dns::is_subdomain(name, zones[i].origin)) continue;
        if (!best || zones[i].origin.size() > zones[*best].origin.size()) best = i;
    }
    return best;
}

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

RData address_rdata(const util::IpAddress& a) {
    return RData{
        {Piece{false, std::string(reinterpret_cast<const char*>(a.bytes.data()), a.size())}}};
}

}  // namespace nolb::zone
