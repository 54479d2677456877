// Grouping and wording of the schema's keys, shared by every rendering of the reference.
#include "nolb-docs/keys.hpp"

#include <map>
#include <set>

namespace nolb::docs {

std::vector<Table> tables(const std::vector<config::KeyDoc>& keys) {
    std::set<std::string_view> heads;  // the paths that hold keys of their own
    for (const config::KeyDoc& key : keys)
        heads.insert(key.table);
    std::vector<Table> out{Table{}};
    std::map<std::string_view, std::size_t> index{{"", 0}};
    for (const config::KeyDoc& key : keys) {
        const bool head = heads.count(key.path) > 0;
        if (!head || key.type == "string or table") out[index.at(key.table)].keys.push_back(&key);
        if (head) {
            index[key.path] = out.size();
            out.push_back(Table{&key, toml_header(key.path), {}});
        }
    }
    return out;
}

std::string toml_header(std::string_view path) {
    std::string name;
    for (char c : path)
        if (c != '[' && c != ']') name += c;
    return path.ends_with("[]") ? "[[" + name + "]]" : "[" + name + "]";
}

std::string facts(const config::KeyDoc& key) {
    std::string out = key.type;
    if (!key.range.empty()) out += ", " + key.range;
    if (key.required) return out + "; required";
    // A table's "{}" only makes it present: its keys have defaults of their own.
    std::string value = key.fallback == "{}" ? "" : key.fallback;
    if (!key.default_note.empty())
        value += value.empty() ? key.default_note : " (" + key.default_note + ")";
    return out + (value.empty() ? "; optional" : "; default: " + value);
}

std::string presence(const config::KeyDoc& table) {
    std::string out = table.required ? "Required" : "Optional";
    if (table.type == "array of tables")
        out += ", " + (table.range.empty() ? "any number" : table.range);
    return out + ".";
}

}  // namespace nolb::docs
