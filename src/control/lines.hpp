// How the control socket cuts its input into request lines, free of sockets: a line ends with
// LF, a CR before the LF is not part of it, and a line longer than the limit is an error rather
// than a buffer that grows. The server and a fuzzer drive the same function.
#pragma once

#include <cstddef>
#include <string_view>

namespace nolb::control {

enum class LineStatus {
    line,        // `line` is a whole line; drop `consumed` bytes
    incomplete,  // wait for more input
    too_long,    // the line under way is longer than the limit: give up on the connection
};

struct NextLine {
    LineStatus status = LineStatus::incomplete;
    std::string_view line;  // without its CR LF; points into the input
    std::size_t consumed = 0;
};

// The first line of `input`. With `at_end` (the client shut its side) a last line without its
// LF counts as whole. A line is too long as soon as the bytes already in show it must be: a
// caller that reads at most max_line + 2 bytes ahead always gets a line or an error.
NextLine next_line(std::string_view input, bool at_end, std::size_t max_line);

}  // namespace nolb::control
