#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace digestflow::testsupport {

struct RunOptions {
    std::map<std::string, std::string> env; // added to (and overriding) the current environment
    std::optional<std::string> stdin_text;  // nullopt: stdin is /dev/null
    std::string working_dir;                // empty: the current directory
    int timeout_seconds = 120;              // the process group is killed and run_command throws
};

struct RunResult {
    int exit_code = -1; // 128 + N when the process died of signal N
    std::string stdout_text;
    std::string stderr_text;
    long peak_rss_kib = 0; // the child's peak resident set size (wait4's ru_maxrss), for memory bounds

    bool ok() const { return exit_code == 0; }
    // Exit code plus both streams, for assertion messages.
    std::string describe() const;
};

// Runs argv[0] (searched in PATH) to completion, capturing stdout and stderr. Throws std::runtime_error
// when the program cannot be started or outlives the timeout; a non-zero exit is just a result.
RunResult run_command(const std::vector<std::string>& argv, const RunOptions& options = {});

// run_command that also throws (with the command line and its output) unless the exit code is 0.
RunResult run_checked(const std::vector<std::string>& argv, const RunOptions& options = {});

// "prog 'arg one' two" - for messages only.
std::string describe_command(const std::vector<std::string>& argv);

// A long-running child (a server) in its own process group, stdout and stderr appended to log files.
// The destructor stops it: SIGTERM to the group, then SIGKILL after a grace period.
class BackgroundProcess {
  public:
    // stderr_log_path empty: stderr goes to log_path too.
    BackgroundProcess(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                      const std::string& log_path, const std::string& stderr_log_path = "");
    ~BackgroundProcess();
    BackgroundProcess(BackgroundProcess&& other) noexcept;
    BackgroundProcess& operator=(BackgroundProcess&& other) noexcept;
    BackgroundProcess(const BackgroundProcess&) = delete;
    BackgroundProcess& operator=(const BackgroundProcess&) = delete;

    pid_t pid() const { return m_pid; }
    // False once the child has exited; exit_code() is set then.
    bool running();
    std::optional<int> exit_code() const { return m_exit_code; }
    // Idempotent.
    void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(3000));

  private:
    pid_t m_pid = -1;
    std::optional<int> m_exit_code;
};

} // namespace digestflow::testsupport
