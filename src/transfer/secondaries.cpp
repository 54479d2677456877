#include "transfer/secondaries.hpp"

namespace nolb::transfer {

void Secondaries::note(const std::string& zone, const std::string& address, const char* last,
                       double at, const std::uint32_t* held, const std::uint32_t* sent) {
    std::lock_guard lock(mutex_);
    auto [it, fresh] = records_.try_emplace({zone, address});
    if (fresh && records_.size() > kMaxRecords) {
        auto oldest = records_.end();
        for (auto other = records_.begin(); other != records_.end(); ++other)
            if (other != it &&
                (oldest == records_.end() || other->second.last_at < oldest->second.last_at))
                oldest = other;
        records_.erase(oldest);
    }
    SecondaryRecord& r = it->second;
    r.zone = zone;
    r.address = address;
    r.last = last;
    r.last_at = at;
    if (held) {
        r.held_known = true;
        r.held = *held;
    }
    if (sent) {
        r.sent_known = true;
        r.sent = *sent;
    }
    ++r.requests;
}

std::vector<SecondaryRecord> Secondaries::list() const {
    std::lock_guard lock(mutex_);
    std::vector<SecondaryRecord> out;
    out.reserve(records_.size());
    for (const auto& [key, record] : records_)
        out.push_back(record);
    return out;
}

}  // namespace nolb::transfer
