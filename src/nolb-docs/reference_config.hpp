// conf/nolb.toml, the commented reference configuration, written from its template
// conf/nolb.toml.in and the schema. The template holds the example values and the hand-written
// notes; above the first appearance of each table and key (set, or commented out as
// "# key = value") goes its comment from the schema: the meaning, then the facts (type, range,
// default). Every key of the schema must appear in the template, so the reference stays whole.
#pragma once

#include <string>
#include <string_view>

namespace nolb::docs {

// The reference configuration. Throws std::runtime_error for a table header the schema does not
// have, or naming the keys of the schema the template leaves out.
std::string reference_config(std::string_view template_text);

}  // namespace nolb::docs
