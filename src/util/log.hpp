// One logger for every binary: a line per event on stderr, "level=info msg=... key=value",
// so journald and grep both read it. Nothing on the answering path logs above debug.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace nolb::log {

enum class Level { debug = 0, info = 1, warning = 2, error = 3 };

struct Field {
    std::string_view key;
    std::string value;
    Field(std::string_view k, std::string_view v) : key(k), value(v) {}
    Field(std::string_view k, const char* v) : key(k), value(v) {}
    Field(std::string_view k, const std::string& v) : key(k), value(v) {}
    template <typename N>
    requires std::is_arithmetic_v<N> Field(std::string_view k, N n)
        : key(k), value(std::to_string(n)) {}
};

void set_level(Level level);
Level level();
// Parses "debug", "info", "warning", "error"; false when the name is unknown.
bool parse_level(std::string_view name, Level& out);
void set_program(std::string_view name);

void write(Level level, std::string_view message, std::initializer_list<Field> fields = {});

inline bool enabled(Level l) {
    return l >= level();
}
inline void debug(std::string_view m, std::initializer_list<Field> f = {}) {
    if (enabled(Level::debug)) write(Level::debug, m, f);
}
inline void info(std::string_view m, std::initializer_list<Field> f = {}) {
    write(Level::info, m, f);
}
inline void warning(std::string_view m, std::initializer_list<Field> f = {}) {
    write(Level::warning, m, f);
}
inline void error(std::string_view m, std::initializer_list<Field> f = {}) {
    write(Level::error, m, f);
}

}  // namespace nolb::log
