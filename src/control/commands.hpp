// What each verb does on the daemon's side: check the request's arguments and call the matching
// Backend function. The socket server calls this for every verb but `watch`, which holds the
// connection open and so belongs to the server itself.
#pragma once

#include <string>

#include "control/protocol.hpp"

namespace nolb::control {

// The reply line for `request`. Bad arguments and exceptions from the backend become error
// replies; nothing thrown escapes.
std::string execute(Backend& backend, const Request& request);

}  // namespace nolb::control
