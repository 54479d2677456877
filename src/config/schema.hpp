// The configuration schema: every key nolbd accepts, declared once in schema.cpp with its type,
// range, default and meaning, and read into config::Config by walking the document against it.
#pragma once

#include "config/config.hpp"
#include "config/document.hpp"
#include "config/walk.hpp"

namespace nolb::config {

// Fills `out` from a parsed document; every problem goes to `ctx`.
void read_config(const Value& document, Config& out, Context& ctx);

}  // namespace nolb::config
