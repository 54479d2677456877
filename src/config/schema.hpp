// The configuration schema: every key nolbd accepts, declared once in schema.cpp with its type,
// range, default and meaning, and read into config::Config by walking the document against it.
#pragma once

#include <vector>

#include "config/config.hpp"
#include "config/document.hpp"
#include "config/walk.hpp"

namespace nolb::config {

// Fills `out` from a parsed document; every problem goes to `ctx`.
void read_config(const Value& document, Config& out, Context& ctx);

// Every key, tables before their keys, in the order read_config walks them. [service.node.health]
// is not repeated: it takes [service.health]'s keys but type, as its row says.
std::vector<KeyDoc> describe_schema();

}  // namespace nolb::config
