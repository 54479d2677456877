// What the workers need to serve transfers, beside the snapshot: who may transfer (Access) and
// each zone's journal of changes. The publisher owns the journals and publishes a copy of this
// with every snapshot (a journal is a list of shared deltas: copying it copies pointers). A
// worker reads it only for the rare messages that are transfers or signed, never per query.
#pragma once

#include <memory>
#include <vector>

#include "transfer/access.hpp"
#include "transfer/journal.hpp"

namespace nolb::transfer {

struct State {
    std::shared_ptr<const Access> access;  // null before the first configuration
    std::vector<Journal> journals;         // by zone, in the snapshot's order
};

}  // namespace nolb::transfer
