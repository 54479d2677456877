// What the lab writes for its servers and reads back from them, as text in and text out: nolbd's
// configuration for a model, HAProxy's configuration with the same health-check settings, the
// nftables rules of a blackhole, the iptables rules of the sites, and HAProxy's `show stat` CSV.
// Kept apart from the processes so each format is checked by a test without starting anything.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nolb-compare/lab.hpp"
#include "nolb-compare/scenario.hpp"

namespace nolb::compare {

inline constexpr const char* kBackendName = "nodes";  // HAProxy's backend of the nodes

// Where nolbd serves, and what it publishes beside the service.
struct NolbdSetup {
    std::string listen_address = "127.0.0.1";
    std::uint16_t port = 53;
    std::uint16_t http_port = 8080;  // the nodes' port, for the health checks
    std::filesystem::path control_socket;
    // The zone's name servers, ns1, ns2, ... (this one among them); empty: listen_address.
    std::vector<std::string> name_servers;
    // Calibration: kCalibrationName lists every node not drained, in node order, as static
    // records: the same order for every client, where a service's is drawn per response.
    bool calibration = false;
    std::vector<bool> drained;  // by node; only for the calibration name
};

// nolbd.toml for `model`: the zone, the service with one node per scenario node (HTTP checks
// on /health for health-checked, health "none" otherwise), the balancer's name as a static A
// record, and the calibration name when asked.
std::string render_nolbd_config(const Scenario& scenario, Model model, const NolbdSetup& setup);

// unbound.conf for the resolver tier: listening on address:port, a stub zone for the lab's zone
// pointing at every nolbd (each on nolbd_port), the scenario's cache settings, everything else
// in `dir`.
std::string render_unbound_config(const ResolverSpec& resolver, const std::string& address,
                                  std::uint16_t port,
                                  const std::vector<std::string>& nolbd_addresses,
                                  std::uint16_t nolbd_port, const std::filesystem::path& dir);

// haproxy.cfg: one frontend on the balancer's address, round robin over the nodes, checks of
// /health with the scenario's interval, timeout, rise and fall.
// With [balancer] pair it binds the floating address instead, which it may not hold yet (the
// machine allows a non-local bind), and reaches the nodes in `options.namespace_name`.
std::string render_haproxy_config(const Scenario& scenario, const LabOptions& options,
                                  const std::filesystem::path& stats_socket);

// keepalived.conf for balancer machine `machine` (0 or 1) of a pair: one VRRP instance on its
// interface `eth0`, VRRPv3 with a fractional advert interval, unicast to the other machine (no
// multicast needed on the bridge), both starting as BACKUP with nopreempt so that a machine that
// comes back stays standby, the first with the higher priority; the floating address.
inline constexpr double kVrrpAdvertSeconds = 0.1;
std::string render_keepalived_config(unsigned machine);

struct HaproxyStat {
    std::vector<std::pair<std::string, std::string>> servers;  // name, status ("UP", "DOWN")
    std::optional<std::uint64_t> requests;  // the backend's req_tot (stot when absent)
};
// Reads `show stat` output (CSV with a "# pxname,..." header) for the backend `backend`;
// nullopt when the text has no such header.
std::optional<HaproxyStat> parse_haproxy_stat(std::string_view csv, std::string_view backend);
// The nodes (0-based, sorted) HAProxy sends requests to: its servers named node1..nodeN whose
// status is UP, or "UP 1/2" (failing checks, short of fall: still in rotation).
std::vector<std::uint16_t> haproxy_serving(const HaproxyStat& stat, unsigned nodes);

// nftables scripts for `nft -f -`. The table is created from scratch (a leftover of an earlier
// run is deleted first): a set of blackholed IPv4 addresses and an input chain dropping every
// packet sent to one of them, so a connect to such an address times out as it would to a
// machine that vanished.
inline constexpr const char* kNftTable = "nolbcompare";
std::string nft_create_table();
std::string nft_delete_table();
std::string nft_blackhole(const std::string& address, bool add);

// iptables-restore scripts (for --noflush) that send the packets of the sites' nodes to the
// sites' queues (site_delay.hpp). A chain of the lab's own in the mangle table, jumped to from
// OUTPUT, which every packet a process sends passes, loopback ones included: on the loopback both
// directions of an exchange with a node pass there. Routed, the nodes' answers come in over the
// link and are caught in PREROUTING instead. A node's packets go to its site's queue, with
// --queue-bypass so that they pass when nothing reads it. Sites with no round trip get no rules.
// The lab's namespace is fresh, so nothing is left to replace; the removal undoes the creation.
inline constexpr const char* kSiteChain = "nolb-sites";
inline constexpr std::uint16_t kSiteQueueBase = 100;
std::uint16_t site_queue(std::size_t site);  // the NFQUEUE number of scenario.sites[site]
std::string site_rules(const Scenario& scenario);
std::string site_rules_removal(const Scenario& scenario);

}  // namespace nolb::compare
