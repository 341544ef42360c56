// Blob transfer progress for a terminal: one self-overwriting stderr line (digest, bytes, rate), at most
// five updates a second. Silent when stderr is not a terminal, unless forced (--progress).
#pragma once

#include "digestflow/operations/promote.hpp"

#include <chrono>
#include <mutex>

namespace digestflow::cli {

class TransferProgress {
public:
    explicit TransferProgress(bool force);
    operations::ProgressFn callback();
    void finish();  // ends the line, if one was drawn

private:
    void update(const Digest& digest, std::int64_t done, std::int64_t total);

    bool m_enabled;
    bool m_drawn = false;
    std::mutex m_mutex;
    std::chrono::steady_clock::time_point m_start = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point m_last;
};

}  // namespace digestflow::cli
