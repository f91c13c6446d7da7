#pragma once

#include <functional>
#include <thread>

namespace weir::cli {

/// Turns SIGINT and SIGTERM into a callback on a dedicated thread. Construct
/// it before any other thread starts (the signals are blocked in the calling
/// thread, and threads inherit that mask); destroy it to stop listening.
class signal_watcher {
public:
  signal_watcher();
  ~signal_watcher();

  signal_watcher(const signal_watcher&) = delete;
  signal_watcher& operator=(const signal_watcher&) = delete;

  /// Sets the callback run (on the watcher thread) for each signal; the
  /// argument is the signal number.
  void on_signal(std::function<void(int)> f);

private:
  struct impl;
  impl* impl_;
};

} // namespace weir::cli
