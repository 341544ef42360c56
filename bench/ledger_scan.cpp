// Time of the ledger's line scanner over a canonical deploy line, against nlohmann's parser on the same
// line: the yardstick for "readers filter a million-line ledger at disk speed".
// Usage: ledger_scan [N [scan]]   -> prints ns/line for each (N lines, default 1000000); "scan": ours only
#include "digestflow/ledger/entry.hpp"
#include "digestflow/ledger/line_scanner.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

namespace {

using namespace digestflow::ledger;

// A deploy of a multi-platform index; without `platforms` it is a single-image deploy (about 550 bytes).
std::string canonical_line(bool with_platforms) {
    Entry entry;
    entry.kind = EntryKind::Deploy;
    entry.prev = "sha256:" + std::string(64, 'a');
    entry.at = "2026-12-02T05:43:32Z";
    entry.environment = "production";
    entry.repository = "registry.example.com/team/app";
    entry.digest = "sha256:" + std::string(64, 'b');
    entry.media_type = "application/vnd.oci.image.index.v1+json";
    entry.size = 1609;
    if (with_platforms)
        entry.platforms = {{"linux", "amd64", "", "sha256:" + std::string(64, 'c'),
                            "application/vnd.oci.image.manifest.v1+json", 1043},
                           {"linux", "arm64", "v8", "sha256:" + std::string(64, 'd'),
                            "application/vnd.oci.image.manifest.v1+json", 1043}};
    entry.tag = "v1.4.2";
    entry.by = "ci@example.com";
    entry.pipeline = "https://ci.example.com/team/app/-/pipelines/81723";
    entry.commit = "3f9d1c2a7b4e5f60718293a4b5c6d7e8f9012345";
    entry.captured_at = "2026-12-02T05:40:11Z";
    return serialize_line(entry);
}

double thread_ns() {
    timespec now{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) * 1e9 + static_cast<double>(now.tv_nsec);
}

// CPU time of this thread, not wall time: the bench machine's cores are shared, and time spent waiting for
// a core is not the scanner's.
template <class F> double ns_per_line(long n, F&& each) {
    const double start = thread_ns();
    for (long i = 0; i < n; ++i)
        each();
    return (thread_ns() - start) / static_cast<double>(n);
}

} // namespace

int main(int argc, char** argv) {
    const long n = argc > 1 ? std::atol(argv[1]) : 1000000;
    const bool scan_only = argc > 2 && std::string(argv[2]) == "scan";
    std::size_t sink = 0;
    for (bool with_platforms : {false, true}) {
        const std::string line = canonical_line(with_platforms);
        ScannedLine scanned;
        const double scan = ns_per_line(n, [&] {
            if (scan_object_line(line, scanned))
                std::abort();
            sink += scanned.members.size();
        });
        const double scan_find = ns_per_line(n, [&] {
            if (scan_object_line(line, scanned))
                std::abort();
            sink += plain_string_value(*scanned.find("environment"))->size() + scanned.find("digest")->size();
        });
        std::printf("%s line: %zu bytes, %zu members\n",
                    with_platforms ? "two-platform deploy" : "single-image deploy", line.size(),
                    scanned.members.size());
        std::printf("  scan_object_line:                 %8.1f ns/line (%ld lines)\n", scan, n);
        std::printf("  scan + find + plain_string_value: %8.1f ns/line (%ld lines)\n", scan_find, n);
        if (scan_only)
            continue;
        const long json_n = n / 10 > 0 ? n / 10 : 1; // ten times slower: a tenth of the lines
        const double json = ns_per_line(json_n, [&] { sink += nlohmann::json::parse(line).size(); });
        const double accept = ns_per_line(json_n, [&] { sink += nlohmann::json::accept(line) ? 1 : 0; });
        std::printf("  nlohmann::json::parse:            %8.1f ns/line (%ld lines)\n", json, json_n);
        std::printf("  nlohmann::json::accept:           %8.1f ns/line (%ld lines)\n", accept, json_n);
    }
    return sink == 0 ? 1 : 0;
}
