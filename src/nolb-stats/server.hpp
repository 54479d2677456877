// The nolb-stats web server: one thread, one event loop, evhttp on every --listen address. It
// owns the site's state (the ballast, the fault mode, the viewers) and its routes; nothing else
// in the process changes that state. It is a demonstration target, never a production server:
// it is built to fail on request, predictably, and to make that failure visible.
#pragma once

#include "nolb-stats/options.hpp"

namespace nolb::stats {

// Serves until SIGINT or SIGTERM (kExitOk) or until the ballast passes the limit, when it
// exits the process itself with kExitOutOfMemory. kExitCannotStart when a listen address
// cannot be bound.
int run(const Options& options);

}  // namespace nolb::stats
