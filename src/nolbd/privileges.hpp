// Least privilege. Started as root, nolbd opens what needs root (DNS sockets on port 53, the
// control socket under /run) and then becomes an ordinary user, with no supplementary groups
// and no capabilities, before it reads anything untrusted: probe responses and DNS queries.
// Root is kept only when the configuration says user = "root". Started as another user (as
// systemd's User= does), nolbd cannot switch; it gives up any capabilities it was handed once
// its sockets are open.
//
// Planning (names to ids) happens at start, so that a missing user is a configuration error
// before anything is opened; dropping happens in Daemon::serve, after the sockets.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "config/config.hpp"

namespace nolb::nolbd {

// `-u USER[:GROUP]` from the command line: replaces server.user and server.group.
struct UserOverride {
    std::string user;
    std::string group;
};
// Splits "USER[:GROUP]"; false when USER is empty or the text has a second ':'.
bool parse_user_override(std::string_view text, UserOverride& out);

struct PrivilegePlan {
    enum class Action {
        switch_user,  // root, told to become `user`
        keep_root,    // root, told user = "root"
        stay,         // not root: nothing to switch, capabilities to give up
    };
    Action action = Action::stay;
    std::string user, group;  // as named, for logs
    uid_t uid = 0;
    gid_t gid = 0;
    // Set when not root and the configuration names someone else: logged, then ignored.
    std::string ignored;
};

// Resolves the user and group nolbd is to run as. `where` is the source of the names, for
// messages: the config file (they then name server.user or server.group), or "--user"; `euid`
// is the effective uid nolbd runs with.
// Throws config::Error for a missing user or group, or for root with no user named.
PrivilegePlan plan_privileges(const config::Server& server, const std::string& where, uid_t euid);

// Once every socket is open: switches user (supplementary groups cleared, then the group, then
// the user, and checks that root cannot be regained), or, when not root, gives up every
// capability. Throws std::runtime_error when the switch fails; nolbd must then not go on.
void drop_privileges(const PrivilegePlan& plan);

}  // namespace nolb::nolbd
