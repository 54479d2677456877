// nolb-docs: the command line, and nothing else. It prints what contrib/docs.py writes into the
// committed reference (and what the test docs.fresh compares with it); it is never installed.
#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "nolb-docs/blocks.hpp"
#include "nolb-docs/reference_config.hpp"
#include "nolb-docs/sections.hpp"

namespace {

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

int main(int argc, char** argv) {
    using namespace nolb::docs;
    CLI::App app(
        "nolb-docs prints the parts of nolb's reference that are generated from the code: the "
        "configuration keys (config/schema.cpp), the metric families (control/metrics.cpp) and "
        "nolbctl's verbs (control/protocol.hpp). contrib/docs.py writes them into the committed "
        "files. Exit status: 0 when printed, 1 for a problem (on stderr), 2 for a wrong command "
        "line.",
        "nolb-docs");
    std::string name, path;
    CLI::App* section_command = app.add_subcommand("section", "Print one generated section");
    std::string names;
    for (std::string_view n : section_names())
        names += (names.empty() ? "" : ", ") + std::string(n);
    section_command->add_option("NAME", name, names)->required();
    CLI::App* fill = app.add_subcommand(
        "fill", "Print FILE with its marked blocks (nolb-docs NAME begin/end) generated again");
    fill->add_option("FILE", path, "A Markdown or scdoc file")->required();
    CLI::App* config = app.add_subcommand(
        "config", "Print the reference configuration written from TEMPLATE (conf/nolb.toml.in)");
    config->add_option("TEMPLATE", path, "The template")->required();
    app.require_subcommand(1);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }

    try {
        if (section_command->parsed())
            std::cout << section(name);
        else if (fill->parsed())
            std::cout << fill_blocks(read_file(path), section);
        else
            std::cout << reference_config(read_file(path));
    } catch (const std::exception& e) {
        std::cerr << "nolb-docs: " << (path.empty() ? "" : path + ": ") << e.what() << "\n";
        return 1;
    }
    return 0;
}
