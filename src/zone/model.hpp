// zone::Model: everything read from the config and the zone files, checked, grouped by owner
// name, but not yet rendered. It is built once per (re)load; every health change renders a new
// Snapshot from the same Model, so zone files are read only when the config is.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "config/config.hpp"
#include "zone/records.hpp"

namespace nolb::zone {

struct ZoneModel {
    dns::WireName origin;  // lower-cased
    std::string origin_text;
    std::optional<std::uint32_t> serial;  // nullopt: auto
    std::uint32_t soa_ttl = 0;
    std::uint32_t minimum = 0;
    dns::WireName mname, rname;
    std::uint32_t refresh = 0, retry = 0, expire = 0;
};

struct ServiceModel {
    dns::WireName name;  // lower-cased
    std::uint32_t zone = 0;
    std::uint32_t ttl = 0;
    std::vector<util::IpAddress> addresses;  // every node's, in config order (node, address)
};

struct Model {
    config::Server server;  // the [server] settings answers depend on (EDNS size, CHAOS)
    std::vector<ZoneModel> zones;
    std::map<dns::WireName, NodeData> nodes;  // static data; services' addresses come at render
    std::vector<ServiceModel> services;
};

// Which service addresses to publish: [service][address] in ServiceModel::addresses order.
// An empty outer vector publishes everything (zero-admin).
using Availability = std::vector<std::vector<bool>>;

// Reads zone files and checks everything; throws config::Error listing every problem.
std::shared_ptr<const Model> load(const config::Config& config);

// ---- queries on the model, shared by loading and rendering --------------------------------

// The deepest zone containing `name` (lower-cased).
std::optional<std::uint32_t> zone_of(const std::vector<ZoneModel>& zones,
                                     const dns::WireName& name);

// The highest delegation point at or above `n` inside its zone, if any: everything below it
// belongs to the child.
const NodeData* cut_above(const std::map<dns::WireName, NodeData>& nodes,
                          const std::vector<ZoneModel>& zones, const NodeData& n);

// The zone's SOA RDATA (RFC 1035 §3.3.13) with `serial`.
RData soa_rdata(const ZoneModel& z, std::uint32_t serial);
RData address_rdata(const util::IpAddress& a);

}  // namespace nolb::zone
