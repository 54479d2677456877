// config::load: reading the file (a regular file, whole), parsing it and walking it against the
// schema, then either a Config that is known good or one Error listing every problem, from the
// syntax to the schema, in file order. What each key means is schema_test.cpp's business.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace nolb::config {
namespace {

using namespace std::chrono_literals;

const std::string kSourceDir = NOLB_SOURCE_DIR;

// Loads `text` expecting it to fail, and returns the problems.
std::vector<std::string> problems(std::string_view text, const std::string& path = "t.toml") {
    try {
        load_string(text, path);
    } catch (const Error& e) {
        return e.problems();
    }
    ADD_FAILURE() << "loaded without errors:\n" << text;
    return {};
}

util::IpAddress ip(const char* text) {
    return *util::IpAddress::parse(text);
}

constexpr const char* kMinimal = R"([[zone]]
origin = "demo.test."
[[zone.ns]]
name = "ns1.example.net."
)";

// A folder of its own under /tmp, removed with everything in it.
struct TempDir {
    std::filesystem::path path;
    TempDir() {
        char name[] = "/tmp/nolb-config-XXXXXX";
        if (::mkdtemp(name)) path = name;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    std::string write(const std::string& name, std::string_view text) const {
        std::ofstream(path / name) << text;
        return (path / name).string();
    }
};

TEST(Load, ReadsTheFileItIsGiven) {
    TempDir dir;
    ASSERT_FALSE(dir.path.empty());
    const std::string path =
        dir.write("nolb.toml", std::string(kMinimal) + "[server]\nworkers = 3\n");
    Config c = load(path);
    EXPECT_EQ(c.path, path);
    EXPECT_EQ(c.server.workers, 3u);
    EXPECT_EQ(c.zones.at(0).origin, "demo.test.");
}

TEST(Load, LargeFilesAreReadWhole) {
    // Larger than one read: records past the first buffers must not be lost.
    std::string text = "[[zone]]\norigin = \"demo.test.\"\nrecords = [\n";
    for (int i = 0; i < 2000; ++i)
        text += "  \"host" + std::to_string(i) + " A 192.0.2.1\",\n";
    text += "]\n[[zone.ns]]\nname = \"ns1.example.net.\"\n";
    ASSERT_GT(text.size(), 3u * 8192u);
    TempDir dir;
    Config c = load(dir.write("big.toml", text));
    ASSERT_EQ(c.zones.at(0).records.size(), 2000u);
    EXPECT_EQ(c.zones[0].records.back().text, "host1999 A 192.0.2.1");
    EXPECT_EQ(c.zones[0].records.back().where.line, 2003u);
}

TEST(Load, RelativePathsHangFromTheFilesFolder) {
    TempDir dir;
    std::filesystem::create_directory(dir.path / "zones");
    dir.write("zones/demo.test.zone", "www A 192.0.2.80\n");
    const std::string text =
        "[[zone]]\norigin = \"demo.test.\"\nfile = \"zones/demo.test.zone\"\n"
        "[[zone.ns]]\nname = \"ns1.example.net.\"\n[control]\nstate_file = \"drains.json\"\n";
    Config c = load(dir.write("nolb.toml", text));
    EXPECT_EQ(c.zones.at(0).file, (dir.path / "zones/demo.test.zone").string());
    EXPECT_EQ(c.control.state_file, (dir.path / "drains.json").string());
}

TEST(Load, StringsNameTheFileTheyCameFrom) {
    Config c = load_string(kMinimal, "conf/a.toml");
    EXPECT_EQ(c.path, "conf/a.toml");
    EXPECT_EQ(c.zones.at(0).where.to_string(), "conf/a.toml:1:1");
}

TEST(Load, ReferenceConfigurationsLoad) {
    Config reference = load(kSourceDir + "/conf/nolb.toml");
    EXPECT_EQ(reference.path, kSourceDir + "/conf/nolb.toml");
    EXPECT_EQ(reference.zones.size(), 2u);
    EXPECT_FALSE(reference.services.empty());

    Config demo = load(kSourceDir + "/conf/demo.toml");
    ASSERT_EQ(demo.server.listen.size(), 2u);
    EXPECT_EQ(demo.server.listen[0].to_string(), "127.0.0.1:5353");
    EXPECT_EQ(demo.server.listen[1].to_string(), "[::1]:5353");
    EXPECT_EQ(demo.server.workers, 1u);
    ASSERT_EQ(demo.zones.size(), 1u);
    EXPECT_EQ(demo.zones[0].origin, "demo.test.");
    EXPECT_EQ(demo.zones[0].file, kSourceDir + "/conf/zones/demo.test.zone");
    ASSERT_EQ(demo.zones[0].ns.size(), 1u);
    EXPECT_EQ(demo.zones[0].ns[0].name, "ns1.demo.test.");
    EXPECT_EQ(demo.zones[0].ns[0].addresses, std::vector{ip("127.0.0.1")});
    ASSERT_EQ(demo.services.size(), 1u);
    EXPECT_EQ(demo.services[0].name, "www.demo.test.");
    EXPECT_EQ(demo.services[0].ttl, 20u);
    ASSERT_EQ(demo.services[0].nodes.size(), 2u);
    EXPECT_EQ(demo.services[0].nodes[0].name, "london");
    EXPECT_EQ(demo.services[0].nodes[0].addresses, std::vector{ip("127.0.0.2")});
    EXPECT_EQ(demo.services[0].nodes[1].name, "geneva");
    EXPECT_EQ(demo.services[0].nodes[1].addresses, std::vector{ip("127.0.0.3")});
    const HealthCheck& h = demo.services[0].health;
    EXPECT_EQ(h.type, HealthMode::http);
    EXPECT_EQ(h.port, 8080);
    EXPECT_EQ(h.path, "/health");
    EXPECT_EQ(h.interval, std::chrono::seconds(1));
    EXPECT_EQ(h.timeout, std::chrono::milliseconds(500));
    EXPECT_EQ(h.rise, 2u);
    EXPECT_EQ(h.fall, 2u);
    EXPECT_EQ(demo.services[0].all_down, AllDown::all);
    EXPECT_EQ(demo.control.socket, "/tmp/nolb-demo.sock");
}

TEST(Load, UnreadableFile) {
    try {
        load("/nonexistent/nolb.toml");
        FAIL() << "loaded a missing file";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()),
                  "/nonexistent/nolb.toml: cannot read: No such file or directory");
    }
}

TEST(Load, OnlyRegularFilesAreRead) {
    TempDir dir;
    try {
        load(dir.path.string());
        FAIL() << "loaded a directory";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), dir.path.string() + ": cannot read: not a regular file");
    }
}

TEST(Load, AFifoIsRefusedWithoutWaitingForAWriter) {
    TempDir dir;
    const std::string fifo = (dir.path / "fifo").string();
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    auto result = std::async(std::launch::async, [&]() -> std::string {
        try {
            load(fifo);
        } catch (const Error& e) {
            return e.what();
        }
        return "loaded";
    });
    if (result.wait_for(5s) != std::future_status::ready) {
        // Unblock the open so the thread can end, then fail.
        int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
        if (fd >= 0) ::close(fd);
        result.wait();
        FAIL() << "load() blocked opening a FIFO";
    }
    EXPECT_EQ(result.get(), fifo + ": cannot read: not a regular file");
}

TEST(Load, SyntaxErrorsComeAloneWithTheirPosition) {
    // A document that does not parse is not walked: one problem, where the parser stopped.
    auto all = problems("[server]\nworkers = 0\nchaos = \n");
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].rfind("t.toml:3:", 0), 0u) << all[0];
}

TEST(Load, AnEmptyFileLacksItsZones) {
    TempDir dir;
    auto path = dir.write("empty.toml", "");
    try {
        load(path);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.problems(),
                  std::vector<std::string>{path + ":1:1: zone: at least one [[zone]] is required"});
    }
}

TEST(Load, EveryErrorIsReportedInFileOrder) {
    auto all = problems(R"([[service]]
name = "www.nowhere.test."
[[service.node]]
name = "bad name"
addresses = ["192.0.2.300"]

[server]
listen = []
log_level = "chatty"

[[zone]]
origin = "demo.test"
ttl = -5
[[zone.ns]]
name = "ns1..example.net."
)");
    ASSERT_EQ(all.size(), 7u);
    EXPECT_EQ(all[0],
              "t.toml:2:8: service[0].name: www.nowhere.test. is not inside any "
              "configured zone");
    EXPECT_EQ(all[1], R"(t.toml:4:8: service[0].node[0].name: "bad name" is not a node name )"
                      R"((letters, digits, _ . -))");
    EXPECT_EQ(all[2], R"(t.toml:5:14: service[0].node[0].addresses[0]: "192.0.2.300" is not )"
                      R"(an IPv4 or IPv6 address)");
    EXPECT_EQ(all[3], "t.toml:8:10: server.listen: must not be empty");
    EXPECT_EQ(all[4], R"(t.toml:9:13: server.log_level: "chatty" is not a log level )"
                      R"((debug, info, warning, error))");
    EXPECT_EQ(all[5], "t.toml:13:7: zone[0].ttl: -5 is out of range (0..2147483647)");
    EXPECT_EQ(all[6], R"(t.toml:15:8: zone[0].ns[0].name: "ns1..example.net." is not a valid )"
                      R"(name: empty label)");

    try {
        load_string("[server]\nworkers = 0\nchaos = 2\n", "t.toml");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()),
                  "t.toml:1:1: zone: at least one [[zone]] is required\n"
                  "t.toml:2:11: server.workers: 0 is out of range (1..64)\n"
                  "t.toml:3:9: server.chaos: expected a boolean, found an integer");
    }
}

TEST(Source, ToString) {
    EXPECT_EQ((Source{"a.toml", 3, 7}).to_string(), "a.toml:3:7");
    EXPECT_EQ((Source{"a.toml", 0, 0}).to_string(), "a.toml");
}

TEST(ErrorTest, JoinsProblemsWithNewlines) {
    Error e({"one", "two"});
    EXPECT_EQ(std::string(e.what()), "one\ntwo");
    EXPECT_EQ(e.problems().size(), 2u);
}

}  // namespace
}  // namespace nolb::config
