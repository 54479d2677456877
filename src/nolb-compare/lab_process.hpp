// The lab's child processes: each server it starts (a node, nolbd, HAProxy, nft) runs in a
// process group of its own with stdout and stderr in a log file, and is tracked by PID alone, so
// stopping the lab signals exactly what it started and nothing else. A Child reaps what it
// started: it never leaves a zombie, and its destructor stops a process still running.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nolb::compare {

class Child {
  public:
    Child() = default;
    // Starts argv[0] (a path) with stdout and stderr written to `log` (truncated first; stdout
    // to `output` instead when given) and stdin from /dev/null (or fed `input`, then closed).
    // Throws std::runtime_error when it cannot be started.
    static Child spawn(const std::vector<std::string>& argv, const std::filesystem::path& log,
                       const std::optional<std::string>& input = std::nullopt,
                       const std::filesystem::path& output = {});
    ~Child();
    Child(Child&& other) noexcept;
    Child& operator=(Child&& other) noexcept;
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    pid_t pid() const { return pid_; }
    bool running() const { return pid_ > 0 && !status_; }
    bool started() const { return pid_ > 0; }
    const std::filesystem::path& log() const { return log_; }
    // The wait status once reaped.
    std::optional<int> status() const { return status_; }

    // Reaps the process if it has exited; true when it has (now or before).
    bool poll();
    // Waits up to `bound` for it to exit on its own; true when it has.
    bool wait_for(std::chrono::milliseconds bound);
    // SIGKILL to its group, then reaps it.
    void kill_now();
    // SIGTERM to its group; after `grace` SIGKILL; reaps it.
    void terminate(std::chrono::milliseconds grace);
    // SIGTERM to the group only; stop_all() and terminate() finish the job.
    void signal_term();

  private:
    pid_t pid_ = -1;
    std::optional<int> status_;
    std::filesystem::path log_;
};

// SIGTERM to every running child, up to `grace` for all of them together, then SIGKILL to the
// rest; every one is reaped on return.
void stop_all(const std::vector<Child*>& children, std::chrono::milliseconds grace);

// "exit status 3", "killed by signal 9".
std::string describe_status(int wait_status);
// The last `lines` lines of a log (at most a few KiB), for error messages.
std::string log_tail(const std::filesystem::path& log, std::size_t lines = 15);
// utime + stime of a process from /proc/<pid>/stat, in seconds; nullopt when it is gone.
std::optional<double> process_cpu_seconds(pid_t pid);

// A process's memory from /proc/<pid>/status: resident now (VmRSS) and at its peak (VmHWM).
struct ProcessMemory {
    std::uint64_t rss_kb = 0;
    std::uint64_t hwm_kb = 0;
};
std::optional<ProcessMemory> process_memory(pid_t pid);  // nullopt when it is gone
// One "Field:  1234 kB" line of a /proc/<pid>/status text, in kB; nullopt when absent.
std::optional<std::uint64_t> status_kb(std::string_view status, std::string_view field);

}  // namespace nolb::compare
