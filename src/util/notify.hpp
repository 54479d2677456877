// Readiness and state reports to a service manager, in systemd's sd_notify protocol, without
// linking libsystemd: one datagram of "KEY=value" lines to the Unix socket named by
// $NOTIFY_SOCKET (an abstract socket when the name starts with '@'). Without that variable,
// as outside systemd or under another supervisor, every call does nothing.
//
// The socket is looked up on every call: reports come at start, reload and stop, never per
// packet, and nolbd starts no child that could inherit an open descriptor.
#pragma once

#include <string>
#include <string_view>

namespace nolb::util {

// Sends `state` ("READY=1\nSTATUS=serving") to $NOTIFY_SOCKET. Returns false when the variable
// is set but the datagram could not be sent (the caller may log it); true when sent or unset.
bool notify(std::string_view state);

// The reports nolbd makes, each with a STATUS= line a person reads in `systemctl status`.
bool notify_ready(std::string_view status);
bool notify_reloading(std::string_view status);  // RELOADING=1 with MONOTONIC_USEC, as systemd asks
bool notify_stopping(std::string_view status);
bool notify_status(std::string_view status);

// Whether $NOTIFY_SOCKET is set: a manager listens.
bool notify_socket_set();

}  // namespace nolb::util
