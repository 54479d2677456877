// The main of a fuzz target built without libFuzzer: runs every file named on the command line,
// or found in a folder named there, through the target once, in name order. ctest calls it with
// the target's seed corpus and its regressions, so the plain and sanitizer builds check every
// input that ever found a bug. It exits 0 when all ran, 1 when it ran nothing (a wrong path
// must not pass as a clean run); a failed invariant aborts.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "fuzz.hpp"

namespace {

std::vector<std::uint8_t> read_all(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::filesystem::path> inputs;
    for (int i = 1; i < argc; ++i) {
        const std::filesystem::path path(argv[i]);
        if (std::filesystem::is_directory(path)) {
            for (const auto& entry : std::filesystem::directory_iterator(path))
                if (entry.is_regular_file()) inputs.push_back(entry.path());
        } else if (std::filesystem::is_regular_file(path)) {
            inputs.push_back(path);
        } else {
            std::fprintf(stderr, "replay: no such file or folder: %s\n", argv[i]);
            return 1;
        }
    }
    std::sort(inputs.begin(), inputs.end());
    for (const auto& path : inputs) {
        // Printed first, so that a crash names the input that caused it.
        std::fprintf(stderr, "replay: %s\n", path.c_str());
        const std::vector<std::uint8_t> bytes = read_all(path);
        LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
    }
    std::fprintf(stderr, "replay: %zu inputs, no invariant failed\n", inputs.size());
    return inputs.empty() ? 1 : 0;
}
