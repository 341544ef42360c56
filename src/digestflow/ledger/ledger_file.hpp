// The ledger file on disk: JSON Lines, appended under an exclusive flock and fsynced; read under a shared
// flock so a reader never mistakes an append in progress for a torn line. An append reads the last line from
// the end of the file, so its cost does not grow with the ledger.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace digestflow::ledger {

// Bytes after the last "\n": a writer stopped mid-append. Never chained onto, never dropped silently.
struct TornTail {
    std::uint64_t offset = 0;  // where the torn bytes start
    std::string bytes;
};

// What an append builds on: the last complete line ("" for an empty or missing ledger).
struct Tip {
    std::string last_line;  // with its "\n"
    std::string prev;       // the hash the new line must carry: line_hash(last_line), or genesis_prev
    // The newest complete line for which `wanted` is true, read backwards under the same lock (for what
    // runs in an environment now); nullopt when none is. Costs a read of the lines after it.
    std::function<std::optional<std::string>(const std::function<bool(std::string_view)>& wanted)> find_last;
};

struct Appended {
    std::string line;  // exactly what was written
    std::string hash;  // line_hash(line): the new tip
};

// Appends one line built from the tip, under the exclusive lock: `make_line` sees the tip and returns the
// line to write (it may throw, e.g. for a hold, and then nothing is written). Creates the file (and nothing
// else) when missing. Throws Error(Usage) naming the path for a torn tail ("run record repair"), a last line
// that is not a ledger line, or a write that failed (the file is truncated back: nothing half-written).
Appended append_line(const std::string& path, const std::function<std::string(const Tip&)>& make_line);

// A read-only view of the whole ledger, taken under a shared lock (held for the object's life).
class LedgerView {
public:
    // Throws Error(Usage) naming the path when it cannot be opened (missing: "no ledger at PATH").
    explicit LedgerView(const std::string& path);
    ~LedgerView();
    LedgerView(const LedgerView&) = delete;
    LedgerView& operator=(const LedgerView&) = delete;

    const std::string& path() const { return m_path; }
    // The complete lines, each with its "\n" (the torn tail excluded).
    std::string_view complete() const { return m_complete; }
    const std::optional<TornTail>& torn() const { return m_torn; }
    // The one-line report of the torn tail every reader gives ("" when there is none).
    std::string torn_report() const;

private:
    std::string m_path;
    int m_fd = -1;
    void* m_map = nullptr;
    std::size_t m_size = 0;
    std::string_view m_complete;
    std::optional<TornTail> m_torn;
};

// Calls `each(number, line)` for every complete line in order (number from 1; line with its "\n").
void for_each_line(std::string_view complete, const std::function<void(std::size_t, std::string_view)>& each);

// Calls `each(line)` for the complete lines from the last to the first until it returns false; returns the
// 1-based number of the line it stopped at (0 when it never did).
std::size_t find_line_backward(std::string_view complete, const std::function<bool(std::string_view)>& stop_here);

// Moves a torn tail aside: writes it to `<path>.torn-<UTC time>` (atomically, fsynced), then truncates the
// ledger to its last complete line, under the exclusive lock. Returns the file written, or nullopt when the
// ledger had no torn tail (nothing changed).
std::optional<std::string> repair_torn_tail(const std::string& path);

}  // namespace digestflow::ledger
