#include "cli/interrupt_watch.hpp"

#include <atomic>
#include <chrono>
#include <csignal>

namespace segforge::cli {

namespace {

std::atomic<int> g_signal{0};
static_assert(std::atomic<int>::is_always_lock_free,
              "the handler may only touch lock-free atomics");

struct sigaction g_previousInt, g_previousTerm;
bool g_watchingInt = false;

extern "C" void onStopSignal(int signal) {
    int expected = 0;
    g_signal.compare_exchange_strong(expected, signal);
}

void install(int signal, struct sigaction& previous) {
    struct sigaction action {};
    action.sa_handler = &onStopSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESETHAND; // the second signal takes the default action
    sigaction(signal, &action, &previous);
}

} // namespace

InterruptWatch::InterruptWatch(std::function<void()> onSignal) {
    g_signal = 0;
    struct sigaction current {};
    sigaction(SIGINT, nullptr, &current);
    g_watchingInt = current.sa_handler != SIG_IGN;
    if (g_watchingInt)
        install(SIGINT, g_previousInt);
    install(SIGTERM, g_previousTerm);
    m_watcher = std::jthread([callback = std::move(onSignal)](std::stop_token stop) {
        while (!stop.stop_requested()) {
            if (g_signal.load() != 0) {
                callback();
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    });
}

InterruptWatch::~InterruptWatch() {
    m_watcher.request_stop();
    m_watcher.join();
    if (g_watchingInt)
        sigaction(SIGINT, &g_previousInt, nullptr);
    sigaction(SIGTERM, &g_previousTerm, nullptr);
}

int InterruptWatch::signal() const {
    return g_signal.load();
}

} // namespace segforge::cli
