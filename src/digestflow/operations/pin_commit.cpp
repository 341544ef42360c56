#include "digestflow/operations/pin_commit.hpp"

#include "digestflow/error.hpp"
#include "digestflow/operations/git_command.hpp"
#include "digestflow/quote.hpp"

#include <cstdlib>
#include <filesystem>

namespace digestflow::operations {

namespace {

std::string folder_of(const std::string& file) {
    std::filesystem::path absolute = std::filesystem::absolute(file);
    return absolute.parent_path().string();
}

std::string trimmed(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    return text;
}

// The file Git tracks: a symbolic link is written through, so the commit must hold its target.
std::string tracked_path(const std::string& file) {
    std::error_code ec;
    const auto resolved = std::filesystem::weakly_canonical(std::filesystem::absolute(file), ec);
    return ec ? std::filesystem::absolute(file).string() : resolved.string();
}

std::string top_level(const std::string& folder) {
    const GitResult top = run_git(folder, {"rev-parse", "--show-toplevel"});
    return top.ok() ? trimmed(top.out) : "";
}

}  // namespace

std::string pin_work_tree(const std::vector<std::string>& files) {
    std::string work_tree;
    for (const auto& file : files) {
        const GitResult top = run_git(folder_of(file), {"rev-parse", "--show-toplevel"});
        if (!top.ok())
            throw_usage(quote(file) + " is not in a Git work tree: --commit needs one (" + first_line(top.err) + ")");
        const std::string here = trimmed(top.out);
        const std::string target = tracked_path(file);
        if (target != std::filesystem::absolute(file).string() && top_level(folder_of(target)) != here)
            throw_usage(quote(file) + " is a link to " + quote(target) + ", which is outside the work tree " + quote(here) +
                        ": pin the file there, with --commit in its own repository");
        if (work_tree.empty()) work_tree = here;
        if (here != work_tree)
            throw_usage(quote(file) + " is in the work tree " + quote(here) + ", not " + quote(work_tree) +
                        ": --commit makes one commit; pin each repository's files in their own run");
        const GitResult status = run_git(work_tree, {"status", "--porcelain=v1", "--", target});
        if (!status.ok()) throw_usage(quote(file) + ": git status failed: " + first_line(status.err));
        if (status.out.rfind("??", 0) == 0)
            throw_usage(quote(file) + " is not tracked by Git: git add and commit it first, then pin with --commit");
        if (!status.out.empty())
            throw_usage(quote(file) + " has changes that are not committed: commit or stash them first, so the "
                        "--commit commit holds the pin and nothing else");
    }
    return work_tree;
}

std::string commit_pins(const std::string& work_tree, const std::vector<std::string>& files,
                        const std::string& message) {
    std::vector<std::string> add{"add", "--"};
    std::vector<std::string> commit{"commit", "-q", "-m", message, "--"};
    for (const auto& file : files) {
        add.push_back(tracked_path(file));
        commit.push_back(tracked_path(file));
    }
    if (GitResult added = run_git(work_tree, add); !added.ok())
        throw_usage("git add of the pinned files failed: " + first_line(added.err));
    if (GitResult committed = run_git(work_tree, commit); !committed.ok()) {
        std::string why = first_line(committed.err + "\n" + committed.out);
        if (why.empty()) why = "it exited " + std::to_string(committed.exit_code) + " with no message (a pre-commit or commit-msg hook refused?)";
        throw_usage("git commit of the pin in " + quote(work_tree) + " failed: " + printable(why) +
                    " (the files were put back as they were; run git commit there to see more)");
    }
    const GitResult head = run_git(work_tree, {"rev-parse", "HEAD"});
    if (!head.ok()) throw_usage("git rev-parse HEAD failed after the pin commit: " + first_line(head.err));
    return trimmed(head.out);
}

void unstage(const std::string& work_tree, const std::vector<std::string>& files) {
    std::vector<std::string> reset{"reset", "-q", "--"};
    for (const auto& file : files) reset.push_back(tracked_path(file));
    run_git(work_tree, reset);
}

}  // namespace digestflow::operations
