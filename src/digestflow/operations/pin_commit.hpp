// record pin --commit: one Git commit holding exactly the pinned files, so `git log -p -- FILE` is the file's
// digest history. Checked before anything is written; undone (files restored) when the commit fails.
#pragma once

#include <string>
#include <vector>

namespace digestflow::operations {

// The work tree that holds every file. Refuses (Error(Usage), one line naming the file) a file outside a Git
// work tree, files in different work trees, and a file that is untracked or differs from HEAD (staged or
// not): the commit must hold the pin and nothing else, and a failed commit must be undoable.
std::string pin_work_tree(const std::vector<std::string>& files);

// `git add` + `git commit -m MESSAGE -- FILES` in `work_tree`; returns the new commit's hash. Throws
// Error(Usage) quoting git's first error line (a hook that refused, no user.email …).
std::string commit_pins(const std::string& work_tree, const std::vector<std::string>& files,
                        const std::string& message);

// Unstages `files` after a failed commit (their bytes are restored by the caller).
void unstage(const std::string& work_tree, const std::vector<std::string>& files);

}  // namespace digestflow::operations
