// The control documents (control/documents.hpp) as JSON, the one encoding of the control socket:
// the daemon encodes at the socket (control/commands.cpp, control/server.cpp) and nolbctl
// decodes what it reads there. These are nlohmann's to_json/from_json hooks, so `Json(status)`
// and `json.get<Status>()` work. Decoding is strict: a field missing or of the wrong type
// throws (Json::exception, std::invalid_argument), which nolbctl reports as a malformed reply.
#pragma once

#include "control/documents.hpp"
#include "control/protocol.hpp"

namespace nolb::control {

void to_json(Json& j, const LastProbe& v);
void to_json(Json& j, const AddressStatus& v);
void to_json(Json& j, const NodeStatus& v);
void to_json(Json& j, const ServiceStatus& v);
void to_json(Json& j, const Status& v);
void to_json(Json& j, const DrainMatch& v);
void to_json(Json& j, const DrainResult& v);
void to_json(Json& j, const ExplainAddress& v);
void to_json(Json& j, const Explain& v);
void to_json(Json& j, const ReloadResult& v);
void to_json(Json& j, const CheckService& v);
void to_json(Json& j, const Check& v);
void to_json(Json& j, const Stats& v);
void to_json(Json& j, const WatchEvent& v);  // {"event": "transition", ...}

void from_json(const Json& j, LastProbe& v);
void from_json(const Json& j, AddressStatus& v);
void from_json(const Json& j, NodeStatus& v);
void from_json(const Json& j, ServiceStatus& v);
void from_json(const Json& j, Status& v);
void from_json(const Json& j, DrainMatch& v);
void from_json(const Json& j, DrainResult& v);
void from_json(const Json& j, ExplainAddress& v);
void from_json(const Json& j, Explain& v);
void from_json(const Json& j, ReloadResult& v);
void from_json(const Json& j, CheckService& v);
void from_json(const Json& j, Check& v);
void from_json(const Json& j, Stats& v);
void from_json(const Json& j, WatchEvent& v);  // throws unless "event" is "transition"

}  // namespace nolb::control
