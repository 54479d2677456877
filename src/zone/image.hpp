// A zone's contents as a zone transfer carries them (RFC 5936): every record nolbd publishes for
// the zone, in wire form with names uncompressed and lower-cased. Each snapshot holds one Image
// per zone. Records come in blocks: the zone's static records in one, and one per service (its
// A and AAAA records as the plan publishes them), so that a health change builds a new Image
// from the old one's blocks and only the changed services' new ones, and so that the journal of
// changes (IXFR) compares blocks rather than whole zones.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "zone/model.hpp"

namespace nolb::zone {

using Block = std::shared_ptr<const std::string>;  // whole records, back to back

struct Image {
    std::uint32_t serial = 0;
    std::string soa;            // the SOA record, with `serial`
    std::vector<Block> blocks;  // [0] the static records; then each service of the zone's
    std::size_t records = 0;    // in the blocks, the SOA apart
};

// The records of `set` at `owner` (lower-cased wire), in wire form, appended to `out`.
void append_records(std::string& out, const dns::WireName& owner, const RRset& set);

// The size of the record starting at `at` in a block (or any run of uncompressed records).
std::size_t record_size(std::string_view records, std::size_t at);

// Calls `f(record)` for each record of `block`, in order.
template <typename F>
void for_each_record(std::string_view block, F&& f) {
    for (std::size_t at = 0; at < block.size();) {
        const std::size_t size = record_size(block, at);
        f(block.substr(at, size));
        at += size;
    }
}

// Keeps the blocks of every zone of a model and makes Images from them: the Renderer tells it
// the data it renders, and asks for a zone's Image when the zone's serial or a service's
// addresses changed.
class ImageBuilder {
  public:
    // Every node's static records (the SOA and services' addresses apart) as the zones' first
    // blocks. `nodes` are the model's nodes with services' addresses; `services` the model's.
    void start(const Model& model, const std::map<dns::WireName, NodeData>& nodes);
    // Service `si`'s block, from its node as published now.
    void set_service(std::uint32_t si, const NodeData& node);
    // Zone `zi`'s Image with this SOA serial.
    std::shared_ptr<const Image> image(std::uint32_t zi, std::uint32_t serial) const;

  private:
    const Model* model_ = nullptr;
    std::vector<Block> static_blocks_;  // by zone
    std::vector<std::size_t> static_counts_;
    std::vector<Block> service_blocks_;  // by service
    std::vector<std::size_t> service_counts_;
    std::vector<std::vector<std::uint32_t>> zone_services_;  // by zone
};

}  // namespace nolb::zone
