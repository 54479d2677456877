// Names become ids at start, through the system's user database (getpwnam_r, getgrnam_r, so
// NSS sources count), and the switch happens once, in the order that leaves no way back:
// supplementary groups, then the group, then the user (a process that is no longer root could
// not change its groups), all three of real, effective and saved ids.
#include "nolbd/privileges.hpp"

#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace nolb::nolbd {
namespace {

std::string quoted(const std::string& text) {
    return "\"" + text + "\"";
}

std::size_t initial_buffer(int name) {
    const long size = sysconf(name);
    return size > 0 ? static_cast<std::size_t>(size) : 16'384;
}

// The user database's answer for a name: found, missing (nullopt ids), or a lookup error
// (an NSS source down), which is worth telling apart from "no such user".
struct Found {
    bool exists = false;
    uid_t uid = 0;
    gid_t gid = 0;
    int error = 0;
};

Found find_user(const std::string& name) {
    std::vector<char> buffer(initial_buffer(_SC_GETPW_R_SIZE_MAX));
    for (int attempt = 0; attempt < 8; ++attempt) {
        passwd entry{};
        passwd* result = nullptr;
        const int error = getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &result);
        if (error == ERANGE) {
            buffer.resize(buffer.size() * 2);
            continue;
        }
        if (error != 0 && error != ENOENT) return {.error = error};
        if (result == nullptr) return {};
        return {.exists = true, .uid = entry.pw_uid, .gid = entry.pw_gid};
    }
    return {.error = ERANGE};
}

Found find_group(const std::string& name) {
    std::vector<char> buffer(initial_buffer(_SC_GETGR_R_SIZE_MAX));
    for (int attempt = 0; attempt < 8; ++attempt) {
        group entry{};
        group* result = nullptr;
        const int error = getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &result);
        if (error == ERANGE) {
            buffer.resize(buffer.size() * 2);
            continue;
        }
        if (error != 0 && error != ENOENT) return {.error = error};
        if (result == nullptr) return {};
        return {.exists = true, .gid = entry.gr_gid};
    }
    return {.error = ERANGE};
}

[[noreturn]] void refuse(const std::string& problem) {
    throw config::Error({problem});
}

void check_found(const Found& found, const std::string& where, const char* kind,
                 const std::string& name) {
    if (found.error != 0)
        refuse(where + ": cannot look up the " + kind + " " + quoted(name) + ": " +
               std::strerror(found.error));
    if (!found.exists)
        refuse(where + ": no " + kind + " " + quoted(name) + " on this system" +
               (std::string(kind) == "user" ? " (create it, e.g. with contrib/nolb.sysusers.conf)"
                                            : ""));
}

// Gives up every capability (effective, permitted, inheritable and ambient) of a process that
// is not root: what systemd's AmbientCapabilities= handed over for binding port 53.
void drop_capabilities() {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
    if (syscall(SYS_capget, &header, data) != 0)
        throw std::runtime_error(std::string("cannot read capabilities: ") + std::strerror(errno));
    bool any = false;
    for (const auto& d : data)
        any = any || d.effective != 0 || d.permitted != 0 || d.inheritable != 0;
    // Ambient capabilities are a subset of permitted and inheritable ones, so none is left
    // once those are gone; clearing them first keeps the kernel from refusing the capset.
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    if (!any) return;
    __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3]{};
    if (syscall(SYS_capset, &header, none) != 0)
        throw std::runtime_error(std::string("cannot give up capabilities: ") +
                                 std::strerror(errno));
}

void switch_user(const PrivilegePlan& plan) {
    const std::string who = "user " + plan.user + " (uid " + std::to_string(plan.uid) + ", gid " +
                            std::to_string(plan.gid) + ")";
    if (setgroups(0, nullptr) != 0)
        throw std::runtime_error("cannot clear supplementary groups: " +
                                 std::string(std::strerror(errno)));
    if (setresgid(plan.gid, plan.gid, plan.gid) != 0)
        throw std::runtime_error("cannot switch to " + who +
                                 ": setresgid: " + std::strerror(errno));
    if (setresuid(plan.uid, plan.uid, plan.uid) != 0)
        throw std::runtime_error("cannot switch to " + who +
                                 ": setresuid: " + std::strerror(errno));
    // A switch that left a saved root id behind would be undone by any code that asks.
    if (setuid(0) == 0 || geteuid() != plan.uid || getegid() != plan.gid)
        throw std::runtime_error("switched to " + who + " but root can still be regained");
}

}  // namespace

bool parse_user_override(std::string_view text, UserOverride& out) {
    const std::size_t colon = text.find(':');
    const std::string_view user = text.substr(0, colon);
    const std::string_view group =
        colon == std::string_view::npos ? std::string_view() : text.substr(colon + 1);
    if (user.empty() || group.find(':') != std::string_view::npos) return false;
    if (colon != std::string_view::npos && group.empty()) return false;
    out.user = user;
    out.group = group;
    return true;
}

PrivilegePlan plan_privileges(const config::Server& server, const std::string& where, uid_t euid) {
    PrivilegePlan plan;
    plan.user = server.user;
    plan.group = server.group;
    const std::string user_key = where == "--user" ? where : where + ": server.user";
    const std::string group_key = where == "--user" ? where : where + ": server.group";

    if (euid != 0) {
        plan.action = PrivilegePlan::Action::stay;
        plan.uid = euid;
        plan.gid = getegid();
        // Naming the user nolbd already runs as (systemd's User=) is fine; anyone else cannot
        // be reached without root.
        const Found user = server.user.empty() ? Found{} : find_user(server.user);
        const Found group = server.group.empty() ? Found{} : find_group(server.group);
        const bool other_user = !server.user.empty() && !(user.exists && user.uid == euid);
        const bool other_group = !server.group.empty() && !(group.exists && group.gid == plan.gid);
        if (other_user || other_group)
            plan.ignored = std::string(other_user ? user_key + " = " + quoted(server.user) : "") +
                           (other_user && other_group ? ", " : "") +
                           (other_group ? group_key + " = " + quoted(server.group) : "");
        return plan;
    }

    if (server.user.empty())
        refuse(user_key +
               ": nolbd was started as root and no user to run as is set: set user = \"nolb\" "
               "(or another unprivileged user) under [server] to run as it once the sockets "
               "are open, or user = \"root\" to keep root (not advised); nolbd -u USER "
               "overrides it");
    const Found user = find_user(server.user);
    check_found(user, user_key, "user", server.user);
    plan.uid = user.uid;
    plan.gid = user.gid;
    if (!server.group.empty()) {
        const Found group = find_group(server.group);
        check_found(group, group_key, "group", server.group);
        plan.gid = group.gid;
    }
    plan.action =
        plan.uid == 0 ? PrivilegePlan::Action::keep_root : PrivilegePlan::Action::switch_user;
    return plan;
}

void drop_privileges(const PrivilegePlan& plan) {
    switch (plan.action) {
        case PrivilegePlan::Action::switch_user:
            switch_user(plan);
            return;
        case PrivilegePlan::Action::keep_root:
            return;
        case PrivilegePlan::Action::stay:
            drop_capabilities();
            return;
    }
}

}  // namespace nolb::nolbd
