// The logger: one line per event on stderr, "program: level=... msg=... key=value", values
// quoted and escaped when they would break the line or its fields apart, and levels below the
// set one dropped. The tests point stderr at a temporary file while they log.
#include "util/log.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace nolb::log {
namespace {

class LogTest : public ::testing::Test {
  protected:
    void SetUp() override {
        saved_level_ = level();
        set_program("test");
        std::fflush(stderr);
        char name[] = "/tmp/nolb-log-XXXXXX";
        file_ = ::mkstemp(name);
        ASSERT_GE(file_, 0);
        ::unlink(name);
        saved_stderr_ = ::dup(STDERR_FILENO);
        ASSERT_GE(saved_stderr_, 0);
        ASSERT_EQ(::dup2(file_, STDERR_FILENO), STDERR_FILENO);
    }
    void TearDown() override {
        restore();
        if (file_ >= 0) ::close(file_);
        set_level(saved_level_);
        set_program("nolb");
    }

    // Everything logged so far; stderr goes back to where it was.
    std::string captured() {
        restore();
        std::string text;
        char buffer[4096];
        ssize_t n;
        off_t at = 0;
        while ((n = ::pread(file_, buffer, sizeof buffer, at)) > 0) {
            text.append(buffer, static_cast<std::size_t>(n));
            at += n;
        }
        return text;
    }

  private:
    void restore() {
        if (saved_stderr_ < 0) return;
        ::dup2(saved_stderr_, STDERR_FILENO);
        ::close(saved_stderr_);
        saved_stderr_ = -1;
    }

    Level saved_level_ = Level::info;
    int file_ = -1;
    int saved_stderr_ = -1;
};

TEST_F(LogTest, LineHoldsProgramLevelMessageAndFieldsInOrder) {
    info("listening", {{"address", "127.0.0.1:53"}, {"workers", 2}, {"ratio", 0.5}});
    EXPECT_EQ(captured(),
              "test: level=info msg=listening address=127.0.0.1:53 workers=2 ratio=0.500000\n");
}

TEST_F(LogTest, EveryLevelIsNamed) {
    set_level(Level::debug);
    debug("a");
    info("b");
    warning("c");
    error("d");
    EXPECT_EQ(captured(),
              "test: level=debug msg=a\ntest: level=info msg=b\ntest: level=warning msg=c\n"
              "test: level=error msg=d\n");
}

TEST_F(LogTest, LevelsBelowTheSetOneAreDropped) {
    set_level(Level::warning);
    EXPECT_FALSE(enabled(Level::debug));
    EXPECT_FALSE(enabled(Level::info));
    EXPECT_TRUE(enabled(Level::warning));
    EXPECT_TRUE(enabled(Level::error));
    debug("no");
    info("no");
    write(Level::info, "no");
    warning("yes", {{"n", 1}});
    error("yes", {{"n", 2}});
    EXPECT_EQ(captured(), "test: level=warning msg=yes n=1\ntest: level=error msg=yes n=2\n");
}

TEST_F(LogTest, ErrorOnlyKeepsErrors) {
    set_level(Level::error);
    warning("no");
    error("kept");
    EXPECT_EQ(captured(), "test: level=error msg=kept\n");
}

TEST_F(LogTest, ValuesThatWouldSplitTheLineAreQuotedAndEscaped) {
    info("probe failed", {{"detail", "connection refused"},
                          {"path", R"(C:\dir)"},
                          {"quote", R"(say "hi")"},
                          {"pair", "a=b"},
                          {"empty", ""},
                          {"lines", "one\ntwo"},
                          {"tab", "a\tb\x01"}});
    EXPECT_EQ(captured(),
              R"(test: level=info msg="probe failed" detail="connection refused" )"
              R"(path="C:\\dir" quote="say \"hi\"" pair="a=b" empty="" lines="one\ntwo" )"
              "tab=\"a b \"\n");
}

TEST_F(LogTest, PlainValuesStayUnquoted) {
    info("x", {{"name", "www.demo.test."}, {"v6", "[2001:db8::1]:53"}, {"utf8", "Genève"}});
    EXPECT_EQ(captured(),
              "test: level=info msg=x name=www.demo.test. v6=[2001:db8::1]:53 utf8=Genève\n");
}

TEST_F(LogTest, AnInjectedNewlineCannotForgeALine) {
    info("login", {{"user", "bob\ntest: level=error msg=forged"}});
    const std::string text = captured();
    EXPECT_EQ(text.find('\n'), text.size() - 1) << text;
    EXPECT_EQ(text, "test: level=info msg=login user=\"bob\\ntest: level=error msg=forged\"\n");
}

TEST_F(LogTest, NumbersOfEveryKind) {
    info("n", {{"neg", -5}, {"big", 18446744073709551615ull}, {"zero", 0u}});
    EXPECT_EQ(captured(), "test: level=info msg=n neg=-5 big=18446744073709551615 zero=0\n");
}

TEST_F(LogTest, LinesFromThreadsNeverInterleave) {
    constexpr int kThreads = 4, kLines = 200;
    const std::string filler(300, 'x');
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kLines; ++i)
                info("line", {{"thread", t}, {"i", i}, {"filler", filler}});
        });
    }
    for (auto& th : threads)
        th.join();
    const std::string text = captured();
    std::size_t lines = 0;
    for (std::size_t at = 0; at < text.size();) {
        std::size_t end = text.find('\n', at);
        ASSERT_NE(end, std::string::npos);
        std::string line = text.substr(at, end - at);
        EXPECT_EQ(line.rfind("test: level=info msg=line thread=", 0), 0u) << line;
        EXPECT_EQ(line.size() - line.find(" filler=") - 8, filler.size()) << line;
        ++lines;
        at = end + 1;
    }
    EXPECT_EQ(lines, static_cast<std::size_t>(kThreads * kLines));
}

TEST(LogLevel, ParsesTheFourNamesOnly) {
    Level l = Level::error;
    ASSERT_TRUE(parse_level("debug", l));
    EXPECT_EQ(l, Level::debug);
    ASSERT_TRUE(parse_level("info", l));
    EXPECT_EQ(l, Level::info);
    ASSERT_TRUE(parse_level("warning", l));
    EXPECT_EQ(l, Level::warning);
    ASSERT_TRUE(parse_level("error", l));
    EXPECT_EQ(l, Level::error);
    for (const char* bad : {"", "INFO", "warn", "err", "debug ", "trace", "3"}) {
        Level untouched = Level::info;
        EXPECT_FALSE(parse_level(bad, untouched)) << bad;
        EXPECT_EQ(untouched, Level::info) << bad;
    }
}

TEST(LogLevel, SetLevelIsWhatLevelReturns) {
    const Level saved = level();
    for (Level l : {Level::debug, Level::info, Level::warning, Level::error}) {
        set_level(l);
        EXPECT_EQ(level(), l);
    }
    set_level(saved);
}

}  // namespace
}  // namespace nolb::log
