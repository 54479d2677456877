// The reference's generated sections: the configuration keys, the metric families and nolbctl's
// verbs, as Markdown for the README and as scdoc for the manual pages. Each is written from the
// table the code itself reads (config/schema.cpp's rows through describe_schema(),
// control/metrics.cpp's families, control/protocol.hpp's verbs), so the reference says what the
// code does. A section starts and ends with a blank line, to sit between two marker lines.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace nolb::docs {

// The names a marked block may ask for: config-keys and metrics (Markdown), config-keys-scdoc,
// metrics-scdoc and nolbctl-verbs (scdoc), key-paths (one path a line, for tests).
std::span<const std::string_view> section_names();

// The section called `name`; throws std::invalid_argument for a name not in section_names().
std::string section(std::string_view name);

// Text made literal for scdoc ("*", "_" and "\" escaped) and for Markdown ("*", "|", "<", ">").
std::string scdoc_text(std::string_view text);
std::string markdown_text(std::string_view text);

}  // namespace nolb::docs
