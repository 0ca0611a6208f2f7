#include "util/available_cores.hpp"

#include <algorithm>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>

#if defined(__linux__)
#include <sched.h>
#endif

namespace segforge::core {

namespace fs = std::filesystem;

namespace {

/// The first line of a small file, if it can be read.
std::optional<std::string> firstLine(const fs::path& file) {
    std::ifstream in(file);
    std::string line;
    if (!in || !std::getline(in, line))
        return std::nullopt;
    return line;
}

std::optional<long long> number(const std::string& text) {
    try {
        std::size_t used = 0;
        const long long v = std::stoll(text, &used);
        return used > 0 ? std::optional<long long>(v) : std::nullopt;
    } catch (...) {
        return std::nullopt;
    }
}

/// ceil(quota / period) CPUs, or nothing for no quota (or a malformed one).
std::optional<int> quotaCpus(long long quota, long long period) {
    if (quota <= 0 || period <= 0)
        return std::nullopt;
    return static_cast<int>(std::max(1LL, (quota + period - 1) / period));
}

/// v2 "cpu.max": "max 100000" (no quota) or "200000 100000".
std::optional<int> quotaV2(const fs::path& dir) {
    const auto line = firstLine(dir / "cpu.max");
    if (!line)
        return std::nullopt;
    std::istringstream in(*line);
    std::string quota, period;
    in >> quota >> period;
    const auto q = number(quota), p = number(period);
    return q && p ? quotaCpus(*q, *p) : std::nullopt;
}

/// v1: cpu.cfs_quota_us (-1: no quota) over cpu.cfs_period_us.
std::optional<int> quotaV1(const fs::path& dir) {
    const auto quota = firstLine(dir / "cpu.cfs_quota_us");
    const auto period = firstLine(dir / "cpu.cfs_period_us");
    if (!quota || !period)
        return std::nullopt;
    const auto q = number(*quota), p = number(*period);
    return q && p ? quotaCpus(*q, *p) : std::nullopt;
}

/// The smallest quota from `mount`/`path` up to `mount` (a parent's quota limits
/// its children). A path that climbs out of the mount is read at the mount only.
template <typename Read>
std::optional<int> smallestQuota(const fs::path& mount, const std::string& path, Read read) {
    fs::path relative = fs::path(path).relative_path().lexically_normal();
    if (!relative.empty() && *relative.begin() == "..")
        relative.clear();
    std::optional<int> smallest;
    for (;;) {
        if (const auto q = read(mount / relative))
            smallest = smallest ? std::min(*smallest, *q) : *q;
        if (relative.empty() || relative == ".")
            return smallest;
        relative = relative.parent_path();
    }
}

/// The tightest CPU quota of the cgroups proc/self/cgroup names, 0 for none.
int cgroupQuota(const fs::path& root) {
    std::ifstream in(root / "proc/self/cgroup");
    const fs::path cgroups = root / "sys/fs/cgroup";
    std::optional<int> smallest;
    auto keep = [&](std::optional<int> q) {
        if (q)
            smallest = smallest ? std::min(*smallest, *q) : *q;
    };
    // "hierarchy-id:controllers:path"; v2's line is "0::path".
    for (std::string line; std::getline(in, line);) {
        const auto first = line.find(':');
        const auto second = first == std::string::npos ? first : line.find(':', first + 1);
        if (second == std::string::npos)
            continue;
        const std::string controllers = line.substr(first + 1, second - first - 1);
        const std::string path = line.substr(second + 1);
        if (controllers.empty()) {
            keep(smallestQuota(cgroups, path, quotaV2));
            continue;
        }
        std::set<std::string> names;
        std::istringstream list(controllers);
        for (std::string name; std::getline(list, name, ',');)
            names.insert(name);
        if (!names.count("cpu"))
            continue;
        // Mounted under the controller list ("cpu,cpuacct"), often also as "cpu".
        keep(smallestQuota(cgroups / controllers, path, quotaV1));
        if (controllers != "cpu")
            keep(smallestQuota(cgroups / "cpu", path, quotaV1));
    }
    return smallest.value_or(0);
}

/// How many distinct physical cores `cpus` lie on.
int physicalCores(const std::vector<int>& cpus, const fs::path& root) {
    std::set<std::pair<long long, long long>> cores;
    for (int cpu : cpus) {
        const fs::path topology =
            root / "sys/devices/system/cpu" / ("cpu" + std::to_string(cpu)) / "topology";
        const auto package = firstLine(topology / "physical_package_id");
        const auto core = firstLine(topology / "core_id");
        const auto p = package ? number(*package) : std::nullopt;
        const auto c = core ? number(*core) : std::nullopt;
        if (p && c)
            cores.insert({*p, *c});
        else // no topology: a core of its own
            cores.insert({-1, cpu});
    }
    return static_cast<int>(cores.size());
}

/// The logical CPUs this process may run on.
std::vector<int> affinityCpus() {
    std::vector<int> cpus;
#if defined(__linux__)
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
            if (CPU_ISSET(cpu, &set))
                cpus.push_back(cpu);
#endif
    if (cpus.empty())
        for (unsigned cpu = 0; cpu < std::max(1u, std::thread::hardware_concurrency()); ++cpu)
            cpus.push_back(static_cast<int>(cpu));
    return cpus;
}

} // namespace

int CoreBudget::available() const {
    const int usable = quota > 0 ? std::min(cores, quota) : cores;
    return std::max(1, usable);
}

CoreBudget coreBudget(const std::vector<int>& cpus, const fs::path& root) {
    CoreBudget b;
    b.cpus = std::max(1, static_cast<int>(cpus.size()));
    b.cores = cpus.empty() ? 1 : physicalCores(cpus, root);
    b.quota = cgroupQuota(root);
    return b;
}

CoreBudget coreBudget() {
    return coreBudget(affinityCpus(), "/");
}

int availableCores() {
    return coreBudget().available();
}

} // namespace segforge::core
