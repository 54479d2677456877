// The one page nolb-stats serves at GET /. Its HTML, script and style are compiled into the
// binary (see embed.cmake) so a site needs no files beside it and no network but its own; this
// joins them into one document and fills in what the server knows before any event arrives.
#pragma once

#include <string>
#include <string_view>

namespace nolb::stats {

struct PageValues {
    std::string_view site;
    std::string_view address;  // the local address:port the request reached
    unsigned chunk_mb = 0;
    unsigned limit_mb = 0;
    unsigned degrade_at_percent = 0;
};

std::string render_page(const PageValues& values);

}  // namespace nolb::stats
