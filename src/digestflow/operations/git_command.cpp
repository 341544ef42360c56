#include "digestflow/operations/git_command.hpp"

#include "digestflow/error.hpp"

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

// Git's answers we read are short (porcelain, a hash, a status); a runaway output is cut, not buffered whole.
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
        throw_usage(std::string("cannot run git: pipe failed: ") + std::strerror(errno));
    read_end.reset(fds[0]);
    write_end.reset(fds[1]);
}

// The environment with our overrides: the parent's, minus the names we set.
std::vector<std::string> child_environment() {
    static constexpr std::string_view overridden[] = {"LC_ALL=", "LANGUAGE=", "GIT_TERMINAL_PROMPT=",
                                                        "GIT_LITERAL_PATHSPECS="};
    std::vector<std::string> env;
    for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
        const std::string_view value(*entry);
        bool skip = false;
        for (const std::string_view prefix : overridden)
            skip = skip || value.starts_with(prefix);
        if (!skip)
            env.emplace_back(value);
    }
    env.emplace_back("LC_ALL=C");
    env.emplace_back("LANGUAGE=C");
    env.emplace_back("GIT_TERMINAL_PROMPT=0");
    env.emplace_back("GIT_LITERAL_PATHSPECS=1");  // a ledger named "a*b" is that file, not a glob
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

GitResult run_git(const std::string& dir, const std::vector<std::string>& args, std::chrono::seconds timeout) {
    std::vector<std::string> argv = {"git", "-C", dir};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<std::string> env = child_environment();
    std::vector<char*> argv_c = c_strings(argv);
    std::vector<char*> env_c = c_strings(env);

    Fd out_read, out_write, err_read, err_write;
    make_pipe(out_read, out_write);
    make_pipe(err_read, err_write);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out_write.get(), 1);
    posix_spawn_file_actions_adddup2(&actions, err_write.get(), 2);
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    // Its own process group, so a timeout can stop git and whatever it started (ssh, git-remote-http).
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attributes, 0);
    pid_t pid = -1;
    const int spawned = ::posix_spawnp(&pid, "git", &actions, &attributes, argv_c.data(), env_c.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (spawned != 0)
        throw_usage(std::string("cannot run git: ") + std::strerror(spawned) + "; install git and put it on PATH");
    out_write.reset();
    err_write.reset();

    GitResult result;
    pollfd fds[2] = {{out_read.get(), POLLIN, 0}, {err_read.get(), POLLIN, 0}};
    std::string* sinks[2] = {&result.out, &result.err};
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    const auto kill_and_throw = [&](const std::string& why) {
        ::kill(-pid, SIGKILL);
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        throw_registry(why);
    };
    char buffer[8192];
    while (fds[0].fd >= 0 || fds[1].fd >= 0) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0)
            kill_and_throw("git " + (args.empty() ? std::string() : args.front()) + " in " + dir +
                           " did not finish within " + std::to_string(timeout.count()) +
                           " s and was stopped; check the remote is reachable and git needs no prompt");
        const int ready = ::poll(fds, 2, static_cast<int>(left.count()));
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            kill_and_throw(std::string("reading git's output failed: ") + std::strerror(errno));
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
    }
    // Both streams closed: git is exiting (a grandchild keeping them open would have held us to the deadline).
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            throw_registry(std::string("waiting for git failed: ") + std::strerror(errno));
    }
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

std::string first_line(const std::string& output) {
    const auto start = output.find_first_not_of("\r\n");
    if (start == std::string::npos) return "";
    std::string line = output.substr(start, output.find('\n', start) - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
}

}  // namespace digestflow::operations
