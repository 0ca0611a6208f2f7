#pragma once

// How many cores this process may really use: what "all cores" means for the
// engine's thread pool. std::thread::hardware_concurrency() counts every
// logical CPU of the machine; three things make that too many:
// - the CPU affinity mask (taskset, a job scheduler, a container's cpuset)
//   leaves the process only some of them;
// - SMT siblings (two hardware threads of one core) share the core's vector
//   units: the engine's compute-bound kernels gain nothing from the second
//   thread and its chunks only make the loops wait longer (PyTorch, too,
//   defaults to one thread per physical core);
// - a cgroup CPU quota (docker --cpus, Kubernetes limits) grants the time of
//   fewer CPUs than the mask holds: more threads than that are throttled.

#include <filesystem>
#include <vector>

namespace segforge::core {

/// What the system grants, and the core count it comes to.
struct CoreBudget {
    int cpus = 1;  ///< logical CPUs in the affinity mask
    int cores = 1; ///< of them, physical cores (SMT siblings counted once)
    int quota = 0; ///< CPUs' worth of time the cgroup quota grants (rounded up); 0: no quota

    /// min(cores, quota), at least 1.
    int available() const;
};

/// The budget of a process allowed onto `cpus` (logical CPU numbers), reading the
/// CPU topology and the cgroup files under `root` as under "/": the process's
/// cgroups from proc/self/cgroup, their quotas from sys/fs/cgroup (v2: cpu.max;
/// v1: cpu.cfs_quota_us and cpu.cfs_period_us), the smallest one from the
/// process's cgroup up to the hierarchy's root; a CPU's core from
/// sys/devices/system/cpu/cpuN/topology (physical_package_id, core_id). Files
/// that are missing or unreadable count as no limit (a CPU without topology is a
/// core of its own).
CoreBudget coreBudget(const std::vector<int>& cpus, const std::filesystem::path& root);

/// This process's budget now (its affinity mask, the real files).
CoreBudget coreBudget();

/// coreBudget().available(): the engine's thread count for "all cores".
int availableCores();

} // namespace segforge::core
