// The control documents as JSON objects, field for field under the names protocol.hpp lists.
// Decoding is strict; see encoding.hpp. Absent values (a probe not yet made, a time not known) are
// JSON null both ways.
#include "control/encoding.hpp"

#include <stdexcept>

namespace nolb::control {
namespace {

template <typename T>
Json or_null(const std::optional<T>& value) {
    return value ? Json(*value) : Json(nullptr);
}

template <typename T>
void optional_field(const Json& j, const char* key, std::optional<T>& out) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null())
        out.reset();
    else
        out = it->template get<T>();
}

template <typename T>
void field(const Json& j, const char* key, T& out) {
    j.at(key).get_to(out);
}

}  // namespace

void to_json(Json& j, const LastProbe& v) {
    j = {{"outcome", v.outcome},
         {"http_status", v.http_status},
         {"latency_ms", v.latency_ms},
         {"detail", v.detail},
         {"at", v.at}};
}

void to_json(Json& j, const AddressStatus& v) {
    j = {{"address", v.address},
         {"probe", v.probe},
         {"state", v.state},
         {"published", v.published},
         {"since", v.since},
         {"reason", v.reason},
         {"successes", v.successes},
         {"failures", v.failures},
         {"probes", v.probes},
         {"probe_failures", v.probe_failures},
         {"transitions", v.transitions},
         {"last", or_null(v.last)}};
}

void to_json(Json& j, const NodeStatus& v) {
    j = {{"name", v.name}, {"drained", v.drained}, {"addresses", v.addresses}};
}

void to_json(Json& j, const ServiceStatus& v) {
    j = {{"name", v.name},
         {"ttl", v.ttl},
         {"health", v.health},
         {"all_down", v.all_down},
         {"all_down_fired", v.all_down_fired},
         {"nodes", v.nodes}};
}

void to_json(Json& j, const SecondaryStatus& v) {
    j = {{"address", v.address},    {"last", v.last},          {"last_at", v.last_at},
         {"held", or_null(v.held)}, {"sent", or_null(v.sent)}, {"behind", v.behind},
         {"behind_s", v.behind_s}};
}

void to_json(Json& j, const NotifyStatus& v) {
    j = {{"target", v.target},
         {"sent", or_null(v.sent)},
         {"answered", or_null(v.answered)},
         {"sent_at", or_null(v.sent_at)},
         {"answered_at", or_null(v.answered_at)},
         {"rcode", or_null(v.rcode)},
         {"in_flight", v.in_flight},
         {"messages", v.messages},
         {"notifies_answered", v.notifies_answered},
         {"notifies_failed", v.notifies_failed}};
}

void to_json(Json& j, const ZoneStatus& v) {
    j = {{"origin", v.origin},
         {"serial", v.serial},
         {"secondaries", v.secondaries},
         {"notify", v.notify}};
}

void to_json(Json& j, const Status& v) {
    j = {{"services", v.services}, {"zones", v.zones}};
}

void to_json(Json& j, const DrainMatch& v) {
    j = {{"service", v.service}, {"node", v.node}};
}

void to_json(Json& j, const DrainResult& v) {
    j = {{"node", v.node},
         {"drained", v.drained},
         {"matched", v.matched},
         {"persisted", v.persisted},
         {"safe_at", or_null(v.safe_at)},
         {"safe_in_s", or_null(v.safe_in_s)}};
}

void to_json(Json& j, const ExplainAddress& v) {
    j = {{"node", v.node},
         {"address", v.address},
         {"family", v.family},
         {"included", v.included},
         {"reason", v.reason}};
}

void to_json(Json& j, const Explain& v) {
    j = {{"name", v.name},
         {"type", v.type},
         {"rcode", v.rcode},
         {"aa", v.aa},
         {"answer", v.answer},
         {"authority", v.authority},
         {"additional", v.additional},
         {"ttl", or_null(v.ttl)},
         {"ttl_source", v.ttl_source},
         {"service", or_null(v.service)},
         {"all_down_fired", v.all_down_fired},
         {"addresses", v.addresses}};
}

void to_json(Json& j, const ReloadResult& v) {
    j = {{"reloaded", v.reloaded}, {"problems", v.problems}};
}

void to_json(Json& j, const CheckService& v) {
    j = {{"name", v.name}, {"up", v.up}, {"total", v.total}};
}

void to_json(Json& j, const CheckSecondary& v) {
    j = {{"zone", v.zone}, {"address", v.address}, {"behind_s", v.behind_s}};
}

void to_json(Json& j, const Check& v) {
    j = {{"status", v.status}, {"services", v.services}, {"lagging", v.lagging}};
}

void to_json(Json& j, const Stats& v) {
    const QueryStats& q = v.queries;
    j = {{"generation", v.generation},
         {"uptime_s", v.uptime_s},
         {"queries",
          {{"total", q.total},
           {"dropped", q.dropped},
           {"truncated", q.truncated},
           {"by_type", q.by_type},
           {"by_rcode", q.by_rcode}}},
         {"probes",
          {{"sent", v.probes.sent},
           {"failed", v.probes.failed},
           {"late", v.probes.late},
           {"overlapped", v.probes.overlapped}}},
         {"transitions", v.transitions},
         {"publish",
          {{"last_ms", v.publish.last_ms},
           {"max_ms", v.publish.max_ms},
           {"changes", v.publish.changes},
           {"full_ms", v.publish.full_ms}}},
         {"tcp",
          {{"accepted", v.tcp.accepted},
           {"refused", v.tcp.refused},
           {"refused_per_client", v.tcp.refused_per_client},
           {"evicted", v.tcp.evicted},
           {"timed_out", v.tcp.timed_out},
           {"io_timed_out", v.tcp.io_timed_out}}},
         {"udp", {{"received", v.udp.received}, {"sent", v.udp.sent}, {"errors", v.udp.errors}}},
         {"rrl",
          {{"limited", v.rrl.limited}, {"slipped", v.rrl.slipped}, {"dropped", v.rrl.dropped}}},
         {"transfers",
          {{"axfr", v.transfers.axfr},
           {"ixfr", v.transfers.ixfr},
           {"up_to_date", v.transfers.up_to_date},
           {"refused", v.transfers.refused},
           {"not_zone", v.transfers.not_zone},
           {"tsig_errors", v.transfers.tsig_errors},
           {"signed_other", v.transfers.signed_other}}}};
}

void to_json(Json& j, const WatchEvent& v) {
    j = {{"event", "transition"}, {"at", v.at},     {"service", v.service}, {"node", v.node},
         {"address", v.address},  {"from", v.from}, {"to", v.to},           {"reason", v.reason}};
}

void from_json(const Json& j, LastProbe& v) {
    field(j, "outcome", v.outcome);
    // A probe that read no status line may say null rather than 0.
    v.http_status = j.at("http_status").is_null() ? 0 : j.at("http_status").get<int>();
    field(j, "latency_ms", v.latency_ms);
    field(j, "detail", v.detail);
    field(j, "at", v.at);
}

void from_json(const Json& j, AddressStatus& v) {
    field(j, "address", v.address);
    field(j, "probe", v.probe);
    field(j, "state", v.state);
    field(j, "published", v.published);
    field(j, "since", v.since);
    field(j, "reason", v.reason);
    field(j, "successes", v.successes);
    field(j, "failures", v.failures);
    field(j, "probes", v.probes);
    field(j, "probe_failures", v.probe_failures);
    field(j, "transitions", v.transitions);
    optional_field(j, "last", v.last);
}

void from_json(const Json& j, NodeStatus& v) {
    field(j, "name", v.name);
    field(j, "drained", v.drained);
    field(j, "addresses", v.addresses);
}

void from_json(const Json& j, ServiceStatus& v) {
    field(j, "name", v.name);
    field(j, "ttl", v.ttl);
    field(j, "health", v.health);
    field(j, "all_down", v.all_down);
    field(j, "all_down_fired", v.all_down_fired);
    field(j, "nodes", v.nodes);
}

void from_json(const Json& j, SecondaryStatus& v) {
    field(j, "address", v.address);
    field(j, "last", v.last);
    field(j, "last_at", v.last_at);
    optional_field(j, "held", v.held);
    optional_field(j, "sent", v.sent);
    field(j, "behind", v.behind);
    field(j, "behind_s", v.behind_s);
}

void from_json(const Json& j, NotifyStatus& v) {
    field(j, "target", v.target);
    optional_field(j, "sent", v.sent);
    optional_field(j, "answered", v.answered);
    optional_field(j, "sent_at", v.sent_at);
    optional_field(j, "answered_at", v.answered_at);
    optional_field(j, "rcode", v.rcode);
    field(j, "in_flight", v.in_flight);
    field(j, "messages", v.messages);
    field(j, "notifies_answered", v.notifies_answered);
    field(j, "notifies_failed", v.notifies_failed);
}

void from_json(const Json& j, ZoneStatus& v) {
    field(j, "origin", v.origin);
    field(j, "serial", v.serial);
    field(j, "secondaries", v.secondaries);
    field(j, "notify", v.notify);
}

void from_json(const Json& j, Status& v) {
    field(j, "services", v.services);
    field(j, "zones", v.zones);
}

void from_json(const Json& j, DrainMatch& v) {
    field(j, "service", v.service);
    field(j, "node", v.node);
}

void from_json(const Json& j, DrainResult& v) {
    field(j, "node", v.node);
    field(j, "drained", v.drained);
    field(j, "matched", v.matched);
    field(j, "persisted", v.persisted);
    optional_field(j, "safe_at", v.safe_at);
    optional_field(j, "safe_in_s", v.safe_in_s);
}

void from_json(const Json& j, ExplainAddress& v) {
    field(j, "node", v.node);
    field(j, "address", v.address);
    field(j, "family", v.family);
    field(j, "included", v.included);
    field(j, "reason", v.reason);
}

void from_json(const Json& j, Explain& v) {
    field(j, "name", v.name);
    field(j, "type", v.type);
    field(j, "rcode", v.rcode);
    field(j, "aa", v.aa);
    field(j, "answer", v.answer);
    field(j, "authority", v.authority);
    field(j, "additional", v.additional);
    optional_field(j, "ttl", v.ttl);
    field(j, "ttl_source", v.ttl_source);
    optional_field(j, "service", v.service);
    field(j, "all_down_fired", v.all_down_fired);
    field(j, "addresses", v.addresses);
}

void from_json(const Json& j, ReloadResult& v) {
    field(j, "reloaded", v.reloaded);
    field(j, "problems", v.problems);
}

void from_json(const Json& j, CheckService& v) {
    field(j, "name", v.name);
    field(j, "up", v.up);
    field(j, "total", v.total);
}

void from_json(const Json& j, CheckSecondary& v) {
    field(j, "zone", v.zone);
    field(j, "address", v.address);
    field(j, "behind_s", v.behind_s);
}

void from_json(const Json& j, Check& v) {
    field(j, "status", v.status);
    field(j, "services", v.services);
    field(j, "lagging", v.lagging);
}

void from_json(const Json& j, Stats& v) {
    field(j, "generation", v.generation);
    field(j, "uptime_s", v.uptime_s);
    const Json& q = j.at("queries");
    field(q, "total", v.queries.total);
    field(q, "dropped", v.queries.dropped);
    field(q, "truncated", v.queries.truncated);
    field(q, "by_type", v.queries.by_type);
    field(q, "by_rcode", v.queries.by_rcode);
    const Json& p = j.at("probes");
    field(p, "sent", v.probes.sent);
    field(p, "failed", v.probes.failed);
    field(p, "late", v.probes.late);
    field(p, "overlapped", v.probes.overlapped);
    field(j, "transitions", v.transitions);
    const Json& publish = j.at("publish");
    field(publish, "last_ms", v.publish.last_ms);
    field(publish, "max_ms", v.publish.max_ms);
    field(publish, "changes", v.publish.changes);
    field(publish, "full_ms", v.publish.full_ms);
    const Json& tcp = j.at("tcp");
    field(tcp, "accepted", v.tcp.accepted);
    field(tcp, "refused", v.tcp.refused);
    field(tcp, "refused_per_client", v.tcp.refused_per_client);
    field(tcp, "evicted", v.tcp.evicted);
    field(tcp, "timed_out", v.tcp.timed_out);
    field(tcp, "io_timed_out", v.tcp.io_timed_out);
    const Json& udp = j.at("udp");
    field(udp, "received", v.udp.received);
    field(udp, "sent", v.udp.sent);
    field(udp, "errors", v.udp.errors);
    const Json& rrl = j.at("rrl");
    field(rrl, "limited", v.rrl.limited);
    field(rrl, "slipped", v.rrl.slipped);
    field(rrl, "dropped", v.rrl.dropped);
    const Json& transfers = j.at("transfers");
    field(transfers, "axfr", v.transfers.axfr);
    field(transfers, "ixfr", v.transfers.ixfr);
    field(transfers, "up_to_date", v.transfers.up_to_date);
    field(transfers, "refused", v.transfers.refused);
    field(transfers, "not_zone", v.transfers.not_zone);
    field(transfers, "tsig_errors", v.transfers.tsig_errors);
    field(transfers, "signed_other", v.transfers.signed_other);
}

void from_json(const Json& j, WatchEvent& v) {
    if (j.at("event").get<std::string>() != "transition")
        throw std::invalid_argument("not a transition event");
    field(j, "at", v.at);
    field(j, "service", v.service);
    field(j, "node", v.node);
    field(j, "address", v.address);
    field(j, "from", v.from);
    field(j, "to", v.to);
    field(j, "reason", v.reason);
}

}  // namespace nolb::control
