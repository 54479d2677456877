// The TCP probe: the address is healthy when it accepts a connection within the timeout.
// Nothing is sent; the connection is reset as soon as it is made. Where the handshake is over
// by the time connect() returns (loopback, a fast link), asking connect() again says so, and the
// probe never registers its socket with the loop.
#include <sys/socket.h>

#include <cerrno>

#include "health/probe_socket.hpp"

namespace nolb::health {

namespace {

class TcpProbe final : public SocketProbe {
  public:
    using SocketProbe::SocketProbe;

  private:
    void issued() override {
        const int state = connection_state();
        if (state > 0) {
            connected();
        } else if (state < 0) {
            finish(socket_failure(-state));
        }
    }

    // The first readiness is the end of the handshake, made or failed.
    void ready(short) override {
        int error = 0;
        socklen_t size = sizeof error;
        if (::getsockopt(fd(), SOL_SOCKET, SO_ERROR, &error, &size) != 0) error = errno;
        if (error != 0) {
            finish(socket_failure(error));
            return;
        }
        connected();
    }

    // At the deadline: a handshake that ended in time, made or failed, decides.
    void last_look() override { issued(); }

    void connected() {
        ProbeResult result;
        result.detail = "connected";
        finish(std::move(result));
    }

    std::string timeout_detail() const override {
        return "timeout: no connection after " + timeout_ms();
    }
};

}  // namespace

std::unique_ptr<Probe> start_tcp_probe(event_base* base, std::shared_ptr<const ProbeSpec> spec,
                                       ProbeDone done) {
    auto probe = std::make_unique<TcpProbe>(base, std::move(spec), std::move(done));
    probe->start();
    return probe;
}

}  // namespace nolb::health
