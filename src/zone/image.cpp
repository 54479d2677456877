#include "zone/image.hpp"

#include "dns/types.hpp"
#include "dns/wire.hpp"

namespace nolb::zone {

namespace {

void put16(std::string& out, std::uint16_t v) {
    out.push_back(static_cast<char>(v >> 8));
    out.push_back(static_cast<char>(v));
}

void put32(std::string& out, std::uint32_t v) {
    put16(out, static_cast<std::uint16_t>(v >> 16));
    put16(out, static_cast<std::uint16_t>(v));
}

std::size_t count(std::string_view block) {
    std::size_t n = 0;
    for_each_record(block, [&n](std::string_view) { ++n; });
    return n;
}

bool is_address(std::uint16_t type) {
    return type == dns::type::A || type == dns::type::AAAA;
}

}  // namespace

void append_records(std::string& out, const dns::WireName& owner, const RRset& set) {
    for (const RData& rdata : set.rdatas) {
        out += owner;
        put16(out, set.type);
        put16(out, set.klass);
        put32(out, set.ttl);
        std::size_t size = 0;
        for (const Piece& piece : rdata.pieces)
            size += piece.bytes.size();
        put16(out, static_cast<std::uint16_t>(size));
        for (const Piece& piece : rdata.pieces)
            out += piece.bytes;
    }
}

std::size_t record_size(std::string_view records, std::size_t at) {
    std::size_t end = at;
    while (end < records.size() && records[end] != 0)
        end += 1 + static_cast<std::uint8_t>(records[end]);
    end += 1 + 8;  // the root label; type, class, TTL
    const auto* rdlength = reinterpret_cast<const std::uint8_t*>(records.data() + end);
    return end + 2 + dns::load16(rdlength) - at;
}

void ImageBuilder::start(const Model& model, const std::map<dns::WireName, NodeData>& nodes) {
    model_ = &model;
    std::vector<std::string> statics(model.zones.size());
    for (const auto& [name, node] : nodes)
        for (const auto& [type, set] : node.rrsets) {
            if (type == dns::type::SOA || (node.service && is_address(type))) continue;
            append_records(statics[node.zone], name, set);
        }
    static_blocks_.clear();
    static_counts_.clear();
    for (std::string& block : statics) {
        static_counts_.push_back(count(block));
        static_blocks_.push_back(std::make_shared<const std::string>(std::move(block)));
    }
    service_blocks_.assign(model.services.size(), std::make_shared<const std::string>());
    service_counts_.assign(model.services.size(), 0);
    zone_services_.assign(model.zones.size(), {});
    for (std::uint32_t si = 0; si < model.services.size(); ++si)
        zone_services_[model.services[si].zone].push_back(si);
}

void ImageBuilder::set_service(std::uint32_t si, const NodeData& node) {
    std::string block;
    for (std::uint16_t type : {dns::type::A, dns::type::AAAA}) {
        auto it = node.rrsets.find(type);
        if (it != node.rrsets.end()) append_records(block, node.name, it->second);
    }
    service_counts_[si] = count(block);
    service_blocks_[si] = std::make_shared<const std::string>(std::move(block));
}

std::shared_ptr<const Image> ImageBuilder::image(std::uint32_t zi, std::uint32_t serial) const {
    auto out = std::make_shared<Image>();
    const ZoneModel& z = model_->zones[zi];
    out->serial = serial;
    append_records(out->soa, z.origin,
                   RRset{dns::type::SOA, dns::cls::IN, z.soa_ttl, {soa_rdata(z, serial)}, false});
    out->blocks.reserve(1 + zone_services_[zi].size());
    out->blocks.push_back(static_blocks_[zi]);
    for (std::uint32_t si : zone_services_[zi])
        out->blocks.push_back(service_blocks_[si]);
    out->records = static_counts_[zi];
    for (std::uint32_t si : zone_services_[zi])
        out->records += service_counts_[si];
    return out;
}

}  // namespace nolb::zone
