// Drain keys: the text forms "london" and "www.demo.test./london" both ways, what a set of
// drains drains, and the state file: its exact format on disk, read back equal, and missing or
// damaged files taken as no drains.
#include "health/drains.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace nolb::health {
namespace {

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

class StateFile : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string pattern = std::filesystem::temp_directory_path() / "nolb-drains-XXXXXX";
        ASSERT_NE(mkdtemp(pattern.data()), nullptr);
        dir = pattern;
        path = dir + "/state.json";
    }
    void TearDown() override { std::filesystem::remove_all(dir); }

    std::string dir, path;
};

TEST(DrainKeys, TextBothWays) {
    EXPECT_EQ(parse_drain_key("london"), (DrainKey{std::nullopt, "london"}));
    EXPECT_EQ(parse_drain_key("www.demo.test./london"), (DrainKey{"www.demo.test.", "london"}));
    // Node names hold no '/': the last one separates.
    EXPECT_EQ(parse_drain_key("a/b/london"), (DrainKey{"a/b", "london"}));
    for (const char* text : {"london", "www.demo.test./london", "/london"})
        EXPECT_EQ(format_drain_key(parse_drain_key(text)), text);
}

TEST(DrainKeys, WhatIsDrained) {
    const Drains drains = drains_from({"london", "www.demo.test./geneva"});
    EXPECT_TRUE(drains.drained("www.demo.test.", "london"));
    EXPECT_TRUE(drains.drained("api.demo.test.", "london"));
    EXPECT_TRUE(drains.drained("www.demo.test.", "geneva"));
    EXPECT_FALSE(drains.drained("api.demo.test.", "geneva"));
    EXPECT_FALSE(drains.drained("www.demo.test", "paris"));
    EXPECT_FALSE(Drains{}.drained("www.demo.test.", "london"));
}

TEST(DrainKeys, TextsSortAsText) {
    // Keys order node-wide drains first; the file has always listed them sorted as text.
    EXPECT_EQ(drain_texts(drains_from({"london", "a.test./zurich", "paris"})),
              (std::vector<std::string>{"a.test./zurich", "london", "paris"}));
}

TEST_F(StateFile, RoundTripInTheFormatOnDisk) {
    const Drains drains = drains_from({"www.demo.test./paris", "london"});
    write_drains(path, drains);
    EXPECT_EQ(read_file(path),
              "{\n  \"drained\": [\n    \"london\",\n    \"www.demo.test./paris\"\n  ]\n}\n");
    EXPECT_EQ(read_drains(path), drains);
    EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
    write_drains(path, {});
    EXPECT_EQ(read_drains(path), Drains{});
}

TEST_F(StateFile, MissingOrDamagedIsNoDrains) {
    EXPECT_EQ(read_drains(path), Drains{});
    std::ofstream(path) << "{\"drained\": [\"london\"";
    EXPECT_EQ(read_drains(path), Drains{});
    std::ofstream(path) << "{\"drained\": [1]}";
    EXPECT_EQ(read_drains(path), Drains{});
}

TEST_F(StateFile, AFolderThatIsNotThereIsAnError) {
    EXPECT_THROW(write_drains(dir + "/missing/state.json", drains_from({"london"})),
                 std::runtime_error);
}

}  // namespace
}  // namespace nolb::health
