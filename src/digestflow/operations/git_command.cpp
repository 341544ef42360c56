#include "digestflow/operations/git_command.hpp"

#include "digestflow/operations/subprocess.hpp"

namespace digestflow::operations {

GitResult run_git(const std::string& dir, const std::vector<std::string>& args, std::chrono::seconds timeout) {
    ProgramRun run;
    run.argv = {"git", "-C", dir};
    run.argv.insert(run.argv.end(), args.begin(), args.end());
    // LC_ALL=C: the words we parse are git's English ones; no prompt: a CI job must fail, not wait for a
    // password; literal pathspecs: a ledger named "a*b" is that file, not a glob.
    run.environment = {"LC_ALL=C", "LANGUAGE=C", "GIT_TERMINAL_PROMPT=0", "GIT_LITERAL_PATHSPECS=1"};
    // The repository is the one `-C dir` finds: a GIT_DIR (or work tree, index) exported by a hook or a CI step
    // would send the commit to another repository.
    run.unset = {"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES",
                 "GIT_COMMON_DIR", "GIT_NAMESPACE", "GIT_PREFIX"};
    run.timeout = timeout;
    run.install_hint = "; install git and put it on PATH";
    try {
        return run_program(run);
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::Registry) throw;
        throw Error(ErrorKind::Registry, std::string(e.what()) + " (in " + dir +
                                             "); check the remote is reachable and git needs no prompt");
    }
}

std::string first_line(const std::string& output) {
    const auto start = output.find_first_not_of("\r\n");
    if (start == std::string::npos) return "";
    std::string line = output.substr(start, output.find('\n', start) - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
}

}  // namespace digestflow::operations
