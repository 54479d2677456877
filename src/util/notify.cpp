// sd_notify's wire format is a single datagram; the address is a filesystem path, or an
// abstract name written with a leading '@' that stands for the NUL byte on the wire.
#include "util/notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace nolb::util {
namespace {

std::string status_line(std::string_view status) {
    std::string line = "STATUS=";
    // One line: a newline would start a field systemd would try to read.
    for (char c : status)
        line += c == '\n' ? ' ' : c;
    return line;
}

std::uint64_t monotonic_usec() {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000u +
           static_cast<std::uint64_t>(now.tv_nsec) / 1'000u;
}

}  // namespace

bool notify_socket_set() {
    const char* name = std::getenv("NOTIFY_SOCKET");
    return name != nullptr && name[0] != '\0';
}

bool notify(std::string_view state) {
    const char* name = std::getenv("NOTIFY_SOCKET");
    if (name == nullptr || name[0] == '\0') return true;
    const std::size_t length = std::strlen(name);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if ((name[0] != '/' && name[0] != '@') || length >= sizeof address.sun_path) return false;
    std::memcpy(address.sun_path, name, length);
    if (name[0] == '@') address.sun_path[0] = '\0';
    const auto address_length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + length);

    const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    ssize_t sent = -1;
    do {
        sent = sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                      reinterpret_cast<const sockaddr*>(&address), address_length);
    } while (sent < 0 && errno == EINTR);
    close(fd);
    return sent == static_cast<ssize_t>(state.size());
}

bool notify_ready(std::string_view status) {
    return notify("READY=1\n" + status_line(status));
}

bool notify_reloading(std::string_view status) {
    return notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_usec()) + "\n" +
                  status_line(status));
}

bool notify_stopping(std::string_view status) {
    return notify("STOPPING=1\n" + status_line(status));
}

bool notify_status(std::string_view status) {
    return notify(status_line(status));
}

}  // namespace nolb::util
