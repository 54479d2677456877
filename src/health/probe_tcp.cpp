// The TCP probe: the address is healthy when it accepts a connection within the timeout.
// Nothing is sent; the connection is reset as soon as it is made.
#include "health/probe_socket.hpp"

namespace nolb::health {

namespace {

class TcpProbe final : public SocketProbe {
  public:
    using SocketProbe::SocketProbe;

  private:
    void connected() override {
        ProbeResult result;
        result.detail = "connected";
        finish(std::move(result));
    }
    void ready(short) override {}  // never waits once connected
    std::string timeout_detail() const override { return "timeout after " + timeout_ms(); }
};

}  // namespace

std::unique_ptr<Probe> start_tcp_probe(event_base* base, std::shared_ptr<const ProbeSpec> spec,
                                       ProbeDone done) {
    auto probe = std::make_unique<TcpProbe>(base, std::move(spec), std::move(done));
    probe->start();
    return probe;
}

}  // namespace nolb::health
