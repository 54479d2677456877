// Fuzz target: one DNS message through what nolbd does with a message that is signed or asks for
// a zone transfer (transfer::Responder), over TCP and UDP, from a client the zones allow and one
// they do not. The first byte picks transport and client; the rest is the message. Zone 0 allows
// loopback unsigned, zone 1 only with its key; zone 0's journal holds two changes. It checks
// what a client relies on, not only that nothing crashes: every message is a response with the
// query's ID; a UDP response fits the limit the client asked for; a response ends; a TSIG in a
// response is its last record; and the IXFR serial reader never reads past the message.
#include <cstdint>
#include <ctime>
#include <memory>
#include <vector>

#include "config/config.hpp"
#include "dns/query.hpp"
#include "dns/tsig.hpp"
#include "dns/wire.hpp"
#include "fuzz.hpp"
#include "transfer/serve.hpp"
#include "zone/compile.hpp"

namespace nolb::fuzz {
namespace {

struct World {
    config::Config config;
    std::unique_ptr<zone::Compiler> compiler;
    std::shared_ptr<const zone::Snapshot> snapshot;
    transfer::State state;
};

const World& world() {
    static const World instance = [] {
        World w;
        w.config = config::load(data_path("query.toml"));
        config::Key key;
        key.name = "xfr.fuzz.test.";
        key.algorithm = "hmac-sha256";
        key.secret.assign(32, 0x5a);
        w.config.keys.push_back(key);
        w.config.zones.at(0).transfer.allow = {*util::Prefix::parse("127.0.0.0/8")};
        if (w.config.zones.size() > 1) {
            w.config.zones[1].transfer.allow = {*util::Prefix::parse("127.0.0.0/8")};
            w.config.zones[1].transfer.keys = {"xfr.fuzz.test."};
        }
        w.compiler = std::make_unique<zone::Compiler>(zone::load(w.config));
        w.state.access = std::make_shared<const transfer::Access>(w.config);
        for (const config::Zone& z : w.config.zones)
            w.state.journals.emplace_back(z.transfer.journal_changes, z.transfer.journal_bytes);
        // Three serials of every zone: all up, the first service's first node down, all up.
        zone::Availability up;
        for (const config::Service& s : w.config.services) {
            std::size_t addresses = 0;
            for (const config::Node& n : s.nodes)
                addresses += n.addresses.size();
            up.emplace_back(addresses, true);
        }
        zone::Availability down = up;
        if (!down.empty() && !down[0].empty()) down[0][0] = false;
        const std::vector<std::uint32_t> serials(w.config.zones.size(), 0);
        std::shared_ptr<const zone::Snapshot> before;
        std::uint32_t serial = 100;
        for (const zone::Availability* a : {&up, &down, &up}) {
            std::vector<std::uint32_t> s(w.config.zones.size(), serial++);
            auto next = w.compiler->render(*a, s);
            if (before)
                for (std::size_t z = 0; z < next->zones.size(); ++z)
                    w.state.journals[z].record(*before->zones[z].image, *next->zones[z].image);
            before = next;
        }
        w.snapshot = before;
        return w;
    }();
    return instance;
}

void check_message(std::span<const std::uint8_t> m, std::span<const std::uint8_t> query) {
    require(m.size() >= dns::kHeaderSize, "a response has a header");
    require((m[2] & 0x80) != 0, "a response has QR set");
    require(dns::load16(m.data()) == dns::load16(query.data()), "a response has the query's ID");
    dns::tsig::Record record;
    require(dns::tsig::find(m, record) != dns::tsig::Found::malformed,
            "a TSIG in a response is its last record and well formed");
}

}  // namespace
}  // namespace nolb::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace nolb;
    if (size < 1) return 0;
    const fuzz::World& w = fuzz::world();
    const std::uint8_t choice = data[0];
    const std::span<const std::uint8_t> message(data + 1, size - 1);
    (void)transfer::ixfr_serial(message);

    dns::Query q;
    dns::parse_query(message, q);
    if (!transfer::is_special(q)) return 0;
    const auto transport = (choice & 1) ? util::Transport::tcp : util::Transport::udp;
    const auto client = util::IpAddress::parse((choice & 2) ? "192.0.2.9" : "127.0.0.1");

    static transfer::Responder responder;
    static util::Rng rng(1);
    std::vector<std::uint8_t> out(65535);
    transfer::Served served = responder.serve(*w.snapshot, w.state, message, q, transport, client,
                                              1'700'000'000, rng, out);
    if (served.size == 0) return 0;
    fuzz::check_message({out.data(), served.size}, message);
    if (transport == util::Transport::udp) {
        std::size_t limit = 512;
        if (q.edns.present && q.edns.valid)
            limit = std::max<std::size_t>(512, std::min<std::size_t>(q.edns.udp_payload, 1232));
        fuzz::require(served.size <= limit, "a UDP response fits the client's limit");
        fuzz::require(!served.more, "UDP has one message");
    }
    if (served.more) {
        std::size_t messages = 1, n;
        while ((n = served.more->next(out)) > 0) {
            fuzz::check_message({out.data(), n}, message);
            fuzz::require(++messages < 100000, "a transfer ends");
        }
    }
    return 0;
}
