// nolbctl's side of the control socket: connect, send one request line, read reply lines, each
// step bounded by a deadline so a stuck daemon can never hang a shell script. Failing to reach
// the daemon is an Unreachable exception carrying the sentence to show.
#pragma once

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>

#include "control/protocol.hpp"

namespace nolb::nolbctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRefused = 1;      // the daemon said no
inline constexpr int kExitUnreachable = 3;  // no daemon, no permission, no reply
inline constexpr int kExitUsage = 64;       // a wrong command line (EX_USAGE)

class Unreachable : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Set from a signal handler; a blocked read returns early once it is set.
bool interrupted();
void catch_interrupts();  // SIGINT and SIGTERM set interrupted() instead of killing

class Client {
  public:
    using Duration = std::chrono::milliseconds;

    // Connects to the socket at `path`; throws Unreachable with an explanation.
    Client(std::string path, Duration timeout);
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // Sends `verb` and reads its reply, within `timeout` (the constructor's when unset).
    control::Reply request(control::Verb verb, const control::Json& args,
                           std::optional<Duration> timeout = std::nullopt);

    // The next line from the daemon (without its newline); nullopt when the daemon closed the
    // connection or interrupted() became true. No timeout when `timeout` is unset.
    std::optional<std::string> read_line(std::optional<Duration> timeout);

  private:
    void send_all(const std::string& data, std::chrono::steady_clock::time_point deadline);

    std::string path_;
    Duration timeout_;
    int fd_ = -1;
    std::string buffer_;  // bytes read past the last returned line
};

// "permission denied on PATH (run as root or a member of group G)".
std::string permission_message(const std::string& path);

}  // namespace nolb::nolbctl
