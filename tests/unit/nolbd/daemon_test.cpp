// The daemon built from a real configuration file in a temp dir (127.0.0.1, a free port, the
// control socket and the state file beside it, no switch of user): its Backend verbs over the
// loaded state, drains kept in the state file and read back by the next daemon, reloads that
// keep the running configuration when the file is bad, and serve() end to end: the control
// socket, DNS answers that follow drains, SIGHUP reloading and SIGTERM stopping the loop.
#include "nolbd/daemon.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "health/drains.hpp"
#include "unit/control/control_fixture.hpp"
#include "unit/support.hpp"

namespace nolb::nolbd {
namespace {

using namespace std::chrono_literals;
using control::testing::LineClient;
using control::testing::TempDir;

// A port that was free on 127.0.0.1 for both UDP and TCP a moment ago.
std::uint16_t free_port() {
    for (int attempt = 0; attempt < 20; ++attempt) {
        int udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t size = sizeof address;
        if (bind(udp, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
            getsockname(udp, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
            close(udp);
            continue;
        }
        int tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const bool both = bind(tcp, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
        close(tcp);
        close(udp);
        if (both) return ntohs(address.sin_port);
    }
    throw std::runtime_error("no free port on 127.0.0.1");
}

struct NodeSpec {
    std::string name, address;
};

class DaemonTest : public ::testing::Test {
  protected:
    void SetUp() override {
        port = free_port();
        options.config_path = dir / "nolb.toml";
        write_config({{"london", "127.0.0.2"}, {"geneva", "127.0.0.3"}});
    }

    // One zone and one unchecked service; `ttl` is written as given, so a test can break it.
    std::string config_text(const std::vector<NodeSpec>& nodes, const std::string& ttl = "20",
                            const std::string& state_file = "") const {
        std::string text = "[server]\nlisten = [\"127.0.0.1:" + std::to_string(port) +
                           "\"]\nworkers = 1\n\n"
                           "[[zone]]\norigin = \"demo.test.\"\nttl = 300\n\n"
                           "[[zone.ns]]\nname = \"ns1\"\naddresses = [\"127.0.0.1\"]\n\n"
                           "[[service]]\nname = \"www.demo.test.\"\nttl = " +
                           ttl + "\nhealth = \"none\"\n";
        for (const NodeSpec& node : nodes)
            text += "\n[[service.node]]\nname = \"" + node.name + "\"\naddresses = [\"" +
                    node.address + "\"]\n";
        text += "\n[control]\nsocket = \"" + socket_path() + "\"\nstate_file = \"" +
                (state_file.empty() ? state_path() : state_file) + "\"\n";
        return text;
    }
    void write_config(const std::vector<NodeSpec>& nodes, const std::string& ttl = "20",
                      const std::string& state_file = "") const {
        std::ofstream(options.config_path) << config_text(nodes, ttl, state_file);
    }

    std::string socket_path() const { return dir / "run/nolbd.sock"; }
    std::string state_path() const { return dir / "state.json"; }

    static std::vector<std::string> node_names(const control::Status& status) {
        std::vector<std::string> names;
        for (const auto& service : status.services)
            for (const auto& node : service.nodes)
                names.push_back(node.name + (node.drained ? " (drained)" : ""));
        return names;
    }

    TempDir dir;
    std::uint16_t port = 0;
    Options options;
};

TEST_F(DaemonTest, ServesTheVerbsOverTheLoadedConfiguration) {
    Daemon daemon(options, load(options.config_path));
    const control::Status status = daemon.status(std::nullopt);
    ASSERT_EQ(status.services.size(), 1u);
    EXPECT_EQ(status.services[0].name, "www.demo.test.");
    EXPECT_EQ(status.services[0].ttl, 20u);
    EXPECT_EQ(status.services[0].health, "none");
    EXPECT_EQ(node_names(status), (std::vector<std::string>{"london", "geneva"}));
    EXPECT_EQ(daemon.status("www.demo.test.").services, status.services);
    ASSERT_EQ(status.zones.size(), 1u);
    EXPECT_TRUE(status.zones[0].secondaries.empty());
    EXPECT_THROW(daemon.status("ftp.demo.test."), std::invalid_argument);

    const control::Explain explain = daemon.explain("www.demo.test.", "A");
    EXPECT_EQ(explain.service, "www.demo.test.");
    EXPECT_EQ(explain.ttl, 20u);
    EXPECT_THROW(daemon.explain("www.demo.test.", "NOSUCHTYPE"), std::invalid_argument);

    const control::Check check = daemon.check();
    ASSERT_EQ(check.services.size(), 1u);
    EXPECT_EQ(check.services[0].total, 2u);
    EXPECT_GE(daemon.stats().generation, 1u);  // the startup snapshot exists
}

TEST_F(DaemonTest, DrainsAreSavedAndReadBackByTheNextDaemon) {
    {
        Daemon daemon(options, load(options.config_path));
        const control::DrainResult drained = daemon.drain("london", true);
        EXPECT_TRUE(drained.drained);
        EXPECT_TRUE(drained.persisted);
        EXPECT_EQ(drained.matched,
                  (std::vector<control::DrainMatch>{{"www.demo.test.", "london"}}));
        EXPECT_TRUE(health::read_drains(state_path()).drained("www.demo.test.", "london"));
        EXPECT_EQ(node_names(daemon.status(std::nullopt)),
                  (std::vector<std::string>{"london (drained)", "geneva"}));
        for (const auto& address : daemon.explain("www.demo.test.", "A").addresses)
            EXPECT_EQ(address.included, address.node != "london") << address.node;
        EXPECT_THROW(daemon.drain("paris", true), std::invalid_argument);
    }
    {
        Daemon next(options, load(options.config_path));
        EXPECT_EQ(node_names(next.status(std::nullopt)),
                  (std::vector<std::string>{"london (drained)", "geneva"}));
        const control::DrainResult undrained = next.drain("london", false);
        EXPECT_FALSE(undrained.drained);
        EXPECT_TRUE(undrained.persisted);
        EXPECT_FALSE(health::read_drains(state_path()).drained("www.demo.test.", "london"));
    }
    Daemon third(options, load(options.config_path));
    EXPECT_EQ(node_names(third.status(std::nullopt)),
              (std::vector<std::string>{"london", "geneva"}));
}

TEST_F(DaemonTest, ADrainThatCannotBeSavedStillAppliesAndSaysSo) {
    write_config({{"london", "127.0.0.2"}, {"geneva", "127.0.0.3"}}, "20",
                 dir / "no-such-folder/state.json");
    Daemon daemon(options, load(options.config_path));
    const control::DrainResult drained = daemon.drain("geneva", true);
    EXPECT_FALSE(drained.persisted);
    EXPECT_EQ(node_names(daemon.status(std::nullopt)),
              (std::vector<std::string>{"london", "geneva (drained)"}));
}

TEST_F(DaemonTest, ABadFileKeepsTheRunningConfiguration) {
    Daemon daemon(options, load(options.config_path));
    daemon.drain("london", true);

    const std::string bad = config_text({{"london", "127.0.0.2"}}, "-5");
    std::ofstream(options.config_path) << bad;
    const auto line = 1 + std::count(bad.begin(), bad.begin() + bad.find("ttl = -5"), '\n');
    const control::ReloadResult rejected = daemon.reload();
    EXPECT_FALSE(rejected.reloaded);
    ASSERT_FALSE(rejected.problems.empty());
    const std::string where = options.config_path + ":" + std::to_string(line) + ":";
    EXPECT_EQ(rejected.problems[0].rfind(where, 0), 0u) << rejected.problems[0];
    EXPECT_NE(rejected.problems[0].find("ttl"), std::string::npos) << rejected.problems[0];
    EXPECT_EQ(node_names(daemon.status(std::nullopt)),
              (std::vector<std::string>{"london (drained)", "geneva"}));

    std::filesystem::remove(options.config_path);
    const control::ReloadResult missing = daemon.reload();
    EXPECT_FALSE(missing.reloaded);
    ASSERT_FALSE(missing.problems.empty());
    EXPECT_NE(missing.problems[0].find(options.config_path), std::string::npos)
        << missing.problems[0];

    // A good file is taken, and the drain outlives the reload.
    const auto generation = daemon.stats().generation;
    write_config({{"london", "127.0.0.2"}, {"geneva", "127.0.0.3"}, {"paris", "127.0.0.4"}});
    const control::ReloadResult accepted = daemon.reload();
    EXPECT_TRUE(accepted.reloaded);
    EXPECT_TRUE(accepted.problems.empty());
    EXPECT_EQ(node_names(daemon.status(std::nullopt)),
              (std::vector<std::string>{"london (drained)", "geneva", "paris"}));
    EXPECT_GT(daemon.stats().generation, generation);
}

// The addresses of www.demo.test. A that nolbd answers on 127.0.0.1:port over UDP; empty when
// no answer came within a second.
std::vector<std::string> ask_a(std::uint16_t port) {
    const std::vector<std::uint8_t> query = test::make_query("www.demo.test.", LDNS_RR_TYPE_A);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    std::vector<std::string> addresses;
    if (sendto(fd, query.data(), query.size(), 0, reinterpret_cast<sockaddr*>(&address),
               sizeof address) == static_cast<ssize_t>(query.size())) {
        pollfd p{fd, POLLIN, 0};
        std::uint8_t buffer[4096];
        ssize_t n = poll(&p, 1, 1000) == 1 ? recv(fd, buffer, sizeof buffer, 0) : -1;
        ldns_pkt* raw = nullptr;
        if (n > 0 && ldns_wire2pkt(&raw, buffer, static_cast<std::size_t>(n)) == LDNS_STATUS_OK) {
            test::Pkt pkt(raw);
            for (const std::string& rr : test::rr_strings(ldns_pkt_answer(pkt.get())))
                addresses.push_back(rr.substr(rr.rfind('\t') + 1));
            std::sort(addresses.begin(), addresses.end());
        }
    }
    close(fd);
    return addresses;
}

template <typename F>
bool eventually(F condition, std::chrono::milliseconds limit = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (condition()) return true;
        std::this_thread::sleep_for(20ms);
    }
    return false;
}

TEST_F(DaemonTest, ServesUntilSigtermFollowingDrainsAndSighupReloads) {
    auto daemon = std::make_unique<Daemon>(options, load(options.config_path));
    // serve() runs the loop on a thread of its own: it gives up that thread's capabilities.
    std::packaged_task<int()> serve([&] { return daemon->serve(); });
    std::future<int> served = serve.get_future();
    std::thread loop(std::move(serve));
    bool stopped = false;
    auto stop = [&] {
        if (stopped) return;
        stopped = true;
        kill(getpid(), SIGTERM);  // caught by the daemon's loop
        if (served.wait_for(10s) != std::future_status::ready) std::abort();
        loop.join();
    };
    struct Guard {
        std::function<void()> stop;
        ~Guard() { stop(); }
    } guard{stop};  // a failed assertion still stops the loop before the daemon goes

    std::unique_ptr<LineClient> client;
    ASSERT_TRUE(eventually([&] {
        try {
            client = std::make_unique<LineClient>(socket_path());
            return true;
        } catch (const std::exception&) {
            return false;
        }
    })) << "no control socket at "
        << socket_path();

    // Answers start after the first round of health checks.
    const std::vector<std::string> both{"127.0.0.2", "127.0.0.3"};
    EXPECT_TRUE(eventually([&] { return ask_a(port) == both; }));
    control::Reply check = client->ask(control::Verb::check);
    ASSERT_TRUE(check.ok) << check.error;
    EXPECT_EQ(check.result["status"], 0);

    control::Reply drain = client->ask(control::Verb::drain, {{"node", "london"}});
    ASSERT_TRUE(drain.ok) << drain.error;
    EXPECT_EQ(drain.result["persisted"], true);
    EXPECT_TRUE(eventually([&] { return ask_a(port) == std::vector<std::string>{"127.0.0.3"}; }));

    write_config({{"london", "127.0.0.2"}, {"geneva", "127.0.0.3"}, {"paris", "127.0.0.4"}});
    kill(getpid(), SIGHUP);
    EXPECT_TRUE(eventually([&] {
        return ask_a(port) == std::vector<std::string>{"127.0.0.3", "127.0.0.4"};
    }));
    control::Reply status = client->ask(control::Verb::status);
    ASSERT_TRUE(status.ok) << status.error;
    EXPECT_EQ(status.result["services"][0]["nodes"].size(), 3u);

    client.reset();
    stop();
    EXPECT_EQ(served.get(), kExitOk);
    daemon.reset();
    EXPECT_FALSE(std::filesystem::exists(socket_path()));  // removed at stop
}

TEST_F(DaemonTest, ServeFailsWhenTheAddressIsTaken) {
    int taken = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    ASSERT_EQ(bind(taken, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    Daemon daemon(options, load(options.config_path));
    int status = -1;
    std::thread([&] { status = daemon.serve(); }).join();  // fails before its loop runs
    close(taken);
    EXPECT_EQ(status, kExitFailure);
}

}  // namespace
}  // namespace nolb::nolbd
