#include "cli/signals.hpp"

#include <csignal>
#include <mutex>

#include <pthread.h>

namespace weir::cli {

struct signal_watcher::impl {
  sigset_t set;
  std::mutex mtx;
  std::function<void(int)> callback;
  std::thread thread;
};

signal_watcher::signal_watcher() : impl_(new impl) {
  sigemptyset(&impl_->set);
  sigaddset(&impl_->set, SIGINT);
  sigaddset(&impl_->set, SIGTERM);
  // SIGUSR2 only wakes the thread up for shutdown.
  sigaddset(&impl_->set, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &impl_->set, nullptr);
  impl_->thread = std::thread{[this] {
    for (;;) {
      int sig = 0;
      if (sigwait(&impl_->set, &sig) != 0 || sig == SIGUSR2)
        return;
      std::function<void(int)> f;
      {
        std::lock_guard<std::mutex> guard{impl_->mtx};
        f = impl_->callback;
      }
      if (f)
        f(sig);
    }
  }};
}

signal_watcher::~signal_watcher() {
  pthread_kill(impl_->thread.native_handle(), SIGUSR2);
  impl_->thread.join();
  delete impl_;
}

void signal_watcher::on_signal(std::function<void(int)> f) {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  impl_->callback = std::move(f);
}

} // namespace weir::cli
