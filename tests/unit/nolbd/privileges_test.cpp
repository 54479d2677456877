// What nolbd plans to become, decided from the configured names and the uid it runs with,
// without switching anyone: root must name a user (the error names the key to set), names
// resolve through the system's user database, a missing user or group is an error naming its
// key, "root" keeps root, and a daemon that is not root ignores names it cannot become. Also
// the -u USER[:GROUP] syntax, and giving up capabilities on a thread of the test's own.
#include "nolbd/privileges.hpp"

#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>
#include <thread>

namespace nolb::nolbd {
namespace {

config::Server names(const std::string& user, const std::string& group = "") {
    config::Server server;
    server.user = user;
    server.group = group;
    return server;
}

// The first problem of the config::Error plan_privileges throws, or "(no error)".
std::string refusal(const config::Server& server, const std::string& where, uid_t euid) {
    try {
        plan_privileges(server, where, euid);
    } catch (const config::Error& e) {
        return e.problems().empty() ? e.what() : e.problems()[0];
    }
    return "(no error)";
}

constexpr uid_t kRoot = 0;
// Every Linux system has these: uid and gid 65534.
const std::string kNobody = "nobody";
const std::string kNogroup = "nogroup";

TEST(PlanPrivileges, RootMustNameAUser) {
    const std::string problem = refusal(names(""), "/etc/nolb/nolb.toml", kRoot);
    EXPECT_EQ(problem.rfind("/etc/nolb/nolb.toml: server.user: nolbd was started as root", 0), 0u)
        << problem;
}

TEST(PlanPrivileges, RootSwitchesToTheNamedUserAndItsGroup) {
    PrivilegePlan plan = plan_privileges(names(kNobody), "nolb.toml", kRoot);
    EXPECT_EQ(plan.action, PrivilegePlan::Action::switch_user);
    EXPECT_EQ(plan.user, kNobody);
    EXPECT_EQ(plan.uid, 65534u);
    EXPECT_EQ(plan.gid, 65534u);  // nobody's primary group
    EXPECT_EQ(plan.ignored, "");

    plan = plan_privileges(names(kNobody, "daemon"), "nolb.toml", kRoot);
    EXPECT_EQ(plan.action, PrivilegePlan::Action::switch_user);
    EXPECT_EQ(plan.uid, 65534u);
    EXPECT_EQ(plan.gid, 1u);  // the named group wins
    EXPECT_EQ(plan.group, "daemon");
}

TEST(PlanPrivileges, RootKeepsRootOnlyWhenTold) {
    const PrivilegePlan plan = plan_privileges(names("root"), "nolb.toml", kRoot);
    EXPECT_EQ(plan.action, PrivilegePlan::Action::keep_root);
    EXPECT_EQ(plan.uid, 0u);
}

TEST(PlanPrivileges, MissingNamesAreErrorsNamingTheirKey) {
    EXPECT_EQ(refusal(names("no-such-user-nolb"), "nolb.toml", kRoot),
              "nolb.toml: server.user: no user \"no-such-user-nolb\" on this system (create it, "
              "e.g. with contrib/nolb.sysusers.conf)");
    EXPECT_EQ(refusal(names(kNobody, "no-such-group-nolb"), "nolb.toml", kRoot),
              "nolb.toml: server.group: no group \"no-such-group-nolb\" on this system");
    // Names from the command line are the command line's fault.
    EXPECT_EQ(refusal(names("no-such-user-nolb"), "--user", kRoot).rfind("--user: no user", 0), 0u);
    EXPECT_EQ(refusal(names(""), "--user", kRoot).rfind("--user: nolbd was started as root", 0),
              0u);
}

TEST(PlanPrivileges, NotRootStaysAndIgnoresOthersNames) {
    const uid_t someone = 4242;  // no such user: nolbd cannot become anyone else anyway
    PrivilegePlan plan = plan_privileges(names(""), "nolb.toml", someone);
    EXPECT_EQ(plan.action, PrivilegePlan::Action::stay);
    EXPECT_EQ(plan.uid, someone);
    EXPECT_EQ(plan.gid, getegid());
    EXPECT_EQ(plan.ignored, "");

    plan = plan_privileges(names(kNobody, kNogroup), "nolb.toml", someone);
    EXPECT_EQ(plan.action, PrivilegePlan::Action::stay);
    EXPECT_EQ(plan.ignored,
              "nolb.toml: server.user = \"nobody\", nolb.toml: server.group = "
              "\"nogroup\"");

    // A missing user is no error when nolbd could not switch anyway.
    plan = plan_privileges(names("no-such-user-nolb"), "--user", someone);
    EXPECT_EQ(plan.action, PrivilegePlan::Action::stay);
    EXPECT_EQ(plan.ignored, "--user = \"no-such-user-nolb\"");
}

TEST(PlanPrivileges, NamingTheUserNolbdAlreadyIsIsNothingToIgnore) {
    // systemd's User=nobody with user = "nobody" in the file.
    const PrivilegePlan plan = plan_privileges(names(kNobody), "nolb.toml", 65534);
    EXPECT_EQ(plan.action, PrivilegePlan::Action::stay);
    EXPECT_EQ(plan.ignored, "");
}

TEST(ParseUserOverride, UserAndOptionalGroup) {
    UserOverride out;
    ASSERT_TRUE(parse_user_override("nolb", out));
    EXPECT_EQ(out.user, "nolb");
    EXPECT_EQ(out.group, "");
    ASSERT_TRUE(parse_user_override("nolb:daemon", out));
    EXPECT_EQ(out.user, "nolb");
    EXPECT_EQ(out.group, "daemon");
    for (const char* bad : {"", ":daemon", "nolb:", "nolb:a:b"})
        EXPECT_FALSE(parse_user_override(bad, out)) << bad;
}

// Capabilities belong to a thread: give them up on one of the test's own, and look there.
TEST(DropPrivileges, NotRootGivesUpEveryCapability) {
    bool none_left = false;
    std::string error;
    std::thread([&] {
        try {
            drop_privileges(PrivilegePlan{});  // stay
            __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
            __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
            if (syscall(SYS_capget, &header, data) != 0) throw std::runtime_error("capget");
            none_left = true;
            for (const auto& d : data)
                none_left = none_left && d.effective == 0 && d.permitted == 0 && d.inheritable == 0;
        } catch (const std::exception& e) {
            error = e.what();
        }
    }).join();
    EXPECT_EQ(error, "");
    EXPECT_TRUE(none_left);
}

}  // namespace
}  // namespace nolb::nolbd
