#pragma once

// Turns Ctrl-C (SIGINT) and SIGTERM into a graceful stop for long commands:
// while an InterruptWatch lives, the first such signal calls `onSignal` once,
// from a watcher thread (never from the signal handler), so the callback may
// take locks. The handler resets itself, so a second Ctrl-C kills the process
// the usual way. A SIGINT that was ignored when the watch started (nohup, a
// background job of a non-interactive shell) stays ignored.

#include <functional>
#include <stop_token>
#include <thread>

namespace segforge::cli {

class InterruptWatch {
public:
    explicit InterruptWatch(std::function<void()> onSignal);
    ~InterruptWatch(); ///< stops watching and restores the previous handlers
    InterruptWatch(const InterruptWatch&) = delete;
    InterruptWatch& operator=(const InterruptWatch&) = delete;

    /// The signal that arrived (SIGINT or SIGTERM), or 0.
    int signal() const;

private:
    std::jthread m_watcher;
};

} // namespace segforge::cli
