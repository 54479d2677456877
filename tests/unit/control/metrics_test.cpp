// The Prometheus endpoint: the exposition text parses line by line (HELP and TYPE before each
// family's samples, escaped label values), carries the backend's numbers, and the HTTP side
// answers 200 only for GET /metrics.
#include "control/metrics.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <sstream>

#include "unit/control/control_fixture.hpp"

namespace nolb::control {
namespace {

using namespace testing;

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

bool name_start(char c) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':';
}
bool name_char(char c) {
    return name_start(c) || std::isdigit(static_cast<unsigned char>(c));
}

// A metric or label name at `at`; empty when there is none.
std::string take_name(const std::string& line, std::size_t& at, bool colons) {
    std::size_t begin = at;
    if (at < line.size() && name_start(line[at]) && (colons || line[at] != ':'))
        ++at;
    else
        return {};
    while (at < line.size() && name_char(line[at]) && (colons || line[at] != ':'))
        ++at;
    return line.substr(begin, at - begin);
}

bool valid_value(const std::string& text) {
    if (text == "NaN" || text == "+Inf" || text == "-Inf") return true;
    if (text.empty() || !(std::isdigit(static_cast<unsigned char>(text[0])) || text[0] == '-'))
        return false;
    std::size_t used = 0;
    try {
        std::stod(text, &used);
    } catch (const std::exception&) {
        return false;
    }
    return used == text.size();
}

// `name{label="value",...} value`, with only \\, \" and \n escaped in label values.
bool parse_sample(const std::string& line, std::string& name) {
    std::size_t at = 0;
    name = take_name(line, at, true);
    if (name.empty()) return false;
    if (at < line.size() && line[at] == '{') {
        ++at;
        while (true) {
            if (take_name(line, at, false).empty()) return false;
            if (line.compare(at, 2, "=\"") != 0) return false;
            at += 2;
            while (at < line.size() && line[at] != '"') {
                if (line[at] == '\\') {
                    if (at + 1 >= line.size()) return false;
                    char escaped = line[at + 1];
                    if (escaped != '\\' && escaped != '"' && escaped != 'n') return false;
                    ++at;
                }
                ++at;
            }
            if (at >= line.size()) return false;
            ++at;  // the closing quote
            if (at < line.size() && line[at] == ',') {
                ++at;
                continue;
            }
            if (at < line.size() && line[at] == '}') {
                ++at;
                break;
            }
            return false;
        }
    }
    if (at >= line.size() || line[at] != ' ') return false;
    return valid_value(line.substr(at + 1));
}

// Checks the text against the 0.0.4 format; returns each sample as "name{labels}" -> value.
std::map<std::string, std::string> parse_exposition(const std::string& text) {
    std::map<std::string, std::string> samples;
    std::map<std::string, std::string> types;
    std::string helped;
    EXPECT_TRUE(!text.empty() && text.back() == '\n');
    for (const std::string& line : lines_of(text)) {
        std::string name;
        if (line.starts_with("# HELP ")) {
            std::size_t at = 7;
            helped = take_name(line, at, true);
            EXPECT_FALSE(helped.empty()) << line;
            EXPECT_TRUE(at + 1 < line.size() && line[at] == ' ') << "HELP without text: " << line;
        } else if (line.starts_with("# TYPE ")) {
            std::size_t at = 7;
            name = take_name(line, at, true);
            std::string type = at < line.size() ? line.substr(at) : "";
            EXPECT_TRUE(type == " counter" || type == " gauge") << line;
            EXPECT_EQ(name, helped) << "TYPE without HELP: " << line;
            EXPECT_TRUE(types.emplace(name, type).second) << "family declared twice: " << line;
        } else if (parse_sample(line, name)) {
            EXPECT_TRUE(types.count(name)) << "sample before its TYPE: " << line;
            EXPECT_EQ(name, helped) << "sample outside its family: " << line;
            std::string key = line.substr(0, line.rfind(' '));
            EXPECT_TRUE(samples.emplace(key, line.substr(line.rfind(' ') + 1)).second)
                << "duplicate sample: " << line;
        } else {
            ADD_FAILURE() << "not exposition format: " << line;
        }
    }
    return samples;
}

TEST(ControlMetrics, TheCheckerRejectsWhatIsNotExposition) {
    std::string name;
    EXPECT_TRUE(parse_sample(R"(a_b{x="1",y="q\"\\\n"} 1.5e-3)", name));
    EXPECT_EQ(name, "a_b");
    EXPECT_TRUE(parse_sample("up NaN", name));
    EXPECT_FALSE(parse_sample("a{x=1} 1", name));
    EXPECT_FALSE(parse_sample(R"(a{x="\t"} 1)", name));
    EXPECT_FALSE(parse_sample("a 1 2", name));
    EXPECT_FALSE(parse_sample("1a 1", name));
    EXPECT_FALSE(parse_sample(R"(a{x="1"}1)", name));
    EXPECT_FALSE(parse_sample("a  1", name));
}

TEST(ControlMetrics, ExpositionCarriesTheBackendsNumbers) {
    auto samples = parse_exposition(render_metrics(stats_document(), status_document()));
    const std::string london = R"({service="www.demo.test.",node="london",address="127.0.0.2"})";
    const std::string geneva = R"({service="www.demo.test.",node="geneva",address="127.0.0.3"})";
    std::map<std::string, std::string> expected{
        {R"(nolb_dns_queries_total{qtype="A"})", "10"},
        {R"(nolb_dns_queries_total{qtype="AAAA"})", "4"},
        {R"(nolb_dns_responses_total{rcode="NOERROR"})", "13"},
        {R"(nolb_dns_responses_total{rcode="NXDOMAIN"})", "2"},
        {"nolb_dns_dropped_total", "1"},
        {"nolb_dns_truncated_total", "2"},
        {R"(nolb_tcp_connections_total{result="accepted"})", "3"},
        {R"(nolb_tcp_connections_total{result="timed_out"})", "1"},
        {R"(nolb_udp_datagrams_total{direction="received"})", "12"},
        {R"(nolb_rrl_responses_total{action="slipped"})", "4"},
        {R"(nolb_rrl_responses_total{action="dropped"})", "5"},
        {"nolb_probes_total", "230"},
        {"nolb_probe_failures_total", "31"},
        {"nolb_probes_overlapped_total", "3"},
        {"nolb_health_transitions_total", "4"},
        {"nolb_snapshot_generation", "7"},
        {"nolb_uptime_seconds", "7380"},
        {"nolb_address_up" + london, "1"},
        {"nolb_address_up" + geneva, "0"},
        {"nolb_address_published" + london, "1"},
        {"nolb_address_published" + geneva, "0"},
        {"nolb_probe_latency_seconds" + london, "0.0004"},
        {"nolb_probe_latency_seconds" + geneva, "1"},
        {"nolb_address_probes_total" + london, "120"},
        {"nolb_address_probe_failures_total" + geneva, "30"},
        {"nolb_address_transitions_total" + geneva, "3"},
        {R"(nolb_node_drained{service="www.demo.test.",node="geneva"})", "1"},
        {R"(nolb_service_all_down{service="www.demo.test."})", "0"},
    };
    for (const auto& [key, value] : expected) {
        auto it = samples.find(key);
        ASSERT_NE(it, samples.end()) << key;
        EXPECT_EQ(it->second, value) << key;
    }
}

// The label names of a sample line: `a{x="1",y="2"} 3` -> {"x", "y"}.
std::vector<std::string> label_names(const std::string& line) {
    std::vector<std::string> names;
    std::size_t at = line.find_first_of("{ ");
    while (at < line.size() && line[at] != ' ') {
        ++at;  // past '{' or ','
        names.push_back(take_name(line, at, false));
        at += 2;  // past ="
        while (at < line.size() && line[at] != '"')
            at += line[at] == '\\' ? 2 : 1;
        ++at;  // past the closing quote, to ',' or '}'
        if (at < line.size() && line[at] == '}') ++at;
    }
    return names;
}

// The value of a sample's first label: `a{x="1",y="2"} 3` -> "1".
std::string first_label_value(const std::string& line) {
    const std::size_t begin = line.find("=\"") + 2;
    return line.substr(begin, line.find('"', begin) - begin);
}

// The reference lists metric_families(): each is exposed, in that order, and its samples carry
// the labels it names, so the reference cannot promise a family or a label the endpoint lacks.
TEST(ControlMetrics, TheFamiliesAreExposedAsDeclared) {
    const std::string text = render_metrics(stats_document(), status_document());
    parse_exposition(text);
    const std::span<const FamilyDoc> families = metric_families();
    std::vector<std::string> declared, exposed;
    for (const FamilyDoc& family : families)
        declared.emplace_back(family.name);
    std::set<std::string> sampled;
    std::map<std::string, std::set<std::string>> first_values;  // family -> its first label's
    for (const std::string& line : lines_of(text)) {
        std::size_t at = 7;
        if (line.starts_with("# HELP ")) exposed.push_back(take_name(line, at, true));
        if (line.starts_with("#")) continue;
        at = 0;
        const std::string name = take_name(line, at, true);
        sampled.insert(name);
        auto family = std::find_if(families.begin(), families.end(),
                                   [&](const FamilyDoc& f) { return f.name == name; });
        ASSERT_NE(family, families.end()) << line;
        std::vector<std::string> labels;
        for (std::string_view label : family->labels)
            if (!label.empty()) labels.emplace_back(label);
        EXPECT_EQ(label_names(line), labels) << line;
        if (!family->values.empty()) first_values[name].insert(first_label_value(line));
    }
    // Where a family names its first label's values, the samples have exactly those.
    for (const FamilyDoc& family : families) {
        if (family.values.empty()) continue;
        std::set<std::string> declared_values;
        std::istringstream list{std::string(family.values)};
        for (std::string value; std::getline(list >> std::ws, value, ',');)
            declared_values.insert(value);
        EXPECT_EQ(first_values[std::string(family.name)], declared_values) << family.name;
    }
    EXPECT_EQ(exposed, declared);
    EXPECT_EQ(sampled.size(), declared.size());  // these documents give every family a sample
    EXPECT_EQ(label_names(R"(a{x="1",y="q\"\\"} 3)"), (std::vector<std::string>{"x", "y"}));
    EXPECT_EQ(label_names("a 3"), std::vector<std::string>{});
}

TEST(ControlMetrics, LabelValuesAreEscaped) {
    Status status = status_document();
    status.services[0].nodes[0].name = "a\"b\\c\nd";
    std::string text = render_metrics(stats_document(), status);
    parse_exposition(text);
    EXPECT_NE(text.find(R"(node="a\"b\\c\nd")"), std::string::npos);
}

TEST(ControlMetrics, LatencyOnlyOnceProbed) {
    Status status = status_document();
    status.services[0].nodes[0].addresses[0].last.reset();
    auto samples = parse_exposition(render_metrics(stats_document(), status));
    EXPECT_EQ(
        samples.count(
            R"(nolb_probe_latency_seconds{service="www.demo.test.",node="london",address="127.0.0.2"})"),
        0u);
    EXPECT_EQ(
        samples.count(
            R"(nolb_probe_latency_seconds{service="www.demo.test.",node="geneva",address="127.0.0.3"})"),
        1u);
}

TEST(ControlMetrics, AFreshDaemonExposesZeros) {
    auto samples = parse_exposition(render_metrics(Stats{}, Status{}));
    EXPECT_EQ(samples["nolb_dns_dropped_total"], "0");
    EXPECT_EQ(samples["nolb_uptime_seconds"], "0");
    EXPECT_EQ(samples.count(R"(nolb_dns_queries_total{qtype="A"})"), 0u);  // none counted yet
}

struct HttpReply {
    int status = 0;
    std::string headers;
    std::string body;
};

HttpReply http(std::uint16_t port, const std::string& request) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval timeout{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    HttpReply reply;
    if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
        send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(request.size())) {
        std::string raw;
        char chunk[4096];
        for (ssize_t n; (n = recv(fd, chunk, sizeof chunk, 0)) > 0;)
            raw.append(chunk, static_cast<std::size_t>(n));
        auto blank = raw.find("\r\n\r\n");
        if (raw.size() > 12 && blank != std::string::npos) {
            reply.status = std::stoi(raw.substr(9, 3));
            reply.headers = raw.substr(0, blank);
            reply.body = raw.substr(blank + 4);
        }
    }
    close(fd);
    return reply;
}

class ControlMetricsServerTest : public ::testing::Test {
  protected:
    void SetUp() override {
        port = loop.run([&] {
            metrics = std::make_unique<MetricsServer>(
                loop.base(), util::Endpoint{*util::IpAddress::parse("127.0.0.1"), 0}, backend);
            metrics->open();
            return metrics->endpoint().port;
        });
    }
    void TearDown() override {
        loop.run([&] {
            metrics.reset();
            return 0;
        });
    }

    FakeBackend backend;
    LoopThread loop;
    std::unique_ptr<MetricsServer> metrics;
    std::uint16_t port = 0;
};

TEST_F(ControlMetricsServerTest, ServesTheExposition) {
    ASSERT_NE(port, 0);
    HttpReply reply = http(port, "GET /metrics HTTP/1.0\r\n\r\n");
    EXPECT_EQ(reply.status, 200);
    EXPECT_NE(reply.headers.find("Content-Type: text/plain; version=0.0.4"), std::string::npos)
        << reply.headers;
    EXPECT_EQ(reply.body, render_metrics(stats_document(), status_document()));
    parse_exposition(reply.body);

    // A query string does not change the resource.
    EXPECT_EQ(http(port, "GET /metrics?x=1 HTTP/1.0\r\n\r\n").status, 200);
}

TEST_F(ControlMetricsServerTest, OtherPathsAndMethods) {
    EXPECT_EQ(http(port, "GET / HTTP/1.0\r\n\r\n").status, 404);
    EXPECT_EQ(http(port, "GET /metricsx HTTP/1.0\r\n\r\n").status, 404);
    HttpReply post = http(port, "POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(post.status, 405);
    EXPECT_NE(post.headers.find("Allow: GET, HEAD"), std::string::npos) << post.headers;
    EXPECT_EQ(http(port, "DELETE /metrics HTTP/1.0\r\n\r\n").status, 405);
    HttpReply head = http(port, "HEAD /metrics HTTP/1.0\r\n\r\n");
    EXPECT_EQ(head.status, 200);
    EXPECT_TRUE(head.body.empty());
    std::string length = "Content-Length: " +
                         std::to_string(render_metrics(stats_document(), status_document()).size());
    EXPECT_NE(head.headers.find(length), std::string::npos) << head.headers;
    EXPECT_EQ(head.headers.find("Content-Length"), head.headers.rfind("Content-Length"));
}

TEST_F(ControlMetricsServerTest, BackendFailureIs500) {
    loop.run([&] { return backend.fail_stats = true; });
    EXPECT_EQ(http(port, "GET /metrics HTTP/1.0\r\n\r\n").status, 500);
}

TEST_F(ControlMetricsServerTest, PortInUseIsAClearError) {
    MetricsServer second(loop.base(), util::Endpoint{*util::IpAddress::parse("127.0.0.1"), port},
                         backend);
    try {
        second.open();  // fails at bind(), before it touches the loop
        ADD_FAILURE() << "a second server bound the same port";
    } catch (const std::runtime_error& e) {
        EXPECT_EQ(std::string(e.what()), "cannot serve metrics on 127.0.0.1:" +
                                             std::to_string(port) + ": Address already in use");
    }
}

TEST(ControlMetrics, TcpDefencesAreConnectionResults) {
    Stats stats = stats_document();
    stats.tcp = {9, 1, 2, 3, 4, 5};
    auto samples = parse_exposition(render_metrics(stats, status_document()));
    EXPECT_EQ(samples[R"(nolb_tcp_connections_total{result="refused_per_client"})"], "2");
    EXPECT_EQ(samples[R"(nolb_tcp_connections_total{result="evicted"})"], "3");
    EXPECT_EQ(samples[R"(nolb_tcp_connections_total{result="io_timed_out"})"], "5");
}

}  // namespace
}  // namespace nolb::control
