// nolb-stats: the command line, and nothing else; nolb-stats/server.cpp does the work.
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "nolb-stats/options.hpp"
#include "nolb-stats/server.hpp"
#include "util/log.hpp"
#include "util/version.hpp"

int main(int argc, char** argv) {
    using namespace nolb;
    CLI::App app(
        "nolb-stats is a DEMONSTRATION TARGET for nolb, never a production server. Each node "
        "(\"site\") of a demo service runs one. At / it serves a page with live charts of this "
        "process's memory and CPU; every click on the page makes the process really allocate "
        "--chunk MB more. At --degrade-at percent of --memory-limit, GET /health answers 503 so "
        "health checks drain the site; past the limit the process exits on purpose, and the page "
        "reconnects by host name to whichever site DNS names next. With "
        "--allow-fault-injection, POST /fail?mode=http500|slow|hang|close makes it misbehave and "
        "POST "
        "/recover ends that. Other routes: /events (Server-Sent Events), /stats, /malloc. Exit "
        "status: 0 after SIGINT or SIGTERM, 1 when it cannot listen, 2 for a bad command line, "
        "3 for the simulated out-of-memory crash.",
        "nolb-stats");
    stats::Options options;
    std::vector<std::string> listen;
    app.add_option("--site", options.site,
                   "Name of this site, shown on the page and in every event (letters, digits, "
                   "'.', '-', '_')")
        ->option_text("NAME")
        ->required();
    app.add_option("--listen", listen,
                   "Address and port to serve on, IPv4:PORT or [IPv6]:PORT; repeat for several. "
                   "Port 0 picks a free port (logged at start)")
        ->option_text("ADDR:PORT")
        ->required();
    app.add_option(
           "--memory-limit", options.memory_limit_mb,
           "Pseudo-memory in MB; an allocation that would pass it ends the process (default: " +
               std::to_string(options.memory_limit_mb) + ")")
        ->option_text("MB")
        ->check(CLI::Range(1u, 1048576u));
    app.add_option(
           "--chunk", options.chunk_mb,
           "What one click allocates, in MB (default: " + std::to_string(options.chunk_mb) + ")")
        ->option_text("MB")
        ->check(CLI::Range(1u, 65536u));
    app.add_option("--degrade-at", options.degrade_at_percent,
                   "Percent of the limit from which GET /health answers 503 (default: " +
                       std::to_string(options.degrade_at_percent) + ")")
        ->option_text("PCT")
        ->check(CLI::Range(1u, 100u));
    app.add_flag("--allow-fault-injection", options.allow_fault_injection,
                 "Enable POST /fail and POST /recover (refused with 403 otherwise)");
    app.add_flag("--keep-alive", options.keep_alive,
                 "Keep connections open between requests, as web servers do (default: close "
                 "after every answer, so that each request resolves and connects anew)");
    app.set_version_flag("--version", std::string("nolb-stats ") + kVersion);

    try {
        app.parse(argc, argv);
        if (!stats::valid_site_name(options.site))
            throw CLI::ValidationError("--site", "use 1 to 63 letters, digits, '.', '-' or '_'");
        for (const std::string& text : listen) {
            auto endpoint = stats::parse_listen(text);
            if (!endpoint)
                throw CLI::ValidationError("--listen",
                                           "'" + text + "' is not IPv4:PORT or [IPv6]:PORT");
            options.listen.push_back(*endpoint);
        }
    } catch (const CLI::ParseError& e) {
        int status = app.exit(e);
        return status == 0 ? stats::kExitOk : stats::kExitUsage;
    }

    log::set_program("nolb-stats");
    return stats::run(options);
}
