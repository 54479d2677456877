// The texts the lab writes for its servers, judged by the servers themselves: nolbd
// --check-config accepts the configuration of each model and HAProxy's -c accepts its own, and
// their contents carry the scenario's TTL and health settings. The CSV reader is fed HAProxy
// 2.6's real `show stat` layout.
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "nolb-compare/lab_servers.hpp"

namespace nolb::compare {
namespace {

namespace fs = std::filesystem;

struct Ran {
    int status = -1;
    std::string output;
};

Ran run(const std::string& command) {
    Ran r;
    FILE* p = ::popen((command + " 2>&1").c_str(), "r");
    if (!p) return r;
    char buffer[4096];
    while (std::size_t n = std::fread(buffer, 1, sizeof buffer, p))
        r.output.append(buffer, n);
    int status = ::pclose(p);
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

class CompareLabServers : public ::testing::Test {
  protected:
    void SetUp() override {
        char templ[] = "/tmp/nolb-lab-servers-XXXXXX";
        ASSERT_NE(::mkdtemp(templ), nullptr);
        dir_ = templ;
        scenario_.name = "servers";
        scenario_.nodes = 3;
        scenario_.ttl = 7;
        scenario_.health.interval = Seconds(0.25);
        scenario_.health.timeout = Seconds(0.2);
        scenario_.health.rise = 3;
        scenario_.health.fall = 4;
        options_.http_port = 18080;
        options_.dns_port = 15353;
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    fs::path write(const std::string& name, const std::string& text) {
        fs::path p = dir_ / name;
        std::ofstream(p) << text;
        return p;
    }

    fs::path dir_;
    Scenario scenario_;
    LabOptions options_;
};

NolbdSetup setup_for(const fs::path& dir) {
    NolbdSetup setup;
    setup.port = 15353;
    setup.http_port = 18080;
    setup.control_socket = dir / "nolbd.sock";
    return setup;
}

TEST_F(CompareLabServers, NolbdAcceptsTheConfigurationOfEachModel) {
    for (Model m : kModels) {
        const std::string text = render_nolbd_config(scenario_, m, setup_for(dir_));
        fs::path file = write(std::string(model_name(m)) + ".toml", text);
        Ran r = run(std::string(NOLBD_PATH) + " --check-config " + file.string());
        EXPECT_EQ(r.status, 0) << model_name(m) << ":\n" << r.output << "\n" << text;
        EXPECT_NE(text.find("listen = [\"127.0.0.1:15353\"]"), std::string::npos);
        EXPECT_NE(text.find("\"lb 7 A 127.0.0.100\""), std::string::npos) << text;
        EXPECT_NE(text.find("addresses = [\"127.0.0.13\"]"), std::string::npos);
        EXPECT_EQ(text.find("127.0.0.14"), std::string::npos);
        EXPECT_NE(text.find("ttl = 7"), std::string::npos);
        if (m != Model::health_checked) {
            EXPECT_NE(text.find("health = \"none\""), std::string::npos);
            EXPECT_EQ(text.find("[service.health]"), std::string::npos);
        } else {
            EXPECT_NE(text.find("interval = 0.250"), std::string::npos) << text;
            EXPECT_NE(text.find("timeout = 0.200"), std::string::npos);
            EXPECT_NE(text.find("rise = 3"), std::string::npos);
            EXPECT_NE(text.find("fall = 4"), std::string::npos);
            EXPECT_NE(text.find("port = 18080"), std::string::npos);
            EXPECT_NE(text.find("all_down = \"all\""), std::string::npos);
        }
    }
}

TEST_F(CompareLabServers, CalibrationListsTheNodesInOrderButTheDrained) {
    NolbdSetup setup = setup_for(dir_);
    setup.listen_address = "127.0.0.2";
    setup.calibration = true;
    setup.drained = {false, true, false};
    const std::string text = render_nolbd_config(scenario_, Model::zero_admin, setup);
    fs::path file = write("calibration.toml", text);
    Ran r = run(std::string(NOLBD_PATH) + " --check-config " + file.string());
    EXPECT_EQ(r.status, 0) << r.output << "\n" << text;
    EXPECT_NE(text.find("listen = [\"127.0.0.2:15353\"]"), std::string::npos) << text;
    const auto first = text.find("\"cal 7 A 127.0.0.11\"");
    const auto third = text.find("\"cal 7 A 127.0.0.13\"");
    ASSERT_NE(first, std::string::npos) << text;
    ASSERT_NE(third, std::string::npos) << text;
    EXPECT_LT(first, third) << "node order";
    EXPECT_EQ(text.find("cal 7 A 127.0.0.12"), std::string::npos) << "node2 is drained";
    EXPECT_EQ(render_nolbd_config(scenario_, Model::zero_admin, setup_for(dir_)).find("\"cal "),
              std::string::npos)
        << "only for calibration";
}

TEST_F(CompareLabServers, UnboundAcceptsItsConfiguration) {
    ResolverSpec resolver;
    resolver.kind = ResolverKind::unbound;
    resolver.cache_min_ttl = 300;
    resolver.rrset_roundrobin = false;
    resolver.serve_expired = true;
    const std::string text =
        render_unbound_config(resolver, "127.0.0.1", 15354, {"127.0.0.2"}, 15353, dir_);
    fs::path file = write("unbound.conf", text);
    Ran r = run("/usr/sbin/unbound-checkconf " + file.string());
    EXPECT_EQ(r.status, 0) << r.output << "\n" << text;
    EXPECT_NE(text.find("cache-min-ttl: 300"), std::string::npos);
    EXPECT_NE(text.find("rrset-roundrobin: no"), std::string::npos);
    EXPECT_NE(text.find("serve-expired: yes"), std::string::npos);
    EXPECT_NE(text.find("stub-addr: 127.0.0.2@15353"), std::string::npos);
    EXPECT_NE(text.find("port: 15354"), std::string::npos);
}

TEST_F(CompareLabServers, HaproxyAcceptsItsConfiguration) {
    const std::string text = render_haproxy_config(scenario_, options_, dir_ / "haproxy.sock");
    fs::path file = write("haproxy.cfg", text);
    Ran r = run("/usr/sbin/haproxy -c -f " + file.string());
    EXPECT_EQ(r.status, 0) << r.output << "\n" << text;
    EXPECT_NE(text.find("bind 127.0.0.100:18080"), std::string::npos);
    // nolbd's schedule: fast_interval unset is a fifth of interval, written out for both.
    EXPECT_NE(text.find("default-server inter 250ms fastinter 50ms downinter 250ms fall 4 rise 3"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("timeout check 200ms"), std::string::npos);
    EXPECT_NE(text.find("retry-on conn-failure empty-response response-timeout"),
              std::string::npos);
    EXPECT_NE(text.find("option redispatch 1"), std::string::npos);
    EXPECT_NE(text.find("timeout connect 1s"), std::string::npos);
    EXPECT_NE(text.find("option http-keep-alive"), std::string::npos);
    EXPECT_NE(text.find("server node3 127.0.0.13:18080 check"), std::string::npos);
    EXPECT_EQ(text.find("node4"), std::string::npos);
}

TEST_F(CompareLabServers, BothCheckersGetTheSameFastInterval) {
    scenario_.health.fast_interval = Seconds(0.12);
    const std::string nolbd =
        render_nolbd_config(scenario_, Model::health_checked, setup_for(dir_));
    EXPECT_NE(nolbd.find("fast_interval = 0.120"), std::string::npos) << nolbd;
    fs::path file = write("nolbd.toml", nolbd);
    Ran checked = run(std::string(NOLBD_PATH) + " --check-config " + file.string());
    EXPECT_EQ(checked.status, 0) << checked.output << "\n" << nolbd;
    const std::string haproxy = render_haproxy_config(scenario_, options_, dir_ / "haproxy.sock");
    EXPECT_NE(haproxy.find("fastinter 120ms"), std::string::npos) << haproxy;
}

TEST_F(CompareLabServers, HaproxyClosesEveryConnectionWithoutKeepAlive) {
    scenario_.balancer.keep_alive = false;
    const std::string text = render_haproxy_config(scenario_, options_, dir_ / "haproxy.sock");
    fs::path file = write("haproxy.cfg", text);
    Ran r = run("/usr/sbin/haproxy -c -f " + file.string());
    EXPECT_EQ(r.status, 0) << r.output << "\n" << text;
    EXPECT_NE(text.find("option httpclose"), std::string::npos);
    EXPECT_EQ(text.find("http-keep-alive"), std::string::npos);
}

TEST_F(CompareLabServers, TwoNameServersInTheZoneAndInTheStubZone) {
    NolbdSetup setup = setup_for(dir_);
    setup.listen_address = "127.0.0.4";
    setup.name_servers = {"127.0.0.2", "127.0.0.4"};
    const std::string nolbd = render_nolbd_config(scenario_, Model::zero_admin, setup);
    EXPECT_NE(nolbd.find("name = \"ns1.compare.test.\"\naddresses = [\"127.0.0.2\"]"),
              std::string::npos)
        << nolbd;
    EXPECT_NE(nolbd.find("name = \"ns2.compare.test.\"\naddresses = [\"127.0.0.4\"]"),
              std::string::npos)
        << nolbd;
    fs::path file = write("nolbd.toml", nolbd);
    Ran checked = run(std::string(NOLBD_PATH) + " --check-config " + file.string());
    EXPECT_EQ(checked.status, 0) << checked.output << "\n" << nolbd;

    ResolverSpec resolver;
    resolver.kind = ResolverKind::unbound;
    const std::string unbound = render_unbound_config(resolver, "127.0.0.1", 15354,
                                                      {"127.0.0.2", "127.0.0.4"}, 15353, dir_);
    EXPECT_NE(unbound.find("stub-addr: 127.0.0.2@15353\n    stub-addr: 127.0.0.4@15353\n"),
              std::string::npos)
        << unbound;
    Ran r = run("/usr/sbin/unbound-checkconf " + write("unbound.conf", unbound).string());
    EXPECT_EQ(r.status, 0) << r.output << "\n" << unbound;
}

TEST_F(CompareLabServers, ServingIsUpOrFailingShortOfFall) {
    HaproxyStat stat;
    stat.servers = {{"node1", "UP"},       {"node2", "DOWN"},  {"node3", "UP 1/2"},
                    {"node4", "DOWN 1/2"}, {"node5", "MAINT"}, {"other", "UP"}};
    EXPECT_EQ(haproxy_serving(stat, 5), (std::vector<std::uint16_t>{0, 2}));
    EXPECT_EQ(haproxy_serving(stat, 1), (std::vector<std::uint16_t>{0}));
}

TEST_F(CompareLabServers, APairBindsTheFloatingAddressAndReachesTheNodesInTheLab) {
    scenario_.balancer.pair = true;
    options_.namespace_name = "nolbcmp-test";
    const std::string text = render_haproxy_config(scenario_, options_, dir_ / "haproxy.sock");
    EXPECT_NE(text.find(std::string("bind ") + kPairAddress + ":18080"), std::string::npos) << text;
    EXPECT_NE(text.find("server node1 127.0.0.11:18080 check namespace nolbcmp-test\n"),
              std::string::npos)
        << text;
    // The name the DNS gives for the balancer is the floating address.
    const std::string nolbd = render_nolbd_config(scenario_, Model::load_balancer, setup_for(dir_));
    EXPECT_NE(nolbd.find(std::string("\"lb 7 A ") + kPairAddress + "\""), std::string::npos)
        << nolbd;
}

TEST_F(CompareLabServers, KeepalivedAcceptsBothMachinesConfigurations) {
    for (unsigned machine : {0u, 1u}) {
        const std::string text = render_keepalived_config(machine);
        fs::path file = write("keepalived" + std::to_string(machine) + ".conf", text);
        Ran r = run("/usr/sbin/keepalived --config-test -f " + file.string());
        EXPECT_EQ(r.status, 0) << r.output << "\n" << text;
        EXPECT_NE(text.find("vrrp_version 3"), std::string::npos);
        EXPECT_NE(text.find("advert_int 0.10"), std::string::npos);
        EXPECT_NE(text.find("nopreempt"), std::string::npos);
        EXPECT_NE(text.find("unicast_src_ip " + pair_machine_address(machine)), std::string::npos);
        EXPECT_NE(text.find(pair_machine_address(1 - machine) + "\n    }"), std::string::npos)
            << "the peer";
        EXPECT_NE(text.find(std::string(kPairAddress) + "/24 dev eth0"), std::string::npos);
    }
    // lb1 has the higher priority: it takes the address when both start.
    EXPECT_NE(render_keepalived_config(0).find("priority 150"), std::string::npos);
    EXPECT_NE(render_keepalived_config(1).find("priority 100"), std::string::npos);
}

TEST_F(CompareLabServers, ReadsServerStatesAndTheBackendsRequests) {
    const std::string csv =
        "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,"
        "wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,"
        "throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,"
        "check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,"
        "req_rate,req_rate_max,req_tot,\n"
        "www,FRONTEND,,,0,1,4096,2,178,752,0,0,0,,,,,OPEN,,,,,,,,,1,2,0,,,,0,2,0,2,,,,0,2,0,0,0,"
        "0,,2,2,31,\n"
        "nodes,node1,0,0,0,1,,2,178,752,,0,,0,0,0,0,UP,1,1,0,0,0,1,0,,1,3,1,,2,,2,2,,2,L7OK,200,"
        "1,0,2,0,0,0,0,,,,2,\n"
        "nodes,node2,0,0,0,0,,0,0,0,,0,,0,0,0,0,DOWN,1,1,0,1,1,1,1,,1,3,2,,0,,2,0,,0,L4CON,,0,0,"
        "0,0,0,0,0,,,,0,\n"
        "nodes,BACKEND,0,0,0,1,410,2,178,752,0,0,,0,0,0,0,UP,1,1,0,,0,1,0,,1,3,0,,2,,1,2,,2,,,,0,"
        "2,0,0,0,0,,,,29,\n\n";
    auto stat = parse_haproxy_stat(csv, "nodes");
    ASSERT_TRUE(stat);
    ASSERT_EQ(stat->servers.size(), 2u);
    EXPECT_EQ(stat->servers[0], (std::pair<std::string, std::string>{"node1", "UP"}));
    EXPECT_EQ(stat->servers[1], (std::pair<std::string, std::string>{"node2", "DOWN"}));
    ASSERT_TRUE(stat->requests);
    EXPECT_EQ(*stat->requests, 29u);

    EXPECT_FALSE(parse_haproxy_stat("Unknown command\n", "nodes"));
    auto other = parse_haproxy_stat(csv, "elsewhere");
    ASSERT_TRUE(other);
    EXPECT_TRUE(other->servers.empty());
    EXPECT_FALSE(other->requests);
}

TEST_F(CompareLabServers, NftScriptsNameTheTableAndTheAddress) {
    EXPECT_NE(nft_create_table().find("ip daddr @blackholed drop"), std::string::npos);
    EXPECT_NE(nft_create_table().find("hook input"), std::string::npos);
    EXPECT_EQ(nft_blackhole("127.0.0.12", true),
              "add element inet nolbcompare blackholed { 127.0.0.12 }\n");
    EXPECT_EQ(nft_blackhole("127.0.0.12", false),
              "delete element inet nolbcompare blackholed { 127.0.0.12 }\n");
    EXPECT_EQ(nft_delete_table(), "delete table inet nolbcompare\n");
}

TEST_F(CompareLabServers, SiteRulesSendEachFarNodesPacketsToItsSitesQueue) {
    Scenario s;
    s.nodes = 4;
    s.sites = {{"near", Seconds(0), {0}}, {"far", Seconds(0.03), {3, 2}}};
    EXPECT_EQ(site_queue(0), 100);
    EXPECT_EQ(site_queue(1), 101);
    // The near site has no round trip: no rules. Both directions of each far node, on OUTPUT.
    EXPECT_EQ(site_rules(s),
              "*mangle\n"
              ":nolb-sites - [0:0]\n"
              "-A OUTPUT -j nolb-sites\n"
              "-A nolb-sites -d 127.0.0.14/32 -j NFQUEUE --queue-num 101 --queue-bypass\n"
              "-A nolb-sites -s 127.0.0.14/32 -j NFQUEUE --queue-num 101 --queue-bypass\n"
              "-A nolb-sites -d 127.0.0.13/32 -j NFQUEUE --queue-num 101 --queue-bypass\n"
              "-A nolb-sites -s 127.0.0.13/32 -j NFQUEUE --queue-num 101 --queue-bypass\n"
              "COMMIT\n");
    EXPECT_EQ(site_rules_removal(s),
              "*mangle\n-D OUTPUT -j nolb-sites\n-F nolb-sites\n-X nolb-sites\nCOMMIT\n");

    // Routed: the far nodes' own addresses, and their answers caught as they come in.
    s.network = Network::routed;
    const std::string routed = site_rules(s);
    EXPECT_NE(routed.find("-A PREROUTING ! -i lo -j nolb-sites\n"), std::string::npos);
    EXPECT_NE(routed.find("-A nolb-sites -s 10.103.0.11/32 -j NFQUEUE --queue-num 101"),
              std::string::npos);
    EXPECT_NE(site_rules_removal(s).find("-D PREROUTING ! -i lo -j nolb-sites\n"),
              std::string::npos);
}

}  // namespace
}  // namespace nolb::compare
