// Writes a ledger of N chained deployment entries (realistic sizes: CI URLs, commits, two platforms every
// third entry) for the ledger rows of scripts/bench: ledger_generate FILE N
#include "digestflow/digest.hpp"
#include "digestflow/ledger/entry.hpp"
#include "digestflow/ledger/timestamp.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

using namespace digestflow;

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: ledger_generate FILE N\n");
        return 2;
    }
    std::FILE* out = std::fopen(argv[1], "wb");
    if (!out) return 1;
    const long count = std::atol(argv[2]);
    const char* environments[] = {"staging", "production", "production-eu", "canary"};
    std::string prev(ledger::genesis_prev);
    const std::int64_t start = 1767225600;  // 2026-01-01T00:00:00Z, one entry a minute from there
    for (long i = 0; i < count; ++i) {
        ledger::Entry entry;
        entry.prev = prev;
        entry.at = ledger::format_rfc3339(start + i * 60);
        entry.environment = environments[i % 4];
        entry.repository = "registry.example.com/team/service-" + std::to_string(i % 7);
        entry.digest = Digest::of("image " + std::to_string(i / 4)).str();
        entry.media_type = i % 3 == 0 ? "application/vnd.oci.image.index.v1+json" : "application/vnd.oci.image.manifest.v1+json";
        entry.size = 1609;
        if (i % 3 == 0)
            for (const char* arch : {"amd64", "arm64"})
                entry.platforms.push_back(PlatformEntry{"linux", arch, "", Digest::of(std::string(arch) + std::to_string(i)).str(),
                                                        "application/vnd.oci.image.manifest.v1+json", 1200});
        entry.tag = "build-" + std::to_string(i / 4);
        entry.by = "release-bot";
        entry.pipeline = "https://github.com/team/service/actions/runs/" + std::to_string(9000000000L + i);
        entry.commit = Digest::of("commit " + std::to_string(i / 4)).encoded().substr(0, 40);
        entry.captured_at = entry.at;
        std::string line = ledger::serialize_line(entry);
        std::fwrite(line.data(), 1, line.size(), out);
        prev = ledger::line_hash(line);
    }
    return std::fclose(out) == 0 ? 0 : 1;
}
