// config::load: read the file, parse it as TOML, walk it against the schema, and either return
// a Config that is known good or throw one Error that lists every problem found.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "config/config.hpp"
#include "config/document.hpp"
#include "config/schema.hpp"

namespace nolb::config {

namespace {

std::string join_lines(const std::vector<std::string>& lines) {
    std::string out;
    for (const std::string& line : lines) {
        if (!out.empty()) out += '\n';
        out += line;
    }
    return out;
}

[[noreturn]] void cannot_read(const std::string& path, std::string_view why) {
    throw Error({path + ": cannot read: " + std::string(why)});
}

std::string read_file(const std::string& path) {
    // O_NONBLOCK: opening a FIFO would otherwise wait for a writer; only a regular file is
    // read, and reading one never blocks.
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) cannot_read(path, std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        cannot_read(path, "not a regular file");
    }
    std::string text;
    char buffer[8192];
    for (;;) {
        ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int saved = errno;
            ::close(fd);
            cannot_read(path, std::strerror(saved));
        }
        if (n == 0) break;
        text.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return text;
}

}  // namespace

std::string Source::to_string() const {
    if (line == 0) return file;
    return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

Error::Error(std::vector<std::string> problems)
    : std::runtime_error(join_lines(problems)), problems_(std::move(problems)) {}

Config load(const std::string& path) {
    return load_string(read_file(path), path);
}

Config load_string(std::string_view text, const std::string& path) {
    Value document = parse_document(text, path);
    Context ctx(path, std::filesystem::path(path).parent_path());
    Config config;
    config.path = path;
    read_config(document, config, ctx);
    if (auto problems = ctx.take_problems(); !problems.empty()) throw Error(std::move(problems));
    return config;
}

}  // namespace nolb::config
