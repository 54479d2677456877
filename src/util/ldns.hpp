// Include ldns through here: without <stdbool.h> first, ldns/common.h redefines bool, true and
// false as macros in C++ translation units.
#pragma once

#include <stdbool.h>  // NOLINT(modernize-deprecated-headers): sets __bool_true_false_are_defined

#include <ldns/ldns.h>
