#include "digestflow/operations/subprocess.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

extern char** environ;

namespace digestflow::operations {
namespace {

// The answers we read are short (porcelain, a hash, a signature); a runaway output is cut, not buffered whole.
constexpr std::size_t k_output_cap = 1 << 20;

class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : m_fd(fd) {}
    ~Fd() { reset(); }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return m_fd; }
    void reset(int fd = -1) {
        if (m_fd >= 0)
            ::close(m_fd);
        m_fd = fd;
    }

private:
    int m_fd = -1;
};

void make_pipe(Fd& read_end, Fd& write_end) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        throw_usage(std::string("cannot start a program: pipe failed: ") + std::strerror(errno));
    read_end.reset(fds[0]);
    write_end.reset(fds[1]);
}

// The parent's environment with `overrides` ("NAME=VALUE") replacing the same names and `unset` removed.
std::vector<std::string> child_environment(const std::vector<std::string>& overrides, const std::vector<std::string>& unset) {
    std::vector<std::string> env;
    for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
        const std::string_view value(*entry);
        bool skip = false;
        for (const std::string& o : overrides)
            skip = skip || value.starts_with(std::string_view(o).substr(0, o.find('=') + 1));
        for (const std::string& name : unset)
            skip = skip || value.starts_with(name + "=");
        if (!skip)
            env.emplace_back(value);
    }
    env.insert(env.end(), overrides.begin(), overrides.end());
    return env;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
    std::vector<char*> pointers;
    for (std::string& s : strings)
        pointers.push_back(s.data());
    pointers.push_back(nullptr);
    return pointers;
}

}  // namespace

ProgramResult run_program(const ProgramRun& run) {
    const std::string name = run.argv.empty() ? std::string("?") : run.argv.front();
    std::vector<std::string> argv = run.argv;
    std::vector<std::string> env = child_environment(run.environment, run.unset);
    std::vector<char*> argv_c = c_strings(argv);
    std::vector<char*> env_c = c_strings(env);

    Fd out_read, out_write, err_read, err_write, in_read, in_write;
    make_pipe(out_read, out_write);
    make_pipe(err_read, err_write);
    if (run.stdin_text) {
        make_pipe(in_read, in_write);
        ::fcntl(in_write.get(), F_SETFL, O_NONBLOCK);
        ::signal(SIGPIPE, SIG_IGN);  // a child that stops reading is an error result, not our death
    }

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (run.stdin_text)
        posix_spawn_file_actions_adddup2(&actions, in_read.get(), 0);
    else
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out_write.get(), 1);
    posix_spawn_file_actions_adddup2(&actions, err_write.get(), 2);
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    // Its own process group, so a timeout stops the program and whatever it started (ssh, a remote helper).
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attributes, 0);
    pid_t pid = -1;
    const int spawned = ::posix_spawnp(&pid, name.c_str(), &actions, &attributes, argv_c.data(), env_c.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (spawned != 0)
        throw_usage("cannot run " + name + ": " + std::strerror(spawned) + run.install_hint);
    out_write.reset();
    err_write.reset();
    in_read.reset();

    ProgramResult result;
    std::string_view to_write = run.stdin_text ? std::string_view(*run.stdin_text) : std::string_view();
    if (run.stdin_text && to_write.empty()) in_write.reset();
    pollfd fds[3] = {{out_read.get(), POLLIN, 0}, {err_read.get(), POLLIN, 0}, {in_write.get(), POLLOUT, 0}};
    std::string* sinks[2] = {&result.out, &result.err};
    const auto deadline = std::chrono::steady_clock::now() + run.timeout;
    const auto kill_and_throw = [&](const std::string& why) {
        ::kill(-pid, SIGKILL);
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        throw Error(run.timeout_kind, why);
    };
    char buffer[8192];
    while (fds[0].fd >= 0 || fds[1].fd >= 0) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0)
            kill_and_throw(name + " " + (run.argv.size() > 1 ? run.argv[1] : std::string()) + " did not finish within " +
                           std::to_string(run.timeout.count()) + " s and was stopped");
        fds[2].fd = in_write.get();
        const int ready = ::poll(fds, 3, static_cast<int>(left.count()));
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            kill_and_throw("reading the output of " + name + " failed: " + std::strerror(errno));
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0)
                continue;
            const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
            if (n > 0) {
                if (sinks[i]->size() < k_output_cap)
                    sinks[i]->append(buffer, static_cast<std::size_t>(n));
            } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                fds[i].fd = -1;
            }
        }
        if (fds[2].fd >= 0 && fds[2].revents != 0) {
            const ssize_t n = ::write(fds[2].fd, to_write.data(), to_write.size());
            if (n > 0) to_write.remove_prefix(static_cast<std::size_t>(n));
            if ((n < 0 && errno != EAGAIN && errno != EINTR) || to_write.empty()) in_write.reset();  // EOF for the child
        }
    }
    // Both streams closed: the program is exiting (a grandchild keeping them open would have held us to the
    // deadline).
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            throw Error(run.timeout_kind, "waiting for " + name + " failed: " + std::strerror(errno));
    }
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

}  // namespace digestflow::operations
