// zone::compile turns a Model and a health view into an immutable Snapshot with every answer
// rendered to wire format. Expensive work happens here, once per load or change, so that
// answering is select, shuffle, copy and patch.
#pragma once

#include <memory>
#include <vector>

#include "config/config.hpp"
#include "zone/model.hpp"
#include "zone/snapshot.hpp"

namespace nolb::zone {

// `serials[i]` is zone i's SOA serial for this rendering (see next_serials).
std::shared_ptr<const Snapshot> compile(const Model& model, const Availability& available,
                                        const std::vector<std::uint32_t>& serials);

// The serials for a new rendering: a fixed serial from the config stays; an automatic one is
// the current time, or one more than `previous` when that is not newer (RFC 1982 arithmetic
// keeps working across the wrap). `previous` may be empty.
std::vector<std::uint32_t> next_serials(const Model& model,
                                        const std::vector<std::uint32_t>& previous);

// load + compile with every address published: the zero-admin view, and what tests use.
std::shared_ptr<const Snapshot> compile(const config::Config& config);

}  // namespace nolb::zone
