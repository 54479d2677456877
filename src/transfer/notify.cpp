#include "transfer/notify.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "answer/respond.hpp"
#include "dns/name.hpp"
#include "dns/types.hpp"
#include "dns/wire.hpp"
#include "transfer/access.hpp"
#include "util/event.hpp"
#include "util/log.hpp"
#include "util/rng.hpp"
#include "zone/image.hpp"

namespace nolb::transfer {

namespace {

using Steady = std::chrono::steady_clock;
using Bytes = std::vector<std::uint8_t>;

// Problems with a target (an error RCODE, a bad signature, no answer at all) are logged at most
// this often per target: a secondary that refuses keeps refusing, at every serial.
constexpr auto kLogEvery = std::chrono::minutes(1);

std::uint64_t unix_now() {
    return static_cast<std::uint64_t>(std::time(nullptr));
}

timeval to_timeval(std::chrono::milliseconds ms) {
    if (ms.count() < 0) ms = std::chrono::milliseconds(0);
    return {static_cast<time_t>(ms.count() / 1000),
            static_cast<suseconds_t>(ms.count() % 1000 * 1000)};
}

// The length of the uncompressed name at the start of `wire` (a record's owner); 0 if malformed.
std::size_t name_size(std::string_view wire) {
    std::size_t at = 0;
    while (at < wire.size()) {
        const auto label = static_cast<std::uint8_t>(wire[at]);
        if (label == 0) return at + 1;
        if (label > dns::kMaxLabelSize) return 0;
        at += 1 + label;
    }
    return 0;
}

void put16(Bytes& out, std::uint16_t value) {
    out.push_back(static_cast<std::uint8_t>(value >> 8));
    out.push_back(static_cast<std::uint8_t>(value));
}

// A NOTIFY request for the zone whose SOA record is `soa`: the header, the question (the SOA's
// owner, which is the apex; SOA; IN) and the SOA itself as the answer section.
Bytes notify_message(std::uint16_t id, std::string_view soa) {
    const std::size_t apex = name_size(soa);
    Bytes message(dns::kHeaderSize, 0);
    dns::store16(message.data(), id);
    dns::store16(message.data() + 2,
                 static_cast<std::uint16_t>(dns::opcode::NOTIFY << 11) | dns::flag::AA);
    dns::store16(message.data() + 4, 1);  // QDCOUNT
    dns::store16(message.data() + 6, 1);  // ANCOUNT
    message.insert(message.end(), soa.begin(), soa.begin() + static_cast<std::ptrdiff_t>(apex));
    put16(message, dns::type::SOA);
    put16(message, dns::cls::IN);
    message.insert(message.end(), soa.begin(), soa.end());
    return message;
}

// The RCODE of `message` if it is a NOTIFY response whose one question is (apex, SOA, IN);
// nullopt for anything else.
std::optional<std::uint16_t> notify_response_rcode(std::span<const std::uint8_t> message,
                                                   const std::string& apex) {
    dns::Reader reader(message.data(), message.size());
    reader.u16();  // ID, matched by the caller
    const std::uint16_t flags = reader.u16();
    const std::uint16_t questions = reader.u16();
    reader.skip(6);
    std::string name;
    if (!dns::read_name(reader, name)) return std::nullopt;
    const std::uint16_t type = reader.u16();
    const std::uint16_t cls = reader.u16();
    if (reader.failed() || (flags & dns::flag::QR) == 0 ||
        ((flags & dns::flag::OPCODE_MASK) >> 11) != dns::opcode::NOTIFY || questions != 1 ||
        name != apex || type != dns::type::SOA || cls != dns::cls::IN)
        return std::nullopt;
    return static_cast<std::uint16_t>(flags & dns::flag::RCODE_MASK);
}

bool same_key(const std::optional<dns::tsig::Key>& a, const std::optional<dns::tsig::Key>& b) {
    if (!a || !b) return !a && !b;
    return a->name == b->name && a->algorithm == b->algorithm && a->secret == b->secret;
}

// A UDP socket, with its read event freed before the descriptor is closed.
struct Socket {
    int fd = -1;
    util::Event readable;
    Socket() = default;
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
    ~Socket() {
        readable.reset();
        if (fd >= 0) ::close(fd);
    }
};

// One message of the NOTIFY in flight: an answer must carry its ID, and, when signed, a MAC
// over its MAC.
struct Attempt {
    std::uint16_t id = 0;
    Bytes mac;
    std::uint32_t serial = 0;
};

struct Target {
    Notifier::Impl* owner = nullptr;
    std::size_t zone = 0;
    TargetStatus status;
    util::Event timer;              // the next retry, or the end of the gap
    std::vector<Attempt> attempts;  // of the NOTIFY in flight; empty: none
    std::chrono::milliseconds wait{0};
    std::optional<Steady::time_point> last_sent;
    std::optional<Steady::time_point> last_logged;
};

struct ZoneState {
    NotifyZone settings;
    std::optional<std::uint32_t> serial;  // the newest seen
    std::string soa;                      // with that serial
    std::string apex;                     // wire form, lower case
    std::vector<std::unique_ptr<Target>> targets;
};

}  // namespace

struct Notifier::Impl {
    Impl(event_base* b, std::vector<util::Endpoint> l) : base(b), listen(std::move(l)) {}

    event_base* base;
    std::vector<util::Endpoint> listen;
    std::vector<ZoneState> zones;
    Socket v4, v6;
    util::Rng rng;
    std::array<std::uint8_t, 65535> buffer{};

    static void on_timer(evutil_socket_t, short, void* arg) {
        auto* target = static_cast<Target*>(arg);
        target->owner->timer_fired(*target);
    }
    static void on_readable(evutil_socket_t fd, short, void* arg) {
        static_cast<Impl*>(arg)->read_answers(fd);
    }

    std::unique_ptr<Target> make_target(const util::Endpoint& endpoint, std::size_t zone) {
        auto target = std::make_unique<Target>();
        target->owner = this;
        target->zone = zone;
        target->status.target = endpoint;
        target->timer = util::make_event(base, -1, 0, &Impl::on_timer, target.get());
        return target;
    }

    bool may_log(Target& target) {
        const auto now = Steady::now();
        if (target.last_logged && now - *target.last_logged < kLogEvery) return false;
        target.last_logged = now;
        return true;
    }

    void arm(Target& target, std::chrono::milliseconds after) {
        const timeval tv = to_timeval(after);
        evtimer_add(target.timer.get(), &tv);
    }

    void end_flight(Target& target) {
        target.attempts.clear();
        target.status.attempts = 0;
        evtimer_del(target.timer.get());
    }

    // Sends the newest serial now if nothing is in flight and the gap has passed, or arms the
    // timer for the end of the gap; nothing when the target has had the newest serial already.
    void consider(Target& target) {
        const ZoneState& zone = zones[target.zone];
        if (!target.attempts.empty() || !zone.serial || target.status.serial == zone.serial) return;
        const auto now = Steady::now();
        if (target.last_sent && now < *target.last_sent + zone.settings.gap) {
            arm(target, std::chrono::ceil<std::chrono::milliseconds>(*target.last_sent +
                                                                     zone.settings.gap - now));
            return;
        }
        target.wait = zone.settings.retry_interval;
        send(target);
    }

    void timer_fired(Target& target) {
        if (target.attempts.empty()) return consider(target);
        const ZoneState& zone = zones[target.zone];
        if (target.attempts.size() <= zone.settings.retries) return send(target);
        ++target.status.failed;
        if (may_log(target))
            log::warning("notify unanswered; given up",
                         {{"zone", zone.settings.origin},
                          {"target", target.status.target.to_string()},
                          {"serial", target.attempts.back().serial},
                          {"messages", target.attempts.size()}});
        end_flight(target);
        consider(target);
    }

    Socket* socket_for(int family) {
        Socket& socket = family == AF_INET ? v4 : v6;
        if (socket.fd >= 0) return &socket;
        const int fd = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            log::error("cannot open a socket for notify", {{"error", std::strerror(errno)}});
            return nullptr;
        }
        for (const util::Endpoint& endpoint : listen) {
            if (endpoint.address.family != family) continue;
            if (endpoint.address == util::IpAddress{family, {}}) break;  // the wildcard
            util::Endpoint source{endpoint.address, 0};
            sockaddr_storage address{};
            const socklen_t length = source.to_sockaddr(address);
            if (::bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0)
                log::warning(
                    "cannot send notify from the listen address; the kernel picks one",
                    {{"address", endpoint.address.to_string()}, {"error", std::strerror(errno)}});
            break;
        }
        socket.fd = fd;
        socket.readable =
            util::make_event(base, fd, EV_READ | EV_PERSIST, &Impl::on_readable, this);
        event_add(socket.readable.get(), nullptr);
        return &socket;
    }

    void send(Target& target) {
        const ZoneState& zone = zones[target.zone];
        Attempt attempt;
        attempt.id = static_cast<std::uint16_t>(rng.next());
        attempt.serial = *zone.serial;
        Bytes message = notify_message(attempt.id, zone.soa);
        if (zone.settings.key) {
            dns::tsig::Signer signer(*zone.settings.key, {}, unix_now());
            signer.sign(message);
            attempt.mac = signer.last_mac();
        }
        if (Socket* socket = socket_for(target.status.target.address.family)) {
            sockaddr_storage address{};
            const socklen_t length = target.status.target.to_sockaddr(address);
            // A message the kernel would not take is retried like one lost on the way.
            if (::sendto(socket->fd, message.data(), message.size(), 0,
                         reinterpret_cast<sockaddr*>(&address), length) < 0 &&
                may_log(target))
                log::warning("cannot send notify", {{"zone", zone.settings.origin},
                                                    {"target", target.status.target.to_string()},
                                                    {"error", std::strerror(errno)}});
        }
        log::debug("notify sent", {{"zone", zone.settings.origin},
                                   {"target", target.status.target.to_string()},
                                   {"serial", attempt.serial},
                                   {"attempt", target.attempts.size() + 1}});
        target.attempts.push_back(std::move(attempt));
        target.status.attempts = static_cast<unsigned>(target.attempts.size());
        target.status.serial = *zone.serial;
        target.status.sent_at = std::chrono::system_clock::now();
        ++target.status.sent;
        target.last_sent = Steady::now();
        arm(target, target.wait);
        target.wait *= 2;
    }

    void read_answers(evutil_socket_t fd) {
        for (;;) {
            sockaddr_storage from{};
            socklen_t from_length = sizeof from;
            const ssize_t n = ::recvfrom(fd, buffer.data(), buffer.size(), 0,
                                         reinterpret_cast<sockaddr*>(&from), &from_length);
            if (n < 0) return;  // EAGAIN, or an error a later read reports again
            const auto address = util::address_of(from);
            if (!address || n < static_cast<ssize_t>(dns::kHeaderSize)) continue;
            const std::uint16_t port = ntohs(
                from.ss_family == AF_INET ? reinterpret_cast<const sockaddr_in&>(from).sin_port
                                          : reinterpret_cast<const sockaddr_in6&>(from).sin6_port);
            answer({buffer.data(), static_cast<std::size_t>(n)}, util::Endpoint{*address, port});
        }
    }

    void answer(std::span<const std::uint8_t> message, const util::Endpoint& from) {
        const std::uint16_t id = dns::load16(message.data());
        for (ZoneState& zone : zones) {
            for (auto& target : zone.targets) {
                if (!(target->status.target == from)) continue;
                auto attempt = std::find_if(target->attempts.begin(), target->attempts.end(),
                                            [&](const Attempt& a) { return a.id == id; });
                if (attempt == target->attempts.end()) continue;
                const auto rcode = notify_response_rcode(message, zone.apex);
                if (!rcode) continue;
                if (zone.settings.key && !signed_well(message, zone, *target, *attempt)) continue;
                answered(zone, *target, attempt->serial, *rcode);
                return;
            }
        }
    }

    bool signed_well(std::span<const std::uint8_t> message, const ZoneState& zone, Target& target,
                     const Attempt& attempt) {
        dns::tsig::Record record;
        if (dns::tsig::find(message, record) != dns::tsig::Found::found) {
            if (may_log(target))
                log::warning(
                    "notify answer unsigned; ignored",
                    {{"zone", zone.settings.origin}, {"target", target.status.target.to_string()}});
            return false;
        }
        const dns::tsig::Error error = dns::tsig::verify_response(
            message, record, *zone.settings.key, attempt.mac, true, unix_now());
        if (error == dns::tsig::Error::none) return true;
        if (may_log(target))
            log::warning("notify answer without a good TSIG; ignored",
                         {{"zone", zone.settings.origin},
                          {"target", target.status.target.to_string()},
                          {"tsig_error", dns::tsig::error_name(error)}});
        return false;
    }

    void answered(const ZoneState& zone, Target& target, std::uint32_t serial,
                  std::uint16_t rcode) {
        ++target.status.answered;
        target.status.answered_at = std::chrono::system_clock::now();
        target.status.rcode = rcode;
        target.status.serial_answered = serial;
        if (rcode == dns::rcode::NOERROR) {
            log::debug("notify answered", {{"zone", zone.settings.origin},
                                           {"target", target.status.target.to_string()},
                                           {"serial", serial}});
        } else if (may_log(target)) {
            log::warning("notify answered with an error",
                         {{"zone", zone.settings.origin},
                          {"target", target.status.target.to_string()},
                          {"serial", serial},
                          {"rcode", answer::rcode_name(rcode)}});
        }
        end_flight(target);
        consider(target);
    }

    void configure(std::vector<NotifyZone> settings) {
        std::vector<ZoneState> next;
        next.reserve(settings.size());
        for (std::size_t zi = 0; zi < settings.size(); ++zi) {
            ZoneState zone;
            zone.settings = std::move(settings[zi]);
            std::string error;
            dns::wire_from_text(zone.settings.origin, std::string(1, '\0'), zone.apex, error);
            zone.apex = dns::lowered(zone.apex);
            auto old = std::find_if(zones.begin(), zones.end(), [&](const ZoneState& z) {
                return z.settings.origin == zone.settings.origin;
            });
            const bool key_kept =
                old != zones.end() && same_key(old->settings.key, zone.settings.key);
            if (old != zones.end()) {
                zone.serial = old->serial;
                zone.soa = old->soa;
            }
            for (const util::Endpoint& endpoint : zone.settings.targets) {
                std::unique_ptr<Target> target;
                if (old != zones.end()) {
                    for (auto& kept : old->targets)
                        if (kept && kept->status.target == endpoint) target = std::move(kept);
                }
                if (!target) target = make_target(endpoint, zi);
                target->zone = zi;
                // The answer to a message signed with the old key could not be checked.
                if (!key_kept) end_flight(*target);
                zone.targets.push_back(std::move(target));
            }
            next.push_back(std::move(zone));
        }
        zones = std::move(next);
        for (ZoneState& zone : zones)
            for (auto& target : zone.targets)
                if (target->attempts.empty()) consider(*target);
    }
};

std::vector<NotifyZone> notify_zones(const config::Config& config) {
    std::vector<NotifyZone> out;
    for (const config::Zone& z : config.zones) {
        NotifyZone zone;
        zone.origin = z.origin;
        zone.gap = z.transfer.notify_gap;
        zone.retries = z.transfer.notify_retries;
        zone.retry_interval = z.transfer.notify_retry_interval;
        for (const config::Key& key : config.keys)
            if (key.name == z.transfer.notify_key) zone.key = tsig_key(key);
        auto add = [&zone](const util::Endpoint& endpoint) {
            if (std::find(zone.targets.begin(), zone.targets.end(), endpoint) == zone.targets.end())
                zone.targets.push_back(endpoint);
        };
        // A secondary that may not transfer the zone has no use for hearing that it changed.
        if (z.transfer.enabled()) {
            for (const util::Endpoint& endpoint : z.transfer.notify)
                add(endpoint);
            for (const config::NameServer& ns : z.ns) {
                if (!z.transfer.notify_ns || ns.name == z.soa.mname) continue;
                for (const util::IpAddress& address : ns.addresses) {
                    const util::Endpoint endpoint{address, 53};
                    if (std::find(config.server.listen.begin(), config.server.listen.end(),
                                  endpoint) == config.server.listen.end())
                        add(endpoint);
                }
            }
        }
        out.push_back(std::move(zone));
    }
    return out;
}

Notifier::Notifier(event_base* base, std::vector<util::Endpoint> listen)
    : impl_(std::make_unique<Impl>(base, std::move(listen))) {}

Notifier::~Notifier() = default;

void Notifier::configure(std::vector<NotifyZone> zones) {
    impl_->configure(std::move(zones));
}

void Notifier::serial_changed(std::size_t zone, std::uint32_t serial, std::string_view soa) {
    if (zone >= impl_->zones.size() || name_size(soa) == 0) return;
    ZoneState& state = impl_->zones[zone];
    state.serial = serial;
    state.soa = std::string(soa);
    for (auto& target : state.targets)
        impl_->consider(*target);
}

void Notifier::published(const zone::Snapshot& snapshot) {
    for (std::size_t zi = 0; zi < impl_->zones.size() && zi < snapshot.zones.size(); ++zi) {
        const zone::Zone& zone = snapshot.zones[zi];
        const ZoneState& state = impl_->zones[zi];
        if (!zone.image || zone.origin_text != state.settings.origin) continue;
        if (state.serial != zone.serial) serial_changed(zi, zone.serial, zone.image->soa);
    }
}

std::size_t Notifier::zones() const {
    return impl_->zones.size();
}

std::vector<TargetStatus> Notifier::status(std::size_t zone) const {
    std::vector<TargetStatus> out;
    if (zone >= impl_->zones.size()) return out;
    for (const auto& target : impl_->zones[zone].targets)
        out.push_back(target->status);
    return out;
}

}  // namespace nolb::transfer
