// zone::compile turns a validated Config (plus, later, a health view) into an immutable
// Snapshot with every answer rendered to wire format. Expensive work happens here, once per
// load or change, so that answering is select, shuffle, copy and patch.
#pragma once

#include <memory>

#include "config/config.hpp"
#include "zone/snapshot.hpp"

namespace nolb::zone {

// Reads the zone files the config names (with ldns) and compiles everything. Throws
// config::Error, each problem with its file and line, when a zone file or record is bad.
std::shared_ptr<const Snapshot> compile(const config::Config& config);

}  // namespace nolb::zone
