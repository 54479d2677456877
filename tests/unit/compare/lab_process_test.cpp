// Child processes as the lab runs them, with /bin/sh as the child: output lands in the log, the
// child leads its own process group (so a signal to the group reaches what it starts), stdin can
// be fed, a process that ignores SIGTERM is killed after the grace period, everything is reaped,
// and CPU time is read from /proc.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "nolb-compare/lab_process.hpp"

namespace nolb::compare {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

class CompareLabProcess : public ::testing::Test {
  protected:
    void SetUp() override {
        char templ[] = "/tmp/nolb-lab-process-XXXXXX";
        ASSERT_NE(::mkdtemp(templ), nullptr);
        dir_ = templ;
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    std::string read(const fs::path& p) {
        std::ifstream in(p);
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }
    fs::path dir_;
};

TEST_F(CompareLabProcess, OutputGoesToTheLogAndTheStatusIsKept) {
    Child c = Child::spawn({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}, dir_ / "a.log");
    EXPECT_GT(c.pid(), 0);
    ASSERT_TRUE(c.wait_for(5s));
    EXPECT_FALSE(c.running());
    ASSERT_TRUE(c.status());
    EXPECT_EQ(describe_status(*c.status()), "exit status 3");
    EXPECT_EQ(read(dir_ / "a.log"), "out\nerr\n");
    EXPECT_EQ(log_tail(dir_ / "a.log", 1), "err");
    EXPECT_EQ(log_tail(dir_ / "a.log"), "out\nerr");
}

TEST_F(CompareLabProcess, StdinIsFedThenClosed) {
    Child c = Child::spawn({"/bin/cat"}, dir_ / "cat.log", std::string("line one\nline two\n"));
    ASSERT_TRUE(c.wait_for(5s));
    EXPECT_EQ(*c.status(), 0);
    EXPECT_EQ(read(dir_ / "cat.log"), "line one\nline two\n");
}

TEST_F(CompareLabProcess, EachChildLeadsItsOwnGroup) {
    Child c = Child::spawn({"/bin/sleep", "30"}, dir_ / "sleep.log");
    EXPECT_EQ(::getpgid(c.pid()), c.pid());
    EXPECT_NE(::getpgid(c.pid()), ::getpgrp());
    EXPECT_FALSE(c.poll());
    c.terminate(2000ms);
    ASSERT_TRUE(c.status());
    EXPECT_EQ(describe_status(*c.status()), "killed by signal 15");
    EXPECT_EQ(::kill(c.pid(), 0), -1);
}

TEST_F(CompareLabProcess, IgnoringSigtermEndsInSigkillAfterTheGrace) {
    Child c = Child::spawn({"/bin/sh", "-c", "trap '' TERM; echo ready; sleep 30 & wait"},
                           dir_ / "ignores-term.log");
    // Wait until the trap is in place.
    for (int i = 0; i < 400 && read(dir_ / "ignores-term.log").empty(); ++i)
        std::this_thread::sleep_for(5ms);
    const auto started = Clock::now();
    std::vector<Child*> all{&c};
    stop_all(all, 300ms);
    const auto took = Clock::now() - started;
    EXPECT_GE(took, 250ms);
    EXPECT_LT(took, 5s);
    ASSERT_TRUE(c.status());
    EXPECT_EQ(describe_status(*c.status()), "killed by signal 9");
}

TEST_F(CompareLabProcess, KillNowReapsAndTheDestructorStopsARunningChild) {
    pid_t first = 0, second = 0;
    {
        Child a = Child::spawn({"/bin/sleep", "30"}, dir_ / "a.log");
        Child b = Child::spawn({"/bin/sleep", "30"}, dir_ / "b.log");
        first = a.pid();
        second = b.pid();
        a.kill_now();
        EXPECT_EQ(describe_status(*a.status()), "killed by signal 9");
        errno = 0;
        EXPECT_EQ(::waitpid(first, nullptr, WNOHANG), -1);  // already reaped
        EXPECT_EQ(errno, ECHILD);
    }
    EXPECT_EQ(::kill(second, 0), -1);
    EXPECT_EQ(::waitpid(second, nullptr, WNOHANG), -1);
}

TEST_F(CompareLabProcess, MissingProgramThrows) {
    EXPECT_THROW(Child::spawn({"/nonexistent/program"}, dir_ / "x.log"), std::runtime_error);
    EXPECT_THROW(Child::spawn({"/bin/true"}, dir_ / "no" / "such" / "x.log"), std::runtime_error);
}

TEST_F(CompareLabProcess, CpuSecondsGrowWithWork) {
    Child c = Child::spawn({"/bin/sh", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done"},
                           dir_ / "busy.log");
    auto before = process_cpu_seconds(c.pid());
    ASSERT_TRUE(before);
    std::optional<double> last = before;
    for (int i = 0; i < 200 && !c.poll(); ++i) {
        if (auto now = process_cpu_seconds(c.pid())) last = now;
        std::this_thread::sleep_for(20ms);
    }
    EXPECT_GT(*last, *before);
    c.kill_now();
    EXPECT_FALSE(process_cpu_seconds(c.pid()));
    EXPECT_FALSE(process_cpu_seconds(-1));
}

TEST_F(CompareLabProcess, StatusFieldsInKilobytes) {
    const std::string status =
        "Name:\tsleep\nVmPeak:\t    8000 kB\nVmHWM:\t     912 kB\nVmRSS:\t     904 kB\n"
        "Threads:\t1\n";
    EXPECT_EQ(status_kb(status, "VmRSS"), 904u);
    EXPECT_EQ(status_kb(status, "VmHWM"), 912u);
    EXPECT_FALSE(status_kb(status, "VmSwap"));
    EXPECT_FALSE(status_kb(status, "Threads"));  // no unit: not a size
    EXPECT_FALSE(status_kb(status, "Vm"));       // a prefix of a field is not the field
    EXPECT_FALSE(status_kb("", "VmRSS"));
}

TEST_F(CompareLabProcess, MemoryOfARunningChildAndNoneOnceGone) {
    Child c = Child::spawn({"/bin/sleep", "10"}, dir_ / "sleep.log");
    auto memory = process_memory(c.pid());
    ASSERT_TRUE(memory);
    EXPECT_GT(memory->rss_kb, 0u);
    EXPECT_GE(memory->hwm_kb, memory->rss_kb);
    c.kill_now();
    EXPECT_FALSE(process_memory(c.pid()));
    EXPECT_FALSE(process_memory(-1));
}

}  // namespace
}  // namespace nolb::compare
