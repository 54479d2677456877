// Drain keys as text, and the state file that keeps them across restarts. The file lists the
// drains as text sorted as text, as it always has, so files written by any nolbd read back the
// same.
#include "health/drains.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "util/log.hpp"

namespace nolb::health {

DrainKey parse_drain_key(std::string_view text) {
    const std::size_t slash = text.rfind('/');
    if (slash == std::string_view::npos) return {std::nullopt, std::string(text)};
    return {std::string(text.substr(0, slash)), std::string(text.substr(slash + 1))};
}

std::string format_drain_key(const DrainKey& key) {
    return key.service ? *key.service + "/" + key.node : key.node;
}

bool Drains::drained(const std::string& service_name, const std::string& node_name) const {
    if (keys.empty()) return false;
    return keys.count({std::nullopt, node_name}) || keys.count({service_name, node_name});
}

Drains drains_from(const std::vector<std::string>& texts) {
    Drains drains;
    for (const std::string& text : texts)
        drains.keys.insert(parse_drain_key(text));
    return drains;
}

std::vector<std::string> drain_texts(const Drains& drains) {
    std::vector<std::string> texts;
    for (const DrainKey& key : drains.keys)
        texts.push_back(format_drain_key(key));
    std::sort(texts.begin(), texts.end());
    return texts;
}

Drains read_drains(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        if (errno != ENOENT)
            log::warning("cannot read the state file; starting with no drains",
                         {{"file", path}, {"error", std::strerror(errno)}});
        return {};
    }
    Drains drains;
    try {
        const nlohmann::json doc = nlohmann::json::parse(in);
        drains = drains_from(doc.at("drained").get<std::vector<std::string>>());
    } catch (const std::exception& e) {
        log::error("unreadable state file; starting with no drains",
                   {{"file", path}, {"error", e.what()}});
        return {};
    }
    if (!drains.keys.empty())
        log::info("drains restored", {{"file", path}, {"count", drains.keys.size()}});
    return drains;
}

void write_drains(const std::string& path, const Drains& drains) {
    const std::string temporary = path + ".tmp";
    {
        std::ofstream out(temporary, std::ios::trunc);
        if (!out)
            throw std::runtime_error("cannot write " + temporary + ": " + std::strerror(errno));
        const nlohmann::json doc = {{"drained", drain_texts(drains)}};
        out << doc.dump(2) << '\n';
        out.flush();
        if (!out) throw std::runtime_error("cannot write " + temporary);
    }
    if (std::rename(temporary.c_str(), path.c_str()) != 0)
        throw std::runtime_error("cannot rename " + temporary + ": " + std::strerror(errno));
}

}  // namespace nolb::health
