#include "support/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace digestflow::testsupport {
namespace {

using Clock = std::chrono::steady_clock;

// Owns one file descriptor.
class Fd {
  public:
    Fd() = default;
    explicit Fd(int fd) : m_fd(fd) {}
    ~Fd() { reset(); }
    Fd(Fd&& other) noexcept : m_fd(other.release()) {}
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) {
            reset(other.release());
        }
        return *this;
    }
    int get() const { return m_fd; }
    int release() {
        int fd = m_fd;
        m_fd = -1;
        return fd;
    }
    void reset(int fd = -1) {
        if (m_fd >= 0) {
            ::close(m_fd);
        }
        m_fd = fd;
    }

  private:
    int m_fd = -1;
};

[[noreturn]] void throw_errno(const std::string& what) {
    throw std::runtime_error(what + ": " + std::strerror(errno));
}

// Every pipe is close-on-exec so that children spawned concurrently by other threads never inherit it.
std::pair<Fd, Fd> make_pipe() {
    std::array<int, 2> fds{};
    if (::pipe2(fds.data(), O_CLOEXEC) != 0) {
        throw_errno("pipe2");
    }
    return {Fd(fds[0]), Fd(fds[1])};
}

Fd open_file(const std::string& path, int flags) {
    int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
    if (fd < 0) {
        throw_errno("open " + path);
    }
    return Fd(fd);
}

// The environment is built before fork: the child may only call async-signal-safe functions.
std::vector<std::string> merged_environment(const std::map<std::string, std::string>& extra) {
    std::vector<std::string> result;
    for (char** entry = environ; *entry != nullptr; ++entry) {
        std::string item(*entry);
        std::string name = item.substr(0, item.find('='));
        if (extra.find(name) == extra.end()) {
            result.push_back(std::move(item));
        }
    }
    for (const auto& [name, value] : extra) {
        result.push_back(name + "=" + value);
    }
    return result;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
    std::vector<char*> result;
    for (auto& s : strings) {
        result.push_back(s.data());
    }
    result.push_back(nullptr);
    return result;
}

struct ChildIo {
    int stdin_fd;
    int stdout_fd;
    int stderr_fd;
    std::string working_dir;
};

// fork + exec in a new process group. Reports exec failure through a close-on-exec pipe, so a missing
// program is an exception here instead of a mysterious exit code 127.
pid_t spawn(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
            const ChildIo& io) {
    if (argv.empty()) {
        throw std::invalid_argument("spawn: empty argv");
    }
    std::vector<std::string> args = argv;
    std::vector<std::string> environment = merged_environment(env);
    std::vector<char*> c_args = c_strings(args);
    std::vector<char*> c_env = c_strings(environment);
    auto [error_read, error_write] = make_pipe();

    pid_t pid = ::fork();
    if (pid < 0) {
        throw_errno("fork");
    }
    if (pid == 0) {
        ::setpgid(0, 0);
        ::signal(SIGPIPE, SIG_DFL); // the test process ignores SIGPIPE; children get the usual default
        ::dup2(io.stdin_fd, STDIN_FILENO);
        ::dup2(io.stdout_fd, STDOUT_FILENO);
        ::dup2(io.stderr_fd, STDERR_FILENO);
        if (!io.working_dir.empty() && ::chdir(io.working_dir.c_str()) != 0) {
            int error = errno;
            (void)!::write(error_write.get(), &error, sizeof error);
            ::_exit(127);
        }
        ::execvpe(c_args[0], c_args.data(), c_env.data());
        int error = errno;
        (void)!::write(error_write.get(), &error, sizeof error);
        ::_exit(127);
    }
    ::setpgid(pid, pid); // also from the parent, so killpg works even before the child ran
    error_write.reset();
    int child_errno = 0;
    ssize_t n;
    do {
        n = ::read(error_read.get(), &child_errno, sizeof child_errno);
    } while (n < 0 && errno == EINTR);
    if (n == static_cast<ssize_t>(sizeof child_errno)) {
        int status = 0;
        ::waitpid(pid, &status, 0);
        throw std::runtime_error("cannot start " + describe_command(argv) + " (in '" + io.working_dir +
                                 "'): " + std::strerror(child_errno));
    }
    return pid;
}

int decode_status(int status) {
    if (WIFEXITED(status)) {
        return WEXITSTATUS(status);
    }
    if (WIFSIGNALED(status)) {
        return 128 + WTERMSIG(status);
    }
    return -1;
}

void ignore_sigpipe_once() {
    // Writing stdin to a child that already exited must be an EPIPE error, not the death of the test.
    static const bool done = [] {
        ::signal(SIGPIPE, SIG_IGN);
        return true;
    }();
    (void)done;
}

} // namespace

std::string RunResult::describe() const {
    std::ostringstream out;
    out << "exit code " << exit_code << "\n--- stdout ---\n"
        << stdout_text << "\n--- stderr ---\n"
        << stderr_text;
    return out.str();
}

std::string describe_command(const std::vector<std::string>& argv) {
    std::string result;
    for (const auto& arg : argv) {
        if (!result.empty()) {
            result += ' ';
        }
        bool plain = !arg.empty() && arg.find_first_of(" \t\n'\"\\$") == std::string::npos;
        result += plain ? arg : "'" + arg + "'";
    }
    return result;
}

RunResult run_command(const std::vector<std::string>& argv, const RunOptions& options) {
    ignore_sigpipe_once();
    auto [out_read, out_write] = make_pipe();
    auto [err_read, err_write] = make_pipe();
    Fd in_read;
    Fd in_write;
    if (options.stdin_text) {
        std::tie(in_read, in_write) = make_pipe();
        ::fcntl(in_write.get(), F_SETFL, O_NONBLOCK);
    } else {
        in_read = open_file("/dev/null", O_RDONLY);
    }

    pid_t pid =
        spawn(argv, options.env, {in_read.get(), out_write.get(), err_write.get(), options.working_dir});
    in_read.reset();
    out_write.reset();
    err_write.reset();

    RunResult result;
    const std::string& input = options.stdin_text ? *options.stdin_text : std::string();
    size_t written = 0;
    if (options.stdin_text && input.empty()) {
        in_write.reset();
    }
    const auto deadline = Clock::now() + std::chrono::seconds(options.timeout_seconds);
    std::array<char, 65536> buffer{};

    // Poll all pipes together: a child blocked on a full stderr pipe while we wait on stdout would deadlock.
    while (out_read.get() >= 0 || err_read.get() >= 0) {
        auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (remaining.count() <= 0) {
            ::kill(-pid, SIGKILL);
            int status = 0;
            ::waitpid(pid, &status, 0);
            throw std::runtime_error("timeout after " + std::to_string(options.timeout_seconds) +
                                     " s, killed: " + describe_command(argv) + "\n--- stdout so far ---\n" +
                                     result.stdout_text + "\n--- stderr so far ---\n" + result.stderr_text);
        }
        std::vector<pollfd> fds;
        fds.push_back({out_read.get(), POLLIN, 0});
        fds.push_back({err_read.get(), POLLIN, 0});
        fds.push_back({in_write.get(), POLLOUT, 0}); // negative fds are ignored by poll
        int ready = ::poll(fds.data(), fds.size(), static_cast<int>(std::min<long>(remaining.count(), 1000)));
        if (ready < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw_errno("poll");
        }
        Fd* readers[] = {&out_read, &err_read};
        std::string* sinks[] = {&result.stdout_text, &result.stderr_text};
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
                continue;
            }
            ssize_t n = ::read(fds[i].fd, buffer.data(), buffer.size());
            if (n > 0) {
                sinks[i]->append(buffer.data(), static_cast<size_t>(n));
            } else if (n == 0 || errno != EINTR) {
                readers[i]->reset();
            }
        }
        if (fds[2].fd >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
            ssize_t n = ::write(in_write.get(), input.data() + written, input.size() - written);
            if (n > 0) {
                written += static_cast<size_t>(n);
            }
            // EPIPE: the child does not want (more) input; that is its business.
            if (written == input.size() || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                in_write.reset();
            }
        }
    }
    in_write.reset();
    int status = 0;
    struct rusage usage {};
    while (::wait4(pid, &status, 0, &usage) < 0) {
        if (errno != EINTR) {
            throw_errno("wait4");
        }
    }
    result.exit_code = decode_status(status);
    result.peak_rss_kib = usage.ru_maxrss;
    return result;
}

RunResult run_checked(const std::vector<std::string>& argv, const RunOptions& options) {
    RunResult result = run_command(argv, options);
    if (!result.ok()) {
        throw std::runtime_error("command failed: " + describe_command(argv) + "\n" + result.describe());
    }
    return result;
}

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& argv,
                                     const std::map<std::string, std::string>& env,
                                     const std::string& log_path, const std::string& stderr_log_path) {
    ignore_sigpipe_once();
    Fd in = open_file("/dev/null", O_RDONLY);
    Fd out = open_file(log_path, O_WRONLY | O_CREAT | O_APPEND);
    Fd err = stderr_log_path.empty() ? Fd(::dup(out.get()))
                                     : open_file(stderr_log_path, O_WRONLY | O_CREAT | O_APPEND);
    m_pid = spawn(argv, env, {in.get(), out.get(), err.get(), ""});
}

BackgroundProcess::~BackgroundProcess() {
    stop();
}

BackgroundProcess::BackgroundProcess(BackgroundProcess&& other) noexcept
    : m_pid(other.m_pid), m_exit_code(other.m_exit_code) {
    other.m_pid = -1;
}

BackgroundProcess& BackgroundProcess::operator=(BackgroundProcess&& other) noexcept {
    if (this != &other) {
        stop();
        m_pid = other.m_pid;
        m_exit_code = other.m_exit_code;
        other.m_pid = -1;
    }
    return *this;
}

// Checks without reaping (WNOWAIT): while the leader is a zombie its pid, and so its process group id,
// cannot be reused, which makes the final killpg in stop() safe.
bool BackgroundProcess::running() {
    if (m_pid <= 0) {
        return false;
    }
    if (m_exit_code) {
        return false;
    }
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(m_pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
        return false;
    }
    if (info.si_pid == 0) {
        return true;
    }
    m_exit_code = info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
    return false;
}

void BackgroundProcess::stop(std::chrono::milliseconds grace) {
    if (m_pid <= 0) {
        return;
    }
    if (running()) {
        ::kill(-m_pid, SIGTERM);
        const auto deadline = Clock::now() + grace;
        while (running() && Clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        if (running()) {
            ::kill(-m_pid, SIGKILL);
            siginfo_t info{};
            ::waitid(P_PID, static_cast<id_t>(m_pid), &info, WEXITED | WNOWAIT);
            running();
        }
    }
    ::kill(-m_pid, SIGKILL); // helpers the leader forked must not outlive it
    int status = 0;
    while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
    }
    m_pid = -1;
}

} // namespace digestflow::testsupport
