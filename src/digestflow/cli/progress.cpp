#include "digestflow/cli/progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace digestflow::cli {
namespace {

std::string mebibytes(std::int64_t bytes) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
    return text;
}

}  // namespace

TransferProgress::TransferProgress(bool force) : m_enabled(force || isatty(STDERR_FILENO)) {}

operations::ProgressFn TransferProgress::callback() {
    if (!m_enabled) return {};
    return [this](const Digest& digest, std::int64_t done, std::int64_t total) { update(digest, done, total); };
}

void TransferProgress::update(const Digest& digest, std::int64_t done, std::int64_t total) {
    std::lock_guard lock(m_mutex);
    auto now = std::chrono::steady_clock::now();
    if (done != total && now - m_last < std::chrono::milliseconds(200)) return;
    m_last = now;
    double seconds = std::chrono::duration<double>(now - m_start).count();
    std::string rate = seconds > 0 ? mebibytes(static_cast<std::int64_t>(static_cast<double>(done) / seconds)) + "/s" : "";
    std::fprintf(stderr, "\r%s %s / %s  %s   ", digest.encoded().substr(0, 12).c_str(), mebibytes(done).c_str(),
                 mebibytes(total).c_str(), rate.c_str());
    std::fflush(stderr);
    m_drawn = true;
}

void TransferProgress::finish() {
    std::lock_guard lock(m_mutex);
    if (m_drawn) std::fputs("\n", stderr);
    m_drawn = false;
}

}  // namespace digestflow::cli
