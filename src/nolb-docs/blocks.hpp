// Marked blocks of a committed file, refreshed from the generated sections. A block is what lies
// between a line holding "nolb-docs NAME begin" and the next holding "nolb-docs NAME end", in
// whatever comment the file's format has (<!-- --> in Markdown, ";" in scdoc). The marker lines
// stay as written and everything between them is replaced, so the rest of the file is
// hand-written and the blocks are the code's.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace nolb::docs {

using SectionSource = std::function<std::string(std::string_view name)>;

// `text` with the content of every block replaced by section(NAME). Throws std::runtime_error
// ("line N: ...") for a block without its end, an end without its begin, or nested blocks.
std::string fill_blocks(std::string_view text, const SectionSource& section);

}  // namespace nolb::docs
