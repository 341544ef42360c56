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

}  // namespace

std::string pin_work_tree(const std::vector<std::string>& files) {
    std::string work_tree;
    for (const auto& file : files) {
        const GitResult top = run_git(folder_of(file), {"rev-parse", "--show-toplevel"});
        if (!top.ok())
            throw_usage(quote(file) + " is not in a Git work tree: --commit needs one (" + first_line(top.err) + ")");
        const std::string here = trimmed(top.out);
        if (work_tree.empty()) work_tree = here;
        if (here != work_tree)
            throw_usage(quote(file) + " is in the work tree " + quote(here) + ", not " + quote(work_tree) +
                        ": --commit makes one commit; pin each repository's files in their own run");
        const std::string absolute = std::filesystem::absolute(file).string();
        const GitResult status = run_git(work_tree, {"status", "--porcelain=v1", "--", absolute});
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
        add.push_back(std::filesystem::absolute(file).string());
        commit.push_back(std::filesystem::absolute(file).string());
    }
    if (GitResult added = run_git(work_tree, add); !added.ok())
        throw_usage("git add of the pinned files failed: " + first_line(added.err));
    if (GitResult committed = run_git(work_tree, commit); !committed.ok())
        throw_usage("git commit of the pin failed: " + first_line(committed.err + "\n" + committed.out) +
                    " (the files were put back as they were)");
    const GitResult head = run_git(work_tree, {"rev-parse", "HEAD"});
    if (!head.ok()) throw_usage("git rev-parse HEAD failed after the pin commit: " + first_line(head.err));
    return trimmed(head.out);
}

void unstage(const std::string& work_tree, const std::vector<std::string>& files) {
    std::vector<std::string> reset{"reset", "-q", "--"};
    for (const auto& file : files) reset.push_back(std::filesystem::absolute(file).string());
    run_git(work_tree, reset);
}

}  // namespace digestflow::operations
