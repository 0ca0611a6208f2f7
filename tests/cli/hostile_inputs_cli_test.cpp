// The hostile fixtures (tests/data/hostile, written by make_hostile.py): each
// file must be refused with exactly the located message expected.json gives
// (a whole line of the output), in the human output and in --json, with the
// exit code given there — never a crash, an "internal error" or output that
// is not valid JSON.

#include "cli_runner.hpp"

#include <filesystem>
#include <fstream>
#include <gmock/gmock.h>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

namespace fs = std::filesystem;
using segforge::testing::runCli;
using segforge::testing::Stderr;

namespace {

const fs::path kHostile = fs::path(SEGFORGE_TEST_DATA) / "hostile";

std::string replaceAll(std::string text, const std::string& from, const std::string& to) {
    for (std::size_t at = text.find(from); at != std::string::npos;
         at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
    return text;
}

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        out.push_back(line);
    return out;
}

/// {file}, {resources} and {tmp} in an expectation.
std::string expand(const std::string& text, const std::string& file) {
    std::string out = replaceAll(text, "{file}", file);
    out = replaceAll(out, "{resources}", SEGFORGE_RESOURCES);
    return replaceAll(out, "{tmp}", fs::temp_directory_path().string());
}

nlohmann::json expectations() {
    std::ifstream in(kHostile / "expected.json");
    return nlohmann::json::parse(in);
}

} // namespace

TEST(HostileInputs, EveryFixtureIsNamedInExpectations) {
    const nlohmann::json expected = expectations();
    for (const auto& entry : fs::directory_iterator(kHostile)) {
        const std::string name = entry.path().filename().string();
        if (name == "expected.json" || name == "make_hostile.py")
            continue;
        EXPECT_TRUE(expected.contains(name)) << name << " has no expected message";
    }
}

TEST(HostileInputs, EachIsRefusedWithItsLocatedMessage) {
    const nlohmann::json expected = expectations();
    for (const auto& [name, e] : expected.items()) {
        SCOPED_TRACE(name);
        const std::string file = (kHostile / name).string();
        const std::string args = expand(e.at("args").get<std::string>(), "'" + file + "'");
        const std::string message = expand(e.at("message").get<std::string>(), file);
        const auto human = runCli(args, Stderr::Merge);
        EXPECT_EQ(human.exitCode, e.at("exit").get<int>()) << human.out;
        EXPECT_THAT(lines(human.out), ::testing::Contains(message)) << human.out;
        EXPECT_EQ(human.out.find("internal error"), std::string::npos) << human.out;
        if (e.value("json", false)) {
            const auto machine = runCli(args + " --json");
            EXPECT_EQ(machine.exitCode, e.at("exit").get<int>());
            const auto doc = nlohmann::json::parse(machine.out, nullptr, false);
            ASSERT_FALSE(doc.is_discarded()) << machine.out.substr(0, 500);
            ASSERT_TRUE(doc.contains("errors")) << machine.out.substr(0, 500);
            EXPECT_EQ(doc["errors"].at(0).get<std::string>(), message);
        }
    }
}
