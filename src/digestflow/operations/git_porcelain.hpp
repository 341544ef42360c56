// Reading what git says: `git push --porcelain` ref lines, the "remote:" lines a hook prints, and credentials
// in URLs taken out before any of it goes into a message.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace digestflow::operations {

// One `<flag>\t<from>:<to>\t<summary>` line; `summary` is split into its words and "(<reason>)".
struct PushRefStatus {
    char flag = '?';      // ' ' fast-forward, '+' forced, '-' deleted, '*' new ref, '!' refused, '=' up to date
    std::string from;     // "HEAD" or "refs/heads/main"
    std::string to;       // "refs/heads/main"
    std::string summary;  // "[rejected]", "[remote rejected]", "1a2b..3c4d", "[new branch]"
    std::string reason;   // "fetch first", "pre-receive hook declined"; empty when none
};

// The ref lines of `git push --porcelain` stdout ("To <url>" and "Done" are skipped).
std::vector<PushRefStatus> parse_push_porcelain(std::string_view out);

enum class PushVerdict {
    Landed,    // fast-forward (or the branch created): our commit is on the remote
    Behind,    // refused because the remote moved on (before or during our push): fetch, re-chain, retry
    Refused,   // anything else: a hook, a protected branch, a remote failure, or no ref line at all
};

// The verdict for the line pushing to `to_ref` ("refs/heads/main").
PushVerdict push_verdict(const std::vector<PushRefStatus>& statuses, std::string_view to_ref);

// `scheme://user:secret@host/...` -> `scheme://***@host/...`, anywhere in `text` (several URLs, quoted ones).
std::string redact_url_credentials(std::string_view text);

// The lines of git's stderr starting with "remote: " (a hook's words), prefix removed, joined with " / ";
// hints and progress left out.
std::string remote_lines(std::string_view err);

// The last "fatal:" or "error:" line of git's stderr (else its last non-empty line), for a one-line message.
std::string last_error_line(std::string_view err);

}  // namespace digestflow::operations
