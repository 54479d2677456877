// Drains survive restarts in a small JSON file, {"drained": ["london", "www.example./paris"]},
// written whole to a temporary file and renamed over the old one so a crash never leaves half.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "nolbd/daemon_state.hpp"
#include "util/log.hpp"

namespace nolb::nolbd {

health::Drains read_drains(const std::string& path) {
    health::Drains drains;
    std::ifstream in(path);
    if (!in) {
        if (errno != ENOENT)
            log::warning("cannot read the state file; starting with no drains",
                         {{"file", path}, {"error", std::strerror(errno)}});
        return drains;
    }
    try {
        control::Json doc = control::Json::parse(in);
        for (const auto& node : doc.at("drained"))
            drains.nodes.insert(node.get<std::string>());
    } catch (const std::exception& e) {
        log::error("unreadable state file; starting with no drains",
                   {{"file", path}, {"error", e.what()}});
        return {};
    }
    if (!drains.nodes.empty())
        log::info("drains restored", {{"file", path}, {"count", drains.nodes.size()}});
    return drains;
}

void write_drains(const std::string& path, const health::Drains& drains) {
    const std::string temporary = path + ".tmp";
    {
        std::ofstream out(temporary, std::ios::trunc);
        if (!out)
            throw std::runtime_error("cannot write " + temporary + ": " + std::strerror(errno));
        control::Json doc = {{"drained", drains.nodes}};
        out << doc.dump(2) << '\n';
        out.flush();
        if (!out) throw std::runtime_error("cannot write " + temporary);
    }
    if (std::rename(temporary.c_str(), path.c_str()) != 0)
        throw std::runtime_error("cannot rename " + temporary + ": " + std::strerror(errno));
}

}  // namespace nolb::nolbd
