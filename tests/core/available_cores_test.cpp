// What "all cores" means for the engine: the affinity mask, SMT siblings once,
// the cgroup quota — read from a fake /sys and /proc tree.

#include "kernels/parallel.hpp"
#include "util/available_cores.hpp"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <string>
#include <unistd.h>
#include <vector>

using namespace segforge::core;
namespace fs = std::filesystem;

namespace {

/// A scratch root standing in for "/".
class FakeRoot {
public:
    FakeRoot() {
        m_root = fs::temp_directory_path() /
                 ("segforge_cores_" + std::to_string(::getpid()) + "_" + std::to_string(s_next++));
        fs::remove_all(m_root);
        fs::create_directories(m_root);
    }
    ~FakeRoot() { fs::remove_all(m_root); }
    FakeRoot(const FakeRoot&) = delete;
    FakeRoot& operator=(const FakeRoot&) = delete;

    const fs::path& path() const { return m_root; }

    void write(const std::string& file, const std::string& text) const {
        const fs::path p = m_root / file;
        fs::create_directories(p.parent_path());
        std::ofstream(p) << text << "\n";
    }

    /// CPUs 0..n-1, CPU c on package 0, core c / threadsPerCore.
    void cpus(int n, int threadsPerCore) const {
        for (int c = 0; c < n; ++c) {
            const std::string dir = "sys/devices/system/cpu/cpu" + std::to_string(c) + "/topology/";
            write(dir + "physical_package_id", "0");
            write(dir + "core_id", std::to_string(c / threadsPerCore));
        }
    }

private:
    static inline int s_next = 0;
    fs::path m_root;
};

std::vector<int> range(int n) {
    std::vector<int> v;
    for (int i = 0; i < n; ++i)
        v.push_back(i);
    return v;
}

} // namespace

TEST(AvailableCores, SmtSiblingsCountOnceAndOnlyTheAffinityMasksCpus) {
    const FakeRoot root;
    root.cpus(8, 2); // 4 cores of 2 hardware threads
    const CoreBudget all = coreBudget(range(8), root.path());
    EXPECT_EQ(all.cpus, 8);
    EXPECT_EQ(all.cores, 4);
    EXPECT_EQ(all.quota, 0);
    EXPECT_EQ(all.available(), 4);
    // taskset -c 0,1: the two threads of one core.
    EXPECT_EQ(coreBudget({0, 1}, root.path()).available(), 1);
    // taskset -c 1,2,5: three CPUs on three cores.
    EXPECT_EQ(coreBudget({1, 2, 5}, root.path()).available(), 3);
    // Two packages: core ids repeat, the pairs do not.
    root.write("sys/devices/system/cpu/cpu4/topology/physical_package_id", "1");
    root.write("sys/devices/system/cpu/cpu4/topology/core_id", "0");
    EXPECT_EQ(coreBudget({0, 4}, root.path()).cores, 2);
}

TEST(AvailableCores, ACpuWithoutTopologyIsACoreOfItsOwn) {
    const FakeRoot root; // no sys at all
    const CoreBudget b = coreBudget(range(6), root.path());
    EXPECT_EQ(b.cores, 6);
    EXPECT_EQ(b.available(), 6);
    EXPECT_EQ(coreBudget({}, root.path()).available(), 1);
}

TEST(AvailableCores, ACgroupV2QuotaCapsTheCoresRoundedUpTheTightestOnThePathWins) {
    const FakeRoot root;
    root.cpus(16, 1);
    root.write("proc/self/cgroup", "0::/user.slice/job");
    root.write("sys/fs/cgroup/cpu.max", "max 100000");
    EXPECT_EQ(coreBudget(range(16), root.path()).available(), 16) << "max: no quota";
    root.write("sys/fs/cgroup/user.slice/job/cpu.max", "250000 100000"); // docker --cpus=2.5
    CoreBudget b = coreBudget(range(16), root.path());
    EXPECT_EQ(b.quota, 3);
    EXPECT_EQ(b.available(), 3);
    root.write("sys/fs/cgroup/user.slice/cpu.max", "100000 100000"); // the parent's is tighter
    EXPECT_EQ(coreBudget(range(16), root.path()).available(), 1);
    root.write("sys/fs/cgroup/user.slice/cpu.max", "garbage");
    EXPECT_EQ(coreBudget(range(16), root.path()).quota, 3) << "an unreadable limit is none";
    // A quota above the cores leaves the cores.
    root.write("sys/fs/cgroup/user.slice/job/cpu.max", "6400000 100000");
    EXPECT_EQ(coreBudget(range(16), root.path()).available(), 16);
}

TEST(AvailableCores, ACgroupV1QuotaUnderEitherMountAndAPathOutsideTheNamespace) {
    const FakeRoot root;
    root.cpus(8, 1);
    root.write("proc/self/cgroup", "4:memory:/x\n3:cpu,cpuacct:/docker/abc\n1:name=systemd:/");
    root.write("sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "-1");
    root.write("sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000");
    EXPECT_EQ(coreBudget(range(8), root.path()).quota, 0) << "-1: no quota";
    root.write("sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "200000");
    EXPECT_EQ(coreBudget(range(8), root.path()).available(), 2);

    // Inside a container the path may climb out of the namespace: the mount's own files.
    const FakeRoot inside;
    inside.cpus(8, 1);
    inside.write("proc/self/cgroup", "3:cpu:/../..");
    inside.write("sys/fs/cgroup/cpu/cpu.cfs_quota_us", "400000");
    inside.write("sys/fs/cgroup/cpu/cpu.cfs_period_us", "100000");
    EXPECT_EQ(coreBudget(range(8), inside.path()).available(), 4);
}

TEST(AvailableCores, AllCoresForTheEngineIsThisProcesssBudget) {
    const CoreBudget here = coreBudget();
    EXPECT_GE(here.cpus, here.cores);
    EXPECT_GE(here.cores, 1);
    setEngineThreads(0);
    EXPECT_EQ(engineThreads(), here.available());
    EXPECT_EQ(availableCores(), here.available());
}
