// Rendering: the service addresses that are up join the model's static data, and every response
// a query can get is rendered to wire form, per node and type, plus the zones' negative answers,
// referrals and CNAME chains.
//
// Rendering a node notes what it read besides its own static data: a service's addresses (its
// own, the end of a CNAME chain, additional records, glue) or the SOA (its own at an apex, or in
// a CNAME chain's negative answer). Those reads depend only on the zone's structure, never on
// which addresses are up, so the index the first rendering builds (service -> readers, zone ->
// SOA readers) holds for every later one, and a change renders again exactly its readers.
//
// Answer indices stay put where several nodes share an answer (a zone's negative answers, a
// referral): those are overwritten in place. A node's own answers are appended anew and its
// old ones left as garbage, counted, until packing drops them.
#include "zone/compile.hpp"

#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <map>
#include <set>
#include <utility>

#include "dns/types.hpp"
#include "util/version.hpp"
#include "zone/image.hpp"
#include "zone/records.hpp"
#include "zone/render.hpp"

namespace nolb::zone {
namespace {

using dns::WireName;
namespace type = dns::type;

constexpr int kMaxChain = 8;  // CNAMEs followed in one answer

WireName constant_wire(const char* text) {
    WireName out;
    std::string error;
    dns::wire_from_text(text, WireName(1, '\0'), out, error);
    return out;
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

// The outcome of looking a name up at load time (CNAME chains).
struct Resolution {
    enum Kind { data, nxdomain, stop } kind = stop;
    const NodeData* node = nullptr;
};

// What rendering one node or referral read besides its own static data.
struct Reads {
    std::vector<std::uint32_t> services;
    bool soa = false;
};

// Who read something: node indices and referral ids.
struct Readers {
    std::vector<std::uint32_t> nodes;
    std::vector<std::uint32_t> referrals;
};

}  // namespace

class Renderer {
  public:
    explicit Renderer(const Model& model) : model_(model) {}

    // `changed`: the services whose rows changed; nullptr: any may have.
    std::shared_ptr<const Snapshot> render(const Availability& available,
                                           const std::vector<std::uint32_t>& serials,
                                           const std::vector<std::size_t>* changed) {
        work_ = {};
        if (!current_) {
            render_all(available, serials);
        } else {
            render_changes(available, serials, changed);
        }
        current_ = std::move(snapshot_);
        return current_;
    }

    const Compiler::Work& work() const { return work_; }

  private:
    struct ZoneState {
        std::uint32_t serial = 0;
        RRset negative_soa;  // the SOA with the RFC 2308 negative TTL
        std::uint32_t nodata = kNoAnswer;
        std::uint32_t nxdomain = kNoAnswer;
    };

    struct Referral {
        const NodeData* cut = nullptr;
        std::uint32_t answer = kNoAnswer;
    };

    // ---- the two ways in -------------------------------------------------------------------

    void render_all(const Availability& available, const std::vector<std::uint32_t>& serials) {
        work_.full = true;
        snapshot_ = std::make_shared<Snapshot>();
        snapshot_->edns_payload = model_.server.edns_payload;
        nodes_ = model_.nodes;
        available_.resize(model_.services.size());
        service_data_.resize(model_.services.size());
        for (std::uint32_t si = 0; si < model_.services.size(); ++si) {
            available_[si] = published_row(available, si);
            service_data_[si] = &nodes_.at(model_.services[si].name);
            set_addresses(si);
        }
        work_.services = model_.services.size();
        service_readers_.assign(model_.services.size(), {});
        soa_readers_.assign(model_.zones.size(), {});

        zones_.resize(model_.zones.size());
        for (std::uint32_t zi = 0; zi < model_.zones.size(); ++zi)
            set_serial(zi, serials.at(zi));

        std::map<WireName, std::uint32_t> index;
        snapshot_->nodes.reserve(nodes_.size());
        node_data_.reserve(nodes_.size());
        for (auto& [name, n] : nodes_) {
            index.emplace_hint(index.end(), name,
                               static_cast<std::uint32_t>(snapshot_->nodes.size()));
            Node out;
            out.name_at = static_cast<std::uint32_t>(snapshot_->names.size());
            out.name_size = static_cast<std::uint8_t>(name.size());
            out.zone = n.zone;
            snapshot_->names.insert(snapshot_->names.end(), name.begin(), name.end());
            snapshot_->nodes.push_back(out);
            node_data_.push_back(&n);
        }
        for (std::uint32_t i = 0; i < node_data_.size(); ++i) {
            render_node_at(i, false);
            const WireName& name = node_data_[i]->name;
            if (is_wildcard(name)) {
                auto parent = index.find(dns::parent_of(name));
                if (parent != index.end()) snapshot_->nodes[parent->second].wildcard = i;
            }
        }
        work_.nodes = node_data_.size();
        images_.start(model_, nodes_);
        for (std::uint32_t si = 0; si < model_.services.size(); ++si)
            images_.set_service(si, *service_data_[si]);
        for (std::uint32_t zi = 0; zi < model_.zones.size(); ++zi) {
            const ZoneModel& z = model_.zones[zi];
            snapshot_->zones.push_back({z.origin_text, index.at(z.origin), zones_[zi].nxdomain,
                                        zones_[zi].serial, images_.image(zi, zones_[zi].serial)});
        }
        render_chaos();
        build_table();
    }

    void render_changes(const Availability& available, const std::vector<std::uint32_t>& serials,
                        const std::vector<std::size_t>* changed) {
        snapshot_ = std::make_shared<Snapshot>(*current_);
        std::vector<bool> node_due(node_data_.size(), false);
        std::vector<bool> referral_due(referrals_.size(), false);
        auto mark = [&](const Readers& readers) {
            for (std::uint32_t i : readers.nodes)
                node_due[i] = true;
            for (std::uint32_t r : readers.referrals)
                referral_due[r] = true;
        };

        // A caller's list names rows it has compared already; without one, compare them here.
        std::vector<bool> image_due(model_.zones.size(), false);
        auto take_row = [&](std::uint32_t si) {
            if (!changed && !row_differs(available, si)) return;
            available_[si] = published_row(available, si);
            set_addresses(si);
            images_.set_service(si, *service_data_[si]);
            image_due[model_.services[si].zone] = true;
            mark(service_readers_[si]);
            ++work_.services;
        };
        if (changed) {
            for (std::size_t si : *changed)
                if (si < model_.services.size()) take_row(static_cast<std::uint32_t>(si));
        } else {
            for (std::uint32_t si = 0; si < model_.services.size(); ++si)
                take_row(si);
        }
        for (std::uint32_t zi = 0; zi < model_.zones.size(); ++zi) {
            if (serials.at(zi) == zones_[zi].serial) continue;
            retire(zones_[zi].nodata);
            retire(zones_[zi].nxdomain);
            set_serial(zi, serials[zi]);
            snapshot_->zones[zi].serial = serials[zi];
            image_due[zi] = true;
            mark(soa_readers_[zi]);
        }
        for (std::uint32_t zi = 0; zi < model_.zones.size(); ++zi)
            if (image_due[zi]) snapshot_->zones[zi].image = images_.image(zi, zones_[zi].serial);

        for (std::uint32_t r = 0; r < referrals_.size(); ++r) {
            if (!referral_due[r]) continue;
            retire(referrals_[r].answer);
            Reads ignored;  // the same as the first rendering read
            reads_ = &ignored;
            render_referral(*referrals_[r].cut, referrals_[r].answer);
            reads_ = nullptr;
            ++work_.referrals;
        }
        for (std::uint32_t i = 0; i < node_data_.size(); ++i) {
            if (!node_due[i]) continue;
            render_node_at(i, true);
            ++work_.nodes;
        }
        if (2 * dead_answers_ > snapshot_->answers.size() ||
            2 * dead_bytes_ > snapshot_->bytes.size() || 2 * dead_typed_ > snapshot_->typed.size())
            pack();
    }

    // ---- the working copy of the zone data -------------------------------------------------

    // Row `si` of `available`, sized to the service's addresses (empty: everything published).
    std::vector<bool> published_row(const Availability& available, std::uint32_t si) const {
        const std::size_t size = model_.services[si].addresses.size();
        if (available.empty()) return std::vector<bool>(size, true);
        std::vector<bool> row = si < available.size() ? available[si] : std::vector<bool>();
        row.resize(size, false);
        return row;
    }

    bool row_differs(const Availability& available, std::uint32_t si) const {
        const std::vector<bool>& now = available_[si];
        if (available.empty()) return std::find(now.begin(), now.end(), false) != now.end();
        if (si >= available.size()) return std::find(now.begin(), now.end(), true) != now.end();
        const std::vector<bool>& row = available[si];
        for (std::size_t ai = 0; ai < now.size(); ++ai)
            if ((ai < row.size() && row[ai]) != now[ai]) return true;
        return false;
    }

    // Service addresses that are up join the static data as shuffled RRsets.
    void set_addresses(std::uint32_t si) {
        const ServiceModel& s = model_.services[si];
        NodeData& n = *service_data_[si];
        n.rrsets.erase(type::A);
        n.rrsets.erase(type::AAAA);
        for (std::size_t ai = 0; ai < s.addresses.size(); ++ai) {
            if (!available_[si][ai]) continue;
            const util::IpAddress& a = s.addresses[ai];
            RRset& set = n.rrsets[a.is_v4() ? type::A : type::AAAA];
            set.type = a.is_v4() ? type::A : type::AAAA;
            set.ttl = s.ttl;
            set.shuffled = true;
            set.rdatas.push_back(address_rdata(a));
        }
    }

    // The zone's SOA with `serial`, at its apex and in its negative answers.
    void set_serial(std::uint32_t zi, std::uint32_t serial) {
        const ZoneModel& z = model_.zones[zi];
        ZoneState& zs = zones_[zi];
        zs.serial = serial;
        RRset soa{type::SOA, dns::cls::IN, z.soa_ttl, {soa_rdata(z, serial)}, false};
        nodes_.at(z.origin).rrsets[type::SOA] = soa;
        // RFC 2308 §5: the negative TTL is the lower of the SOA's TTL and MINIMUM.
        soa.ttl = std::min(z.soa_ttl, z.minimum);
        zs.negative_soa = soa;
        zs.nodata = negative(zi, static_cast<std::uint8_t>(dns::rcode::NOERROR), zs.nodata);
        zs.nxdomain = negative(zi, static_cast<std::uint8_t>(dns::rcode::NXDOMAIN), zs.nxdomain);
    }

    // ---- what a rendering reads ------------------------------------------------------------

    // Rendering is about to read `n`'s RRsets.
    void note(const NodeData& n) {
        if (!reads_) return;
        if (n.service) reads_->services.push_back(*n.service);
        if (n.name == model_.zones[n.zone].origin) reads_->soa = true;
    }
    void note_soa() {
        if (reads_) reads_->soa = true;
    }

    void add_readers(Reads& reads, std::uint32_t zone, bool referral, std::uint32_t id) {
        std::sort(reads.services.begin(), reads.services.end());
        reads.services.erase(std::unique(reads.services.begin(), reads.services.end()),
                             reads.services.end());
        auto add = [&](Readers& readers) {
            (referral ? readers.referrals : readers.nodes).push_back(id);
        };
        for (std::uint32_t si : reads.services)
            add(service_readers_[si]);
        if (reads.soa) add(soa_readers_[zone]);
    }

    // ---- garbage ----------------------------------------------------------------------------

    void retire(std::uint32_t answer) {
        if (answer == kNoAnswer) return;
        dead_bytes_ += snapshot_->answers[answer].size;
        ++dead_answers_;
    }

    // Copies the answers still pointed at into fresh arrays, in the order they are met, and
    // re-aims every pointer to them.
    void pack() {
        Snapshot& s = *snapshot_;
        std::vector<std::uint8_t> bytes;
        std::vector<Answer> answers;
        std::vector<Fixup> fixups;
        std::vector<Cut> cuts;
        std::vector<TypedAnswer> typed;
        bytes.reserve(s.bytes.size() - std::min(s.bytes.size(), dead_bytes_));
        answers.reserve(s.answers.size() - std::min(s.answers.size(), dead_answers_));
        typed.reserve(s.typed.size() - std::min(s.typed.size(), dead_typed_));
        std::vector<std::uint32_t> moved(s.answers.size(), kNoAnswer);
        auto keep = [&](std::uint32_t& index) {
            if (index == kNoAnswer) return;
            std::uint32_t& to = moved[index];
            if (to == kNoAnswer) {
                Answer a = s.answers[index];
                bytes.insert(bytes.end(), s.bytes.begin() + a.bytes_at,
                             s.bytes.begin() + a.bytes_at + a.size);
                a.bytes_at = static_cast<std::uint32_t>(bytes.size() - a.size);
                fixups.insert(fixups.end(), s.fixups.begin() + a.fixups_at,
                              s.fixups.begin() + a.fixups_at + a.fixups);
                a.fixups_at = static_cast<std::uint32_t>(fixups.size() - a.fixups);
                cuts.insert(cuts.end(), s.cuts.begin() + a.cuts_at,
                            s.cuts.begin() + a.cuts_at + a.cuts);
                a.cuts_at = static_cast<std::uint32_t>(cuts.size() - a.cuts);
                to = static_cast<std::uint32_t>(answers.size());
                answers.push_back(a);
            }
            index = to;
        };
        for (Node& n : s.nodes) {
            const std::uint32_t at = static_cast<std::uint32_t>(typed.size());
            for (std::uint32_t k = 0; k < n.typed; ++k) {
                TypedAnswer t = s.typed[n.typed_at + k];
                keep(t.answer);
                typed.push_back(t);
            }
            n.typed_at = at;
            keep(n.any);
            keep(n.other);
            keep(n.referral);
        }
        for (Zone& z : s.zones)
            keep(z.nxdomain);
        for (ChaosName& c : s.chaos)
            keep(c.txt);
        keep(s.chaos_nodata);
        for (ZoneState& zs : zones_) {
            keep(zs.nodata);
            keep(zs.nxdomain);
        }
        for (Referral& r : referrals_)
            keep(r.answer);
        s.bytes = std::move(bytes);
        s.answers = std::move(answers);
        s.fixups = std::move(fixups);
        s.cuts = std::move(cuts);
        s.typed = std::move(typed);
        dead_bytes_ = dead_answers_ = dead_typed_ = 0;
        work_.packed = true;
    }

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

    // The in-zone addresses of `target` (as written) in the additional section.
    void add_addresses(TailBuilder& t, const WireName& target, std::uint32_t zone) {
        const WireName lower = dns::lowered(target);
        if (!dns::is_subdomain(lower, model_.zones[zone].origin)) return;
        auto it = nodes_.find(lower);
        if (it == nodes_.end()) return;
        note(it->second);
        for (std::uint16_t at : {type::A, type::AAAA}) {
            auto s = it->second.rrsets.find(at);
            if (s != it->second.rrsets.end()) t.add(Section::additional, target, s->second);
        }
    }

    // Additional-section processing (RFC 1034 §4.3.2 step 6): addresses of in-zone targets.
    void add_additional(TailBuilder& t, const RRset& set, std::uint32_t zone) {
        if (set.type != type::NS && set.type != type::MX && set.type != type::SRV) return;
        std::set<WireName> done;
        for (const RData& rd : set.rdatas) {
            for (const Piece& p : rd.pieces) {
                if (!p.is_name || !done.insert(dns::lowered(p.bytes)).second) continue;
                add_addresses(t, p.bytes, zone);
            }
        }
    }

    // A zone's NODATA or NXDOMAIN answer: the SOA in the authority section.
    std::uint32_t negative(std::uint32_t zone, std::uint8_t rcode, std::uint32_t replace) {
        TailBuilder t(model_.zones[zone].origin);
        t.add(Section::authority, model_.zones[zone].origin, zones_[zone].negative_soa);
        t.set_rcode(rcode);
        return t.finish(*snapshot_, replace);
    }

    // The referral every name at or below `cut` gets, rendered once and shared.
    std::uint32_t referral(const NodeData& cut) {
        auto cached = referral_ids_.find(cut.name);
        if (cached != referral_ids_.end()) return referrals_[cached->second].answer;
        const auto id = static_cast<std::uint32_t>(referrals_.size());
        Reads reads;
        Reads* outer = std::exchange(reads_, &reads);
        const std::uint32_t answer = render_referral(cut, kNoAnswer);
        reads_ = outer;
        referrals_.push_back({&cut, answer});
        referral_ids_.emplace(cut.name, id);
        add_readers(reads, cut.zone, true, id);
        return answer;
    }

    std::uint32_t render_referral(const NodeData& cut, std::uint32_t replace) {
        TailBuilder t(cut.name);
        const RRset& ns = cut.rrsets.at(type::NS);
        t.add(Section::authority, cut.name, ns);
        // Glue at or below the cut is required (RFC 9471): TC when it does not fit.
        for (int pass = 0; pass < 2; ++pass) {
            for (const RData& rd : ns.rdatas) {
                const Piece& p = rd.pieces.front();
                const bool below = dns::is_subdomain(dns::lowered(p.bytes), cut.name);
                if ((pass == 0) == below) add_addresses(t, p.bytes, cut.zone);
            }
            if (pass == 0) t.mark_required_additional();
        }
        t.set_authoritative(false);
        return t.finish(*snapshot_, replace);
    }

    // Renders node `i`'s answers into the snapshot and, the first time, indexes what it read.
    // `again`: it had answers, which become garbage.
    void render_node_at(std::uint32_t i, bool again) {
        Node& out = snapshot_->nodes[i];
        if (again) {
            for (std::uint32_t k = out.typed_at; k < out.typed_at + out.typed; ++k)
                retire(snapshot_->typed[k].answer);
            if (out.other != zones_[out.zone].nodata) retire(out.other);
        }
        out.any = out.other = out.referral = kNoAnswer;
        out.is_cut = false;
        Reads reads;
        reads_ = &reads;
        std::vector<TypedAnswer> typed;
        render_node(*node_data_[i], out, typed);
        reads_ = nullptr;
        if (!again) add_readers(reads, out.zone, false, i);

        std::sort(typed.begin(), typed.end(),
                  [](const TypedAnswer& a, const TypedAnswer& b) { return a.type < b.type; });
        if (again && typed.size() <= out.typed) {
            dead_typed_ += out.typed - typed.size();
        } else {
            if (again) dead_typed_ += out.typed;
            out.typed_at = static_cast<std::uint32_t>(snapshot_->typed.size());
            snapshot_->typed.resize(snapshot_->typed.size() + typed.size());
        }
        std::copy(typed.begin(), typed.end(), snapshot_->typed.begin() + out.typed_at);
        out.typed = static_cast<std::uint16_t>(typed.size());
    }

    // A CNAME chain followed inside the zone at load time (RFC 1034 §4.3.2 step 3a).
    struct Chain {
        std::vector<std::pair<WireName, const RRset*>> links;  // (owner as written, CNAME set)
        Resolution end;  // of the last target; stop: out of the zone, below a cut, a loop, too long
        WireName end_owner;  // the last target, as written
    };

    // Answers for one node: a typed answer per RRset, ANY, and the rest (NODATA or a chain).
    void render_node(const NodeData& n, Node& out, std::vector<TypedAnswer>& typed) {
        const WireName match = is_wildcard(n.name) ? dns::parent_of(n.name) : n.name;
        out.other = zones_[n.zone].nodata;
        const bool apex = n.name == model_.zones[n.zone].origin;
        if (const NodeData* cut = cut_above(n); cut && !apex) {
            render_delegated(n, *cut, match, out, typed);
            return;
        }
        auto cname = n.rrsets.find(type::CNAME);
        if (cname == n.rrsets.end()) {
            render_data(n, match, out, typed);
        } else {
            render_alias(n, cname->second, match, out, typed);
        }
    }

    // A node at or below a zone cut gets the referral; the cut itself answers DS, which
    // belongs to the parent side.
    void render_delegated(const NodeData& n, const NodeData& cut, const WireName& match, Node& out,
                          std::vector<TypedAnswer>& typed) {
        out.referral = referral(cut);
        out.is_cut = &cut == &n;
        if (!out.is_cut) return;
        auto ds = n.rrsets.find(type::DS);
        if (ds == n.rrsets.end()) return;
        TailBuilder t(match);
        t.add(Section::answer, {}, ds->second);
        typed.push_back({type::DS, t.finish(*snapshot_)});
    }

    // A node with data: one answer per RRset, with its additional records; ANY gets the first.
    void render_data(const NodeData& n, const WireName& match, Node& out,
                     std::vector<TypedAnswer>& typed) {
        note(n);
        for (const auto& [t_type, set] : n.rrsets) {
            TailBuilder t(match);
            t.add(Section::answer, {}, set);
            add_additional(t, set, n.zone);
            typed.push_back({t_type, t.finish(*snapshot_)});
            if (out.any == kNoAnswer) out.any = typed.back().answer;
        }
    }

    // A CNAME node: the CNAME alone for its own type and ANY, the chain and the data at its end
    // for the types found there, and the chain with what ended it for every other type.
    void render_alias(const NodeData& n, const RRset& cname, const WireName& match, Node& out,
                      std::vector<TypedAnswer>& typed) {
        const Chain chain = follow_chain(n, cname);
        {
            TailBuilder t(match);
            t.add(Section::answer, {}, cname);
            typed.push_back({type::CNAME, t.finish(*snapshot_)});
            out.any = typed.back().answer;
        }
        if (chain.end.kind == Resolution::data) render_chain_data(n, chain, match, typed);
        out.other = render_chain_end(n, chain, match);
    }

    Chain follow_chain(const NodeData& n, const RRset& cname) const {
        Chain chain;
        chain.links.emplace_back(WireName(), &cname);
        std::set<WireName> seen{n.name};
        for (int hop = 0; hop < kMaxChain; ++hop) {
            const WireName target = chain.links.back().second->rdatas.front().pieces.front().bytes;
            const WireName lower = dns::lowered(target);
            if (!seen.insert(lower).second) break;  // a loop: stop at the CNAME
            chain.end = resolve(lower, n.zone);
            chain.end_owner = target;
            if (chain.end.kind != Resolution::data) break;
            auto next = chain.end.node->rrsets.find(type::CNAME);
            if (next == chain.end.node->rrsets.end()) break;
            chain.links.emplace_back(target, &next->second);
            chain.end = {};
        }
        return chain;
    }

    static void add_chain(TailBuilder& t, const Chain& chain) {
        for (const auto& [owner, set] : chain.links)
            t.add(Section::answer, owner, *set);
    }

    // The chain, then each RRset at its end with its additional records.
    void render_chain_data(const NodeData& n, const Chain& chain, const WireName& match,
                           std::vector<TypedAnswer>& typed) {
        note(*chain.end.node);
        for (const auto& [t_type, set] : chain.end.node->rrsets) {
            TailBuilder t(match);
            add_chain(t, chain);
            t.add(Section::answer, chain.end_owner, set);
            add_additional(t, set, n.zone);
            typed.push_back({t_type, t.finish(*snapshot_)});
        }
    }

    // The chain for a type its end does not have: NODATA or NXDOMAIN for the last name (with the
    // zone's SOA), or the chain alone when it stopped.
    std::uint32_t render_chain_end(const NodeData& n, const Chain& chain, const WireName& match) {
        TailBuilder t(match);
        add_chain(t, chain);
        if (chain.end.kind != Resolution::stop) {
            // RFC 6604: the rcode speaks of the last name in the chain.
            note_soa();
            t.add(Section::authority, model_.zones[n.zone].origin, zones_[n.zone].negative_soa);
            if (chain.end.kind == Resolution::nxdomain)
                t.set_rcode(static_cast<std::uint8_t>(dns::rcode::NXDOMAIN));
        }
        return t.finish(*snapshot_);
    }

    void render_chaos() {
        const config::Server& s = model_.server;
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
            const WireName name = constant_wire(text);
            TailBuilder t(name);
            t.add(Section::answer, {},
                  RRset{type::TXT, dns::cls::CH, 0, {txt_rdata(value)}, false});
            snapshot_->chaos.push_back({name, t.finish(*snapshot_)});
        }
        TailBuilder empty(constant_wire("bind."));
        snapshot_->chaos_nodata = empty.finish(*snapshot_);
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
    // The model's nodes plus the service addresses that are up now.
    std::map<WireName, NodeData> nodes_;
    std::vector<NodeData*> node_data_;     // by snapshot node index
    std::vector<NodeData*> service_data_;  // by service index
    Availability available_;               // what the service RRsets hold now
    std::vector<ZoneState> zones_;
    std::vector<Referral> referrals_;
    std::map<WireName, std::uint32_t> referral_ids_;  // by cut name
    std::vector<Readers> service_readers_;            // by service index
    std::vector<Readers> soa_readers_;                // by zone index
    Reads* reads_ = nullptr;                          // what the rendering under way notes
    std::shared_ptr<const Snapshot> current_;         // the last snapshot handed out
    std::shared_ptr<Snapshot> snapshot_;              // the one being rendered
    std::size_t dead_bytes_ = 0, dead_answers_ = 0, dead_typed_ = 0;
    Compiler::Work work_;
    ImageBuilder images_;  // the zones as transfers carry them
};

Compiler::Compiler(std::shared_ptr<const Model> model)
    : model_(std::move(model)), renderer_(std::make_unique<Renderer>(*model_)) {}

Compiler::~Compiler() = default;

std::shared_ptr<const Snapshot> Compiler::render(const Availability& available,
                                                 const std::vector<std::uint32_t>& serials) {
    return render(available, serials, nullptr);
}

std::shared_ptr<const Snapshot> Compiler::render(const Availability& available,
                                                 const std::vector<std::uint32_t>& serials,
                                                 const std::vector<std::size_t>& changed) {
    return render(available, serials, &changed);
}

std::shared_ptr<const Snapshot> Compiler::render(const Availability& available,
                                                 const std::vector<std::uint32_t>& serials,
                                                 const std::vector<std::size_t>* changed) {
    try {
        return renderer_->render(available, serials, changed);
    } catch (...) {
        // A rendering that failed half way (an answer over 65535 octets) leaves the working
        // copy behind the last snapshot: start again from the model next time.
        renderer_ = std::make_unique<Renderer>(*model_);
        throw;
    }
}

const Compiler::Work& Compiler::last_work() const {
    return renderer_->work();
}

std::shared_ptr<const Snapshot> compile(const Model& model, const Availability& available,
                                        const std::vector<std::uint32_t>& serials) {
    return Renderer(model).render(available, serials, nullptr);
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
