#include "digestflow/operations/ledger_git.hpp"

#include "digestflow/artifact.hpp"
#include "digestflow/error.hpp"
#include "digestflow/ledger/entry.hpp"
#include "digestflow/operations/git_command.hpp"
#include "digestflow/operations/git_porcelain.hpp"
#include "digestflow/quote.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>
#include <thread>

namespace digestflow::operations {
namespace {

constexpr std::chrono::seconds k_local_timeout{60};
constexpr std::chrono::seconds k_network_timeout{120};
constexpr std::chrono::milliseconds k_backoff_cap{5000};
// Another record in this clone holds the lock for at most its pushes and backoffs; past this it is stuck.
constexpr std::chrono::seconds k_lock_wait{600};
constexpr std::string_view k_lock_name = "digestflow-ledger.lock";
constexpr std::string_view k_trailer_key = "Digestflow-Entry";

// Every message of this file goes through here: a remote URL (ours or one git printed) may carry user:secret@.
[[noreturn]] void fail(ErrorKind kind, const std::string& message) {
    throw Error(kind, redact_url_credentials(message));
}

// git's own words for a message: one line, quoted, credentials out.
std::string git_said(const GitResult& result) {
    std::string line = last_error_line(result.err);
    if (line.empty())
        line = last_error_line(result.out);
    if (line.empty())
        line = "exit " + std::to_string(result.exit_code) + ", no output";
    return quote(redact_url_credentials(line), 200);
}

// An exclusive flock on a file in the git dir: records in one clone take turns (the index, HEAD and the work
// tree are shared). Released when the object goes.
class CloneLock {
public:
    explicit CloneLock(const std::string& path) {
        m_fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (m_fd < 0)
            fail(ErrorKind::Usage, "cannot open the lock file " + quote(path) + ": " + std::strerror(errno) +
                                       "; check the clone is writable");
        const auto deadline = std::chrono::steady_clock::now() + k_lock_wait;
        std::chrono::milliseconds pause{5};
        while (::flock(m_fd, LOCK_EX | LOCK_NB) != 0) {
            if (errno != EWOULDBLOCK && errno != EINTR) {
                const int error = errno;
                ::close(m_fd);
                fail(ErrorKind::Usage, "cannot lock " + quote(path) + ": " + std::strerror(error));
            }
            if (std::chrono::steady_clock::now() > deadline) {
                ::close(m_fd);
                fail(ErrorKind::Registry, "another record has held " + quote(path) + " for more than " +
                                              std::to_string(k_lock_wait.count()) +
                                              " s; check for a stuck record process in this clone");
            }
            std::this_thread::sleep_for(pause);
            pause = std::min(pause * 2, std::chrono::milliseconds(100));
        }
    }
    ~CloneLock() { ::close(m_fd); }
    CloneLock(const CloneLock&) = delete;
    CloneLock& operator=(const CloneLock&) = delete;

private:
    int m_fd = -1;
};

// The work tree the ledger lives in, and the git commands run on it.
class Clone {
public:
    Clone(std::string dir, std::string shown) : m_dir(std::move(dir)), m_shown(std::move(shown)) {}

    GitResult run(const std::vector<std::string>& args,
                  std::chrono::seconds timeout = k_local_timeout) const {
        return run_git(m_dir, args, timeout);
    }
    // run() that throws `kind` with git's words unless git succeeded.
    std::string checked(const std::vector<std::string>& args, ErrorKind kind, const std::string& doing,
                        std::chrono::seconds timeout = k_local_timeout) const {
        const GitResult result = run(args, timeout);
        if (!result.ok())
            fail(kind, doing + " for the ledger " + quote(m_shown) + " failed: git said " + git_said(result));
        return result.out;
    }
    std::string rev_parse(const std::string& what) const {
        return first_line(checked({"rev-parse", "--verify", "-q", what + "^{commit}"}, ErrorKind::Usage,
                                  "resolving " + what));
    }

private:
    std::string m_dir;
    std::string m_shown;  // the ledger path as the caller named it
};

// What the loop works with, found once under the lock.
struct Place {
    std::string branch;         // the local branch ("main")
    std::string remote_branch;  // the branch on the remote it pushes to
    std::string remote_ref;     // "refs/heads/" + remote_branch
};

// The ledger's branch, and where it goes on `remote`: the branch's upstream when that is on this remote, else
// the same name.
Place find_place(const Clone& clone, const std::string& shown, const std::string& remote) {
    const GitResult head = clone.run({"symbolic-ref", "--short", "-q", "HEAD"});
    if (!head.ok())
        fail(ErrorKind::Usage, "the Git work tree of the ledger " + quote(shown) +
                                   " has a detached HEAD; check out the branch the ledger is pushed to");
    Place place;
    place.branch = first_line(head.out);
    place.remote_branch = place.branch;
    const GitResult upstream_remote = clone.run({"config", "--get", "branch." + place.branch + ".remote"});
    const GitResult upstream_merge = clone.run({"config", "--get", "branch." + place.branch + ".merge"});
    if (upstream_remote.ok() && upstream_merge.ok() && first_line(upstream_remote.out) == remote) {
        const std::string merge = first_line(upstream_merge.out);
        if (merge.starts_with("refs/heads/"))
            place.remote_branch = merge.substr(11);
    }
    place.remote_ref = "refs/heads/" + place.remote_branch;
    return place;
}

// The remote branch's tip, fetched now. FETCH_HEAD rather than a remote-tracking ref: `remote` may be a URL.
std::string fetch_tip(const Clone& clone, const std::string& shown, const std::string& remote,
                      const Place& place) {
    const GitResult fetched =
        clone.run({"fetch", "-q", "--no-tags", "--", remote, place.remote_ref},
                  k_network_timeout);
    if (!fetched.ok()) {
        if (fetched.err.find("couldn't find remote ref") != std::string::npos)
            fail(ErrorKind::Usage, "the remote " + quote(redact_url_credentials(remote)) + " has no branch " + quote(place.remote_branch) +
                                       " for the ledger " + quote(shown) + "; push the branch once (git push -u " +
                                       remote + " " + place.branch + ")");
        fail(ErrorKind::Registry, "fetching " + quote(place.remote_branch) + " from " + quote(redact_url_credentials(remote)) +
                                      " for the ledger " + quote(shown) + " failed: git said " + git_said(fetched) +
                                      "; check the remote and its credentials");
    }
    return clone.rev_parse("FETCH_HEAD");
}

// Moves HEAD (and the work tree) to `target` without overwriting local changes.
void reset_keep(const Clone& clone, const std::string& shown, const std::string& target, const std::string& why) {
    const GitResult reset = clone.run({"reset", "-q", "--keep", target});
    if (!reset.ok())
        fail(ErrorKind::Usage, why + ": git reset --keep " + target.substr(0, 12) + " in the work tree of " +
                                   quote(shown) + " refused: git said " + git_said(reset) +
                                   "; commit or stash the changes to that file and run again");
}

// Whether `commit` is on the remote branch after all (a push whose answer was lost); false when that cannot be
// told (the fetch fails too).
bool landed_anyway(const Clone& clone, const std::string& remote, const Place& place, const std::string& commit) {
    try {
        const GitResult fetched = clone.run({"fetch", "-q", "--no-tags", "--", remote, place.remote_ref}, k_network_timeout);
        return fetched.ok() && clone.run({"merge-base", "--is-ancestor", commit, "FETCH_HEAD"}).ok();
    } catch (const Error&) {
        return false;
    }
}

std::string email_local_part(const std::string& actor) {
    std::string local;
    for (const char c : actor)
        local += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-') ? c : '-';
    return local.empty() ? std::string("digestflow") : local;
}

// `-c user.name=… -c user.email=…` when the clone has no identity (a CI runner): git would refuse to commit.
std::vector<std::string> identity_options(const Clone& clone) {
    const bool has_name = clone.run({"config", "--get", "user.name"}).ok();
    const bool has_email = clone.run({"config", "--get", "user.email"}).ok();
    std::vector<std::string> options;
    const std::string actor = current_actor();
    if (!has_name)
        options.insert(options.end(), {"-c", "user.name=" + actor});
    if (!has_email)
        options.insert(options.end(), {"-c", "user.email=" + email_local_part(actor) + "@digestflow.invalid"});
    return options;
}

// The subject on one line: a newline in it would make the rest a body and move the trailer's paragraph.
std::string one_line_subject(const std::string& subject) {
    std::string line = subject;
    std::replace_if(line.begin(), line.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
    return line;
}

// "[rejected] (fetch first)": git's words for what happened to our ref, "" when it printed no line for it.
std::string refusal_of(const std::vector<PushRefStatus>& statuses, const std::string& ref) {
    for (const PushRefStatus& s : statuses)
        if (s.to == ref)
            return s.summary + (s.reason.empty() ? "" : " (" + s.reason + ")");
    return "";
}

std::chrono::milliseconds backoff_delay(std::chrono::milliseconds first, int retry, std::mt19937& random) {
    auto delay = first;
    for (int i = 1; i < retry && delay < k_backoff_cap; ++i)
        delay *= 2;
    delay = std::min(delay, k_backoff_cap);
    // Full jitter (uniform in [0, delay]): writers that lost the same race come back at different instants,
    // and a loser is not always the one that waits longest while a winner goes on to its next entry.
    std::uniform_real_distribution<double> factor(0.0, 1.0);
    return std::chrono::milliseconds(static_cast<long long>(static_cast<double>(delay.count()) * factor(random)));
}

}  // namespace

GitAppended append_line_in_git(const std::string& ledger_path, const std::string& subject,
                               const std::function<std::string(const ledger::Tip&)>& make_line,
                               const GitLedgerOptions& options) {
    namespace fs = std::filesystem;
    if (ledger_path.empty())
        fail(ErrorKind::Usage, "the ledger path is empty; pass the ledger file inside a Git work tree");
    if (options.remote.empty())
        fail(ErrorKind::Usage, "the Git remote name is empty; name the remote to push the ledger to (e.g. origin)");
    // A remote is handed to git as an argument: one that starts with '-' would be taken as an option (git runs
    // --upload-pack's value through a shell).
    if (options.remote.front() == '-')
        fail(ErrorKind::Usage, "the Git remote " + quote(redact_url_credentials(options.remote)) +
                                   " starts with '-'; name a remote or a URL");
    const std::string shown_remote = redact_url_credentials(options.remote);
    if (options.attempts < 1)
        fail(ErrorKind::Usage, "the number of push attempts must be at least 1, got " +
                                   std::to_string(options.attempts));
    std::error_code ec;
    const fs::path absolute = fs::absolute(ledger_path, ec);
    const fs::path dir = absolute.parent_path();
    const std::string name = absolute.filename().string();
    if (ec || name.empty() || !fs::is_directory(dir, ec))
        fail(ErrorKind::Usage, "the ledger " + quote(ledger_path) +
                                   " is not a file in an existing folder; pass the ledger file inside a Git work tree");
    const Clone clone(dir.string(), ledger_path);

    const GitResult where = clone.run({"rev-parse", "--is-inside-work-tree", "--absolute-git-dir"});
    if (!where.ok() || !where.out.starts_with("true\n"))
        fail(ErrorKind::Usage, "the ledger " + quote(ledger_path) +
                                   " is not in a Git work tree; clone the ledger repository and record into the "
                                   "file there, or drop --git");
    const std::string git_dir = first_line(where.out.substr(5));
    const CloneLock lock(git_dir + "/" + std::string(k_lock_name));

    const Place place = find_place(clone, ledger_path, options.remote);
    const GitResult status =
        clone.run({"status", "--porcelain=v1", "--untracked-files=all", "--ignored=matching", "--", name});
    if (!status.ok())
        fail(ErrorKind::Usage, "git status for the ledger " + quote(ledger_path) + " failed: git said " +
                                   git_said(status));
    // An ignored ledger would be appended to and then refused by git add: say so before touching it.
    if (status.out.starts_with("!!"))
        fail(ErrorKind::Usage, "the ledger " + quote(ledger_path) +
                                   " is ignored by Git (.gitignore or info/exclude); remove the ignore rule or record "
                                   "into a file Git tracks");
    if (!status.out.empty())
        fail(ErrorKind::Usage, "the ledger " + quote(ledger_path) + " has changes not committed (git status: " +
                                   quote(first_line(status.out).substr(0, 2)) +
                                   "); commit or restore them (git restore " + name + ") and run again");
    // reset --keep (how a lost attempt drops its commit) resets the index: staged changes of other files would
    // be lost from it. Refuse them up front.
    if (!clone.run({"diff", "--cached", "--quiet"}).ok())
        fail(ErrorKind::Usage, "the Git work tree of the ledger " + quote(ledger_path) +
                                   " has staged changes; commit or unstage them (git restore --staged .) and run again");
    const std::vector<std::string> identity = identity_options(clone);
    const std::string message = one_line_subject(subject);
    std::random_device seed;
    std::mt19937 random(seed());

    const std::string head = clone.rev_parse("HEAD");

    // From the remote's fetch to our push another writer can land first and cost us an attempt: the git
    // commands that need not run in that window run before it (above) or after it.
    // Start from the remote's tip. Commits of ours the remote lacks would be pushed along with the entry (or
    // dropped by a retry's reset): refuse them rather than do either behind the user's back.
    std::string base = fetch_tip(clone, ledger_path, options.remote, place);
    if (head != base) {
        const std::string ahead = first_line(clone.checked({"rev-list", "--count", base + ".." + head},
                                                           ErrorKind::Usage, "counting unpushed commits"));
        if (ahead != "0")
            fail(ErrorKind::Usage, "the branch " + quote(place.branch) + " of the ledger " + quote(ledger_path) +
                                       " has " + ahead + " commit(s) not on " + options.remote + "/" +
                                       place.remote_branch + "; push them or drop them (git reset --keep " +
                                       options.remote + "/" + place.remote_branch + ") first");
        reset_keep(clone, ledger_path, base, "bringing the clone up to the remote");
    }

    for (int attempt = 1;; ++attempt) {
        GitAppended result;
        result.branch = place.remote_branch;
        result.attempts = attempt;
        result.appended = ledger::append_line(absolute.string(), make_line);

        // Commit the ledger alone: other staged changes in the clone stay out of the entry's commit.
        std::vector<std::string> commit = identity;
        commit.insert(commit.end(), {"commit", "-q", "-m", message, "--trailer",
                                     std::string(k_trailer_key) + ": " + result.appended.hash, "--", name});
        const GitResult added = clone.run({"add", "--", name});
        const GitResult committed = added.ok() ? clone.run(commit) : added;
        if (!committed.ok()) {
            // Put the ledger back as it was at `base` (it was clean there): nothing half-recorded is left.
            clone.run({"reset", "-q", "--", name});
            // HEAD is still `base` here: whether it has the ledger says whether to restore or remove it.
            if (!clone.run({"ls-tree", "--name-only", "HEAD", "--", name}).out.empty())
                clone.run({"checkout", "-q", "--", name});
            else
                fs::remove(absolute, ec);
            fail(ErrorKind::Usage, "committing the entry to the ledger " + quote(ledger_path) + " failed: git said " +
                                       git_said(committed) + "; the ledger is unchanged, fix that and run again");
        }

        GitResult pushed;
        const std::string ours = clone.rev_parse("HEAD");
        try {
            pushed = clone.run({"push", "--porcelain", "--", options.remote, "HEAD:" + place.remote_ref}, k_network_timeout);
        } catch (const Error&) {
            // A push that timed out may have updated the ref before the remote's hooks hung.
            if (landed_anyway(clone, options.remote, place, ours)) {
                result.commit = ours;
                return result;
            }
            reset_keep(clone, ledger_path, base, "dropping the unpushed commit");
            throw;
        }
        const std::vector<PushRefStatus> statuses = parse_push_porcelain(pushed.out);
        const PushVerdict verdict = push_verdict(statuses, place.remote_ref);
        if (verdict == PushVerdict::Landed) {
            result.commit = clone.rev_parse("HEAD");
            return result;
        }

        if (verdict == PushVerdict::Refused) {
            // Drop our commit so the clone is left as it was: the remote did not take the entry.
            reset_keep(clone, ledger_path, base, "dropping the refused commit");
            const std::string why = refusal_of(statuses, place.remote_ref);
            // No ref line: git did not get as far as asking (network, credentials, a URL), or the connection
            // dropped after the update.
            if (why.empty() && landed_anyway(clone, options.remote, place, ours)) {
                reset_keep(clone, ledger_path, ours, "keeping the commit that landed");
                result.commit = ours;
                return result;
            }
            if (why.empty())
                fail(ErrorKind::Registry, "pushing the ledger entry to " + quote(shown_remote) + " failed: git said " +
                                              git_said(pushed) + "; nothing was recorded (the clone is back at " +
                                              base.substr(0, 12) + "); check the remote and its credentials");
            const std::string hook = remote_lines(pushed.err);
            fail(ErrorKind::Registry,
                 "pushing the ledger entry to " + quote(shown_remote) + " " + quote(place.remote_branch) +
                     " was refused: " + why + (hook.empty() ? "" : "; the remote said " + quote(redact_url_credentials(hook), 300)) +
                     "; nothing was recorded (the clone is back at " + base.substr(0, 12) +
                     "); ask the repository's owner to allow the push or record into another branch");
        }

        const std::string last_refusal = refusal_of(statuses, place.remote_ref);
        // Behind: another writer landed first. Drop our commit at once (a process killed while it waits leaves
        // no dangling commit), wait, then go to the remote's tip as it is *then* and build the entry again on its
        // last line: fetching before the wait would build on a tip already stale when we push.
        reset_keep(clone, ledger_path, base, "dropping the unpushed commit");
        const bool last = attempt >= options.attempts;
        if (!last)
            std::this_thread::sleep_for(backoff_delay(options.backoff, attempt, random));
        const std::string tip = fetch_tip(clone, ledger_path, options.remote, place);
        reset_keep(clone, ledger_path, tip, "following the remote");
        base = tip;
        if (last)
            fail(ErrorKind::Registry,
                 "gave up recording into the ledger " + quote(ledger_path) + " after " + std::to_string(attempt) +
                     " push(es) to " + quote(shown_remote) + " " + quote(place.remote_branch) +
                     ": the remote moved on each time (other writers; last refusal: " + last_refusal +
                     "); nothing was force-pushed and the clone is at the remote's tip " + tip.substr(0, 12) +
                     "; run it again");
    }
}

}  // namespace digestflow::operations
