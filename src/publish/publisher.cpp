// Planning, change detection and publishing. A publish plans again only the marked services
// (health::replan), compares their new rows of availability with the rows last rendered,
// remembers when addresses left the answers, and hands the compiler the rows that changed.
#include "publish/publisher.hpp"

#include <algorithm>
#include <cstdio>
#include <iterator>

#include "health/each_address.hpp"
#include "util/log.hpp"

namespace nolb::publish {
namespace {

double milliseconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
        .count();
}

std::string milliseconds_text(double ms) {
    char text[32];
    std::snprintf(text, sizeof text, "%.3f", ms);
    return text;
}

std::string address_key(const health::AddressState& s) {
    return s.service_name + "/" + s.node_name + "/" + s.published.to_string();
}

}  // namespace

Publisher::Publisher()
    : published_(nullptr), transfers_(std::make_shared<const transfer::State>()) {}

Publisher::~Publisher() = default;

void Publisher::adopt(const config::Config& config, std::shared_ptr<const zone::Model> model) {
    // A zone kept across a reload keeps its journal: the next publish records the change the
    // reload made (a serial that no longer follows on starts the journal again).
    std::vector<transfer::Journal> journals;
    std::vector<std::deque<std::pair<std::uint32_t, double>>> serial_times(config.zones.size());
    const std::shared_ptr<const zone::Snapshot> before = published_.get();
    for (const config::Zone& z : config.zones) {
        journals.emplace_back(z.transfer.journal_changes, z.transfer.journal_bytes);
        if (!before) continue;
        for (std::size_t old = 0; old < before->zones.size() && old < journals_.size(); ++old) {
            if (before->zones[old].origin_text != z.origin) continue;
            journals.back().adopt(journals_[old]);
            if (old < serial_times_.size())
                serial_times[journals.size() - 1] = std::move(serial_times_[old]);
        }
    }
    journals_ = std::move(journals);
    serial_times_ = std::move(serial_times);
    access_ = std::make_shared<const transfer::Access>(config);
    config_ = &config;
    compiler_ = std::make_unique<zone::Compiler>(std::move(model));
    service_index_.clear();
    for (std::size_t si = 0; si < config.services.size(); ++si)
        service_index_.emplace(config.services[si].name, si);
    replan_all_ = true;
}

void Publisher::mark(const std::string& service_name) {
    auto service = service_index_.find(service_name);
    if (service != service_index_.end())
        dirty_.push_back(service->second);
    else
        replan_all_ = true;
}

void Publisher::set_drains(health::Drains drains) {
    std::vector<health::DrainKey> changed;
    std::set_symmetric_difference(drains.keys.begin(), drains.keys.end(), drains_.keys.begin(),
                                  drains_.keys.end(), std::back_inserter(changed));
    drains_ = std::move(drains);
    if (!config_) return;  // adopt() plans everything anyway
    const auto& services = config_->services;
    for (const health::DrainKey& key : changed) {
        if (key.service) {
            auto it = service_index_.find(*key.service);
            if (it != service_index_.end()) dirty_.push_back(it->second);
            continue;
        }
        for (std::size_t si = 0; si < services.size(); ++si)
            for (const config::Node& node : services[si].nodes)
                if (node.name == key.node) dirty_.push_back(si);
    }
}

std::vector<std::size_t> Publisher::replan(const std::vector<health::AddressState>& states,
                                           bool force) {
    std::vector<std::size_t> planned;
    if (force || replan_all_) {
        health::plan(*config_, states, drains_, plan_);
        planned.resize(plan_.size());
        for (std::size_t si = 0; si < planned.size(); ++si)
            planned[si] = si;
    } else {
        std::sort(dirty_.begin(), dirty_.end());
        dirty_.erase(std::unique(dirty_.begin(), dirty_.end()), dirty_.end());
        planned.swap(dirty_);
        health::replan(*config_, states, drains_, planned, plan_);
    }
    dirty_.clear();
    replan_all_ = false;
    return planned;
}

// The planned services whose row differs from the one last rendered; the rows are updated,
// and the addresses that left the answers noted.
std::vector<std::size_t> Publisher::take_changes(const std::vector<health::AddressState>& states,
                                                 const std::vector<std::size_t>& planned,
                                                 health::Clock::time_point now) {
    std::vector<std::size_t> changed;
    available_.resize(plan_.size());
    for (std::size_t si : planned) {
        const health::ServicePlan& p = plan_[si];
        std::vector<bool>& row = available_[si];
        bool differs = row.size() != p.addresses.size();
        row.resize(p.addresses.size());
        health::for_each_address(config_->services[si], si, p.first, states, &p,
                                 [&](const health::AddressVisit& a) {
                                     const bool is = a.plan && a.plan->published;
                                     if (row[a.row] == is) return;
                                     differs = true;
                                     if (row[a.row] && a.state)
                                         left_at_[address_key(*a.state)] = now;
                                     row[a.row] = is;
                                 });
        if (differs) changed.push_back(si);
    }
    return changed;
}

bool Publisher::publish(const std::vector<health::AddressState>& states, const char* why,
                        bool force, health::Clock::time_point now) {
    const auto started = std::chrono::steady_clock::now();
    const std::vector<std::size_t> planned = replan(states, force);
    const std::vector<std::size_t> changed = take_changes(states, planned, now);
    if (!force && changed.empty()) return false;
    serials_ = zone::next_serials(compiler_->model(), serials_);
    std::shared_ptr<const zone::Snapshot> before = published_.get();
    std::shared_ptr<const zone::Snapshot> after = compiler_->render(available_, serials_, changed);
    record_changes(before.get(), *after);
    published_.publish(std::move(after));
    ++generation_;
    record(why, force, milliseconds_since(started));
    return true;
}

void Publisher::record_changes(const zone::Snapshot* before, const zone::Snapshot& after) {
    auto state = std::make_shared<transfer::State>();
    state->access = access_;
    for (std::size_t zi = 0; zi < after.zones.size() && zi < journals_.size(); ++zi) {
        const zone::Zone& now = after.zones[zi];
        // A zone nobody may transfer needs no differences worked out.
        if (before == nullptr || !now.image || !config_->zones[zi].transfer.enabled()) continue;
        for (const zone::Zone& then : before->zones)
            if (then.origin_text == now.origin_text && then.image)
                journals_[zi].record(*then.image, *now.image);
    }
    state->journals = journals_;
    transfers_.publish(std::move(state));

    const double now =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    for (std::size_t zi = 0; zi < after.zones.size() && zi < serial_times_.size(); ++zi) {
        auto& times = serial_times_[zi];
        if (!times.empty() && times.back().first == after.zones[zi].serial) continue;
        times.emplace_back(after.zones[zi].serial, now);
        if (times.size() > 1024) times.pop_front();
    }
}

std::optional<double> Publisher::newer_since(std::size_t zone, std::uint32_t serial) const {
    if (zone >= serial_times_.size() || serial_times_[zone].empty()) return std::nullopt;
    const auto& times = serial_times_[zone];
    for (std::size_t i = 0; i + 1 < times.size(); ++i)
        if (times[i].first == serial) return times[i + 1].second;
    // Older than every serial remembered: behind at least since the oldest.
    if (static_cast<std::int32_t>(serial - times.front().first) < 0) return times.front().second;
    return std::nullopt;
}

void Publisher::record(const char* why, bool force, double ms) {
    const zone::Compiler::Work& work = compiler_->last_work();
    if (work.full) {
        times_.full_ms = ms;
    } else if (!force) {
        times_.last_ms = ms;
        times_.max_ms = std::max(times_.max_ms, ms);
        ++times_.changes;
    }
    log::info("published", {{"generation", generation_}, {"why", why}});
    log::debug("publish work", {{"generation", generation_},
                                {"ms", milliseconds_text(ms)},
                                {"whole", work.full ? "yes" : "no"},
                                {"services", work.services},
                                {"names", work.nodes},
                                {"referrals", work.referrals},
                                {"packed", work.packed ? "yes" : "no"}});
}

std::optional<health::Clock::time_point> Publisher::left_at(
    const health::AddressState& state) const {
    auto it = left_at_.find(address_key(state));
    if (it == left_at_.end()) return std::nullopt;
    return it->second;
}

}  // namespace nolb::publish
