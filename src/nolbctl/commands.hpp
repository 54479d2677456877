// What nolbctl does once its command line is parsed: find the socket, send the verb, show the
// result and turn it into an exit status (0 ok, 1 the daemon said no, check's own 0/1/2,
// 3 the daemon cannot be reached).
#pragma once

#include <string>
#include <string_view>

#include "control/protocol.hpp"

namespace nolb::nolbctl {

struct Options {
    std::string socket;       // --socket; wins over the config file's
    std::string config_path;  // --config: read [control] socket from it
    bool json = false;        // print the raw result document
    double timeout_s = 5;     // for connecting and for each reply
    control::Verb verb = control::Verb::status;
    std::string service;  // status
    std::string node;     // drain, undrain
    bool wait = false;    // drain: wait until it is safe to stop the node
    std::string name;     // explain
    std::string type = "A";
};

// Where an argument of a verb (control::kVerbs) lands in `options`: `text` for a positional one,
// `flag` for a --flag; both null for a name nolbctl does not know.
struct ArgumentTarget {
    std::string* text = nullptr;
    bool* flag = nullptr;
};
ArgumentTarget argument_target(Options& options, std::string_view argument);

// --socket, else the config file's control.socket, else the default path. Throws Unreachable.
std::string socket_path(const Options& options);

int run(const Options& options);

}  // namespace nolb::nolbctl
