// Mean and Student-t interval over repetitions. The quantiles are tabulated to df = 30 and
// interpolated in 1/df beyond it (exact to 3 decimals), which is all a table of results needs.
#include "nolb-compare/aggregate.hpp"

#include <array>
#include <cmath>
#include <functional>

namespace nolb::compare {

double t975(unsigned df) {
    static constexpr std::array<double, 30> kTable = {
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
        2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
        2.080,  2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
    if (df == 0) return 0;
    if (df <= kTable.size()) return kTable[df - 1];
    // Between df = 30 (2.042) and infinity (1.960), linear in 1/df.
    return 1.960 + (2.042 - 1.960) * 30.0 / static_cast<double>(df);
}

Estimate estimate(std::span<const double> values) {
    Estimate e;
    e.n = static_cast<unsigned>(values.size());
    if (e.n == 0) return e;
    double sum = 0;
    for (double v : values)
        sum += v;
    e.mean = sum / e.n;
    if (e.n < 2) return e;
    double squares = 0;
    for (double v : values)
        squares += (v - e.mean) * (v - e.mean);
    const double sd = std::sqrt(squares / (e.n - 1));
    e.half = t975(e.n - 1) * sd / std::sqrt(static_cast<double>(e.n));
    return e;
}

std::vector<Aggregate> aggregate(std::span<const Summary> summaries) {
    std::vector<Aggregate> out;
    std::vector<std::vector<const Summary*>> groups;
    for (const Summary& s : summaries) {
        std::size_t i = 0;
        while (i < out.size() &&
               !(out[i].model == s.model && out[i].profile == s.profile && out[i].real == s.real))
            ++i;
        if (i == out.size()) {
            Aggregate a;
            a.model = s.model;
            a.profile = s.profile;
            a.real = s.real;
            out.push_back(a);
            groups.emplace_back();
        }
        groups[i].push_back(&s);
    }
    for (std::size_t i = 0; i < out.size(); ++i) {
        Aggregate& a = out[i];
        const std::vector<const Summary*>& runs = groups[i];
        a.runs = static_cast<unsigned>(runs.size());
        // A figure over the runs; `of` returns nullopt for a run that has none.
        auto over = [&](const std::function<std::optional<double>(const Summary&)>& of) {
            std::vector<double> values;
            for (const Summary* s : runs)
                if (auto v = of(*s)) values.push_back(*v);
            return estimate(values);
        };
        auto pct = [](std::uint64_t part, std::uint64_t whole) {
            return whole == 0 ? 100.0
                              : 100.0 * static_cast<double>(part) / static_cast<double>(whole);
        };
        a.clients = over([](const Summary& s) { return double(s.clients); });
        a.requests = over([](const Summary& s) { return static_cast<double>(s.requests); });
        a.attempted_pct = over([&](const Summary& s) { return pct(s.attempted, s.requests); });
        a.success_pct = over([](const Summary& s) { return s.success_pct; });
        a.late_pct = over([&](const Summary& s) { return pct(s.late, s.requests); });
        a.p50_ms = over([](const Summary& s) -> std::optional<double> {
            return s.ok ? std::optional(s.p50_ms) : std::nullopt;
        });
        a.p99_ms = over([](const Summary& s) -> std::optional<double> {
            return s.ok ? std::optional(s.p99_ms) : std::nullopt;
        });
        a.longest_outage_s = over([](const Summary& s) { return s.longest_outage_ms / 1000.0; });
        a.client_seconds_down = over([](const Summary& s) { return s.client_seconds_down; });
        a.recover_p50_s = over([](const Summary& s) { return s.recover_p50_s; });
        a.recover_p90_s = over([](const Summary& s) { return s.recover_p90_s; });
        a.recover_p99_s = over([](const Summary& s) { return s.recover_p99_s; });
        a.affected_clients = over([](const Summary& s) -> std::optional<double> {
            return s.recover_p50_s ? std::optional(double(s.affected_clients)) : std::nullopt;
        });
        a.avoid_after_s = over([](const Summary& s) -> std::optional<double> {
            return s.avoid ? s.avoid->after_s : std::nullopt;
        });
        a.lookups = over([](const Summary& s) { return static_cast<double>(s.lookups); });
    }
    return out;
}

}  // namespace nolb::compare
