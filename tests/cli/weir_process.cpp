#include "cli/weir_process.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdexcept>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace weir::test {

namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

void close_fd(int& fd) {
  if (fd >= 0)
    ::close(fd);
  fd = -1;
}

/// Milliseconds left until `deadline`, at least 0.
int remaining_ms(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
    deadline - std::chrono::steady_clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

void record_status(int status, process_result& result) {
  if (WIFEXITED(status))
    result.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    result.term_signal = WTERMSIG(status);
}

/// Owns the spawn attributes and file actions until posix_spawn is done.
struct spawn_setup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;

  spawn_setup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }

  ~spawn_setup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
};

} // namespace

std::string weir_binary() {
#ifdef WEIR_BINARY
  return WEIR_BINARY;
#else
  if (const char* dir = std::getenv("WEIR_BUILD_DIR"))
    return std::string{dir} + "/weir";
  throw std::runtime_error("neither WEIR_BINARY nor WEIR_BUILD_DIR is set");
#endif
}

std::string job_fixture(const std::string& name) {
  return source_file("tests/cli/jobs/" + name);
}

std::string source_file(const std::string& name) {
  return std::string{WEIR_SOURCE_DIR} + "/" + name;
}

weir_process::weir_process(const std::vector<std::string>& args,
                           std::chrono::steady_clock::duration deadline)
  : weir_process(program_path{weir_binary()}, args, deadline) {
}

weir_process::weir_process(const program_path& program,
                           const std::vector<std::string>& args,
                           std::chrono::steady_clock::duration deadline)
  : deadline_(std::chrono::steady_clock::now() + deadline) {
  int out_pipe[2];
  int err_pipe[2];
  // Close-on-exec, so that no other child inherits these ends; dup2 clears
  // the flag on the child's copies.
  if (::pipe2(out_pipe, O_CLOEXEC) != 0)
    fail("pipe2");
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    fail("pipe2");
  }
  spawn_setup setup;
  posix_spawn_file_actions_addopen(&setup.actions, STDIN_FILENO, "/dev/null",
                                   O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&setup.actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&setup.actions, err_pipe[1], STDERR_FILENO);
  // The child starts with no signal blocked and SIGINT, SIGTERM and SIGPIPE
  // at their defaults, whatever the test runner set up.
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&setup.attr, &none);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&setup.attr, &defaults);
  posix_spawnattr_setflags(&setup.attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  const auto& binary = program.path;
  std::vector<std::string> argv_storage{binary};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_storage)
    argv.push_back(arg.data());
  argv.push_back(nullptr);
  auto rc = posix_spawn(&pid_, binary.c_str(), &setup.actions, &setup.attr,
                        argv.data(), environ);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  out_fd_ = out_pipe[0];
  err_fd_ = err_pipe[0];
  if (rc != 0) {
    pid_ = -1;
    close_fd(out_fd_);
    close_fd(err_fd_);
    errno = rc;
    fail("cannot spawn " + binary);
  }
}

weir_process::~weir_process() {
  if (pid_ > 0)
    kill_and_reap();
  close_fd(out_fd_);
  close_fd(err_fd_);
}

bool weir_process::pump() {
  if (out_fd_ < 0 && err_fd_ < 0)
    return false;
  pollfd fds[2];
  nfds_t n = 0;
  for (auto fd : {out_fd_, err_fd_})
    if (fd >= 0)
      fds[n++] = pollfd{fd, POLLIN, 0};
  auto ready = ::poll(fds, n, remaining_ms(deadline_));
  if (ready < 0 && errno == EINTR)
    return true;
  if (ready < 0)
    fail("poll");
  if (ready == 0) {
    result_.timed_out = true;
    kill_and_reap();
    close_fd(out_fd_);
    close_fd(err_fd_);
    return false;
  }
  for (nfds_t i = 0; i < n; ++i) {
    if (fds[i].revents == 0)
      continue;
    auto& fd = fds[i].fd == out_fd_ ? out_fd_ : err_fd_;
    auto& buf = fds[i].fd == out_fd_ ? result_.out : result_.err;
    char chunk[4096];
    auto got = ::read(fd, chunk, sizeof(chunk));
    if (got > 0)
      buf.append(chunk, static_cast<size_t>(got));
    else if (got == 0 || errno != EINTR)
      close_fd(fd);
  }
  return out_fd_ >= 0 || err_fd_ >= 0;
}

bool weir_process::wait_for_stderr(const std::string& text) {
  while (!contains(result_.err, text))
    if (!pump())
      return contains(result_.err, text);
  return true;
}

void weir_process::send(int sig) {
  if (pid_ > 0 && ::kill(pid_, sig) != 0)
    fail("kill");
}

process_result weir_process::wait() {
  while (pump()) {
    // Read until the child closes both pipes (or is killed).
  }
  if (pid_ <= 0)
    return result_;
  // Pipes close when the child exits; still, keep the deadline for the
  // reaping itself by polling a pidfd when the kernel has them.
  auto pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  if (pidfd >= 0) {
    pollfd fd{pidfd, POLLIN, 0};
    auto ready = ::poll(&fd, 1, remaining_ms(deadline_));
    ::close(pidfd);
    if (ready == 0) {
      result_.timed_out = true;
      kill_and_reap();
      return result_;
    }
  }
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0)
    if (errno != EINTR)
      fail("waitpid");
  pid_ = -1;
  record_status(status, result_);
  return result_;
}

void weir_process::kill_and_reap() {
  ::kill(pid_, SIGKILL);
  int status = 0;
  pid_t reaped;
  do
    reaped = ::waitpid(pid_, &status, 0);
  while (reaped < 0 && errno == EINTR);
  pid_ = -1;
  if (reaped > 0)
    record_status(status, result_);
}

process_result run_weir(const std::vector<std::string>& args) {
  return weir_process{args}.wait();
}

} // namespace weir::test
