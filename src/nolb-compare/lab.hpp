// The lab: everything a model needs, started for real on loopback and stopped by PID. The nodes
// (nolb-stats, node1..nodeN on 127.0.0.11.., one port), nolbd with the model's configuration
// (every node with health = "none", or HTTP checks on /health; the load balancer's name as a
// static record), HAProxy with its own checks for the load-balancer model, the faults on their
// schedule, a sampler of what nolbd publishes, and the CPU each server spends. As root, the
// scenario's sites put their nodes at a round trip from everything else (site_delay.hpp).
#pragma once

#include <event2/event.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "nolb-compare/clients.hpp"
#include "nolb-compare/record.hpp"
#include "nolb-compare/scenario.hpp"

namespace nolb::compare {

struct LabOptions {
    std::filesystem::path bin_dir;   // where nolbd and nolb-stats are
    std::filesystem::path work_dir;  // configs and logs of this scenario go here
    std::string haproxy = "/usr/sbin/haproxy";
    // Inside a network namespace of nolb-compare's own (as root): nolbd serves 127.0.0.1:53,
    // blackholes are nftables rules, and the `system` profile can resolve through nolbd.
    bool in_namespace = false;
    std::uint16_t http_port = 8080;  // the nodes' and the load balancer's port
    // nolbd's, on 127.0.0.1; with a resolver in front in a namespace, nolbd moves to
    // 127.0.0.2:53 and the resolver takes 127.0.0.1:53, the address resolv.conf names.
    std::uint16_t dns_port = 53;
    std::uint16_t resolver_port = 53;  // outside a namespace: the resolver's, on 127.0.0.1
    std::string unbound = "/usr/sbin/unbound";
    // Clients aim at kCalibrationName, whose order is fixed, instead of the service.
    bool calibration = false;
    // The namespace nolb-compare runs in, for a routed network's second one ("<name>-s").
    std::string namespace_name;
};

// The names the lab serves; nodes are "node1".."nodeN".
inline constexpr const char* kZone = "compare.test";
inline constexpr const char* kServiceName = "www.compare.test";
inline constexpr const char* kBalancerName = "lb.compare.test";
inline constexpr const char* kBalancerAddress = "127.0.0.100";
// The floating address of an active/standby pair, on the bridge between the lab and the two
// balancer machines (10.98.0.11 and .12; the lab's side is .1).
inline constexpr const char* kPairAddress = "10.98.0.100";
// The load balancer's address in `scenario`: kPairAddress for a pair, else kBalancerAddress.
const char* balancer_address(const Scenario& scenario);
// A balancer machine's own address, 0-based: "10.98.0.11" for the first.
std::string pair_machine_address(unsigned machine);
// Calibration's name: the nodes as static records, in node order for every client.
inline constexpr const char* kCalibrationName = "cal.compare.test";
std::string node_address(unsigned node);  // "127.0.0.11" for node 0, on the loopback
// The node's address in the scenario's network: on the loopback as above; routed, node 0 is
// 10.100.0.11, node 1 10.101.0.11 and so on, each a subnet of its own, but the local node,
// which is 10.99.0.(11 + node) in the clients' 10.99.0.0/24.
std::string node_address(const Scenario& scenario, unsigned node);
std::string node_site(unsigned node);  // "node1" for node 0
inline constexpr const char* kClientSubnet = "10.99.0.0/24";

class Lab {
  public:
    Lab(event_base* base, const Scenario& scenario, LabOptions options);
    ~Lab();  // stops whatever is still running
    Lab(const Lab&) = delete;
    Lab& operator=(const Lab&) = delete;

    // Starts fresh nodes, nolbd configured for `model` and, for the load-balancer model,
    // HAProxy, and returns once each one answers (nolbd: the service resolves to every node).
    // Throws std::runtime_error naming what failed, with the tail of its log.
    void start(Model model);
    // Stops every process of the running model (SIGTERM, then SIGKILL after a grace period).
    void stop();

    // What the clients aim at under the running model.
    Target target() const;

    // Applies the scenario's faults at origin + fault.at, samples nolbd's answer every 100 ms
    // (DNS models), and notes the servers' CPU at origin. Call once per model, before the loop
    // runs past origin.
    void begin(Clock::time_point origin);
    // Stops the schedule and the sampler; reads the costs over [origin, now].
    void end();

    std::vector<AppliedFault> take_faults();
    std::vector<PublishedSample> take_published();
    Costs costs() const;
    std::vector<std::string> notes() const;  // faults that could not be applied, and why

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace nolb::compare
