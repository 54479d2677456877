// The logger's one sink. A line is formatted whole and written with one write(2), so lines from
// several threads never interleave.
#include "util/log.hpp"

#include <unistd.h>

#include <atomic>

namespace nolb::log {
namespace {

std::atomic<Level> g_level{Level::info};
std::string g_program = "nolb";

const char* level_name(Level l) {
    switch (l) {
        case Level::debug:
            return "debug";
        case Level::info:
            return "info";
        case Level::warning:
            return "warning";
        case Level::error:
            return "error";
    }
    return "info";
}

bool needs_quotes(std::string_view v) {
    if (v.empty()) return true;
    for (char c : v)
        if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20)
            return true;
    return false;
}

void append_value(std::string& line, std::string_view v) {
    if (!needs_quotes(v)) {
        line += v;
        return;
    }
    line += '"';
    for (char c : v) {
        if (c == '"' || c == '\\') {
            line += '\\';
            line += c;
        } else if (c == '\n') {
            line += "\\n";
        } else if (static_cast<unsigned char>(c) < 0x20) {
            line += ' ';
        } else {
            line += c;
        }
    }
    line += '"';
}

}  // namespace

void set_level(Level l) {
    g_level.store(l, std::memory_order_relaxed);
}
Level level() {
    return g_level.load(std::memory_order_relaxed);
}
void set_program(std::string_view name) {
    g_program = name;
}

bool parse_level(std::string_view name, Level& out) {
    for (Level l : {Level::debug, Level::info, Level::warning, Level::error}) {
        if (name == level_name(l)) {
            out = l;
            return true;
        }
    }
    return false;
}

void write(Level l, std::string_view message, std::initializer_list<Field> fields) {
    if (!enabled(l)) return;
    std::string line;
    line.reserve(128);
    line += g_program;
    line += ": level=";
    line += level_name(l);
    line += " msg=";
    append_value(line, message);
    for (const Field& f : fields) {
        line += ' ';
        line += f.key;
        line += '=';
        append_value(line, f.value);
    }
    line += '\n';
    ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
    (void)ignored;
}

}  // namespace nolb::log
