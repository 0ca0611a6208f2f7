#include "io/atomic_file.hpp"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace segforge::core;
namespace fs = std::filesystem;

namespace {

fs::path freshDir(const char* name) {
    const fs::path dir =
        fs::temp_directory_path() / (std::string(name) + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

std::string contents(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

} // namespace

TEST(AtomicFile, ReplacementKeepsTheFilesPermissions) {
    const fs::path dir = freshDir("segforge_atomic_mode_");
    const fs::path file = dir / "private.segforge";
    std::ofstream(file) << "old";
    ASSERT_EQ(::chmod(file.c_str(), 0600), 0);
    ASSERT_EQ(writeFileAtomically(file, std::string_view("new")), "");
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(contents(file), "new");
    EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()),
              1); // no temporary left
    fs::remove_all(dir);
}

TEST(AtomicFile, AFailedWriterLeavesTheOldFile) {
    const fs::path dir = freshDir("segforge_atomic_fail_");
    const fs::path file = dir / "kept.txt";
    std::ofstream(file) << "old";
    const std::string error = writeFileAtomically(file, [](AtomicFileSink& sink) {
        sink.write(std::string_view("half"));
        return std::string("the writer gave up");
    });
    EXPECT_EQ(error, "the writer gave up");
    EXPECT_EQ(contents(file), "old");
    EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
    fs::remove_all(dir);
}
