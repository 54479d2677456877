// One function per section; the tables they read are the code's own, so each function only
// decides how a row looks in its format.
#include "nolb-docs/sections.hpp"

#include <array>
#include <stdexcept>

#include "config/schema.hpp"
#include "control/metrics.hpp"
#include "control/protocol.hpp"
#include "nolb-docs/keys.hpp"

namespace nolb::docs {
namespace {

std::string replace_each(std::string_view text, std::string_view special,
                         std::string (*with)(char)) {
    std::string out;
    for (char c : text) {
        if (special.find(c) != std::string_view::npos)
            out += with(c);
        else
            out += c;
    }
    return out;
}

// ---- Markdown, for the README

std::string keys_markdown() {
    const auto keys = config::describe_schema();
    std::string out = "\n| key | type; default | meaning |\n| --- | --- | --- |\n";
    auto row = [&out](std::string_view name, const std::string& about, std::string_view meaning) {
        out += "| `" + std::string(name) + "` | " + markdown_text(about) + " | " +
               markdown_text(meaning) + " |\n";
    };
    for (const Table& table : tables(keys)) {
        if (table.key) row(table.header, presence(*table.key), table.key->meaning);
        for (const config::KeyDoc* key : table.keys)
            row(key->key, facts(*key), key->meaning);
    }
    return out + "\n";
}

// The help, and the values of its first label when the code fixes them.
std::string family_meaning(const control::FamilyDoc& family) {
    std::string out(family.help);
    if (!family.values.empty())
        out += "; " + std::string(family.labels[0]) + ": " + std::string(family.values);
    return out + ".";
}

// "nolb_address_up{service,node,address}"
std::string family_signature(const control::FamilyDoc& family) {
    std::string labels;
    for (std::string_view label : family.labels)
        if (!label.empty()) labels += (labels.empty() ? "" : ",") + std::string(label);
    return std::string(family.name) + (labels.empty() ? "" : "{" + labels + "}");
}

std::string metrics_markdown() {
    std::string out = "\n";
    for (const control::FamilyDoc& family : control::metric_families())
        out += "- `" + family_signature(family) + "` (" + std::string(family.type) +
               "): " + markdown_text(family_meaning(family)) + "\n";
    return out + "\n";
}

// ---- scdoc, for the manual pages

// "*name* (facts)" and the meaning indented under it.
std::string scdoc_entry(std::string_view head, std::string_view meaning) {
    return std::string(head) + "\n\t" + scdoc_text(meaning) + "\n\n";
}

std::string keys_scdoc() {
    const auto keys = config::describe_schema();
    std::string out = "\n";
    for (const Table& table : tables(keys)) {
        if (!table.key) continue;  // the document holds tables only
        out += "## " + table.header + "\n\n" + scdoc_text(table.key->meaning) + " " +
               presence(*table.key) + "\n\n";
        for (const config::KeyDoc* key : table.keys)
            out += scdoc_entry("*" + scdoc_text(key->key) + "* (" + scdoc_text(facts(*key)) + ")",
                               key->meaning);
    }
    return out;
}

std::string metrics_scdoc() {
    std::string out = "\n";
    for (const control::FamilyDoc& family : control::metric_families())
        out += scdoc_entry(
            "*" + scdoc_text(family_signature(family)) + "* (" + std::string(family.type) + ")",
            family_meaning(family));
    return out;
}

// "*--wait*" for a flag, "_NODE_" for the others, as manual pages write them.
std::string argument_text(const control::VerbArgument& argument) {
    const std::string name = scdoc_text(argument.name);
    return argument.name.starts_with("-") ? "*" + name + "*" : "_" + name + "_";
}

// "*drain* _NODE_ [*--wait*]"
std::string verb_synopsis(const control::VerbInfo& verb) {
    std::string out = "*" + std::string(verb.name) + "*";
    for (const control::VerbArgument& argument : verb.arguments) {
        if (argument.name.empty()) continue;
        out += argument.required ? " " + argument_text(argument)
                                 : " [" + argument_text(argument) + "]";
    }
    return out;
}

std::string verbs_scdoc() {
    std::string out = "\n";
    for (const control::VerbInfo& verb : control::kVerbs) {
        out += verb_synopsis(verb) + "\n\t" + scdoc_text(verb.description) + "\n\n";
        for (const control::VerbArgument& argument : verb.arguments)
            if (!argument.name.empty())
                out +=
                    "\t" + argument_text(argument) + ": " + scdoc_text(argument.meaning) + ".\n\n";
        if (!verb.exit_status.empty())
            out += "\tExit status: " + scdoc_text(verb.exit_status) + "\n\n";
        out += "\tExample: *" + scdoc_text(verb.example) + "*\n\n";
    }
    return out;
}

std::string key_paths() {
    std::string out = "\n";
    for (const config::KeyDoc& key : config::describe_schema())
        out += key.path + "\n";
    return out + "\n";
}

struct Section {
    std::string_view name;
    std::string (*render)();
};

constexpr Section kSections[] = {
    {"config-keys", keys_markdown},    {"metrics", metrics_markdown},
    {"config-keys-scdoc", keys_scdoc}, {"metrics-scdoc", metrics_scdoc},
    {"nolbctl-verbs", verbs_scdoc},    {"key-paths", key_paths},
};

constexpr auto kSectionNames = [] {
    std::array<std::string_view, std::size(kSections)> names{};
    for (std::size_t i = 0; i < names.size(); ++i)
        names[i] = kSections[i].name;
    return names;
}();

}  // namespace

std::span<const std::string_view> section_names() {
    return kSectionNames;
}

std::string section(std::string_view name) {
    for (const Section& s : kSections)
        if (s.name == name) return s.render();
    throw std::invalid_argument("no section called \"" + std::string(name) + "\"");
}

std::string scdoc_text(std::string_view text) {
    return replace_each(text, "*_\\", [](char c) { return std::string{'\\', c}; });
}

std::string markdown_text(std::string_view text) {
    return replace_each(text, "*|<>", [](char c) -> std::string {
        switch (c) {
            case '<':
                return "&lt;";
            case '>':
                return "&gt;";
            default:
                return std::string{'\\', c};
        }
    });
}

}  // namespace nolb::docs
