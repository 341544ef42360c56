// Shared by the ledger unit tests: a temp folder, whole-file reads and writes, and ledgers built line by line
// from Entry values with controlled `at` times (prev chained and holds carried the way a writer does).
#pragma once

#include "digestflow/digest.hpp"
#include "digestflow/error.hpp"
#include "digestflow/ledger/entry.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace digestflow::ledger::testing_support {

namespace fs = std::filesystem;

class TempDir {
public:
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "ledger-test-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        m_path = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        fs::remove_all(m_path, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const fs::path& path() const { return m_path; }
    std::string file(const std::string& name) const { return (m_path / name).string(); }

private:
    fs::path m_path;
};

inline std::string read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream all;
    all << in.rdbuf();
    return all.str();
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// A distinct, valid digest per name ("A", "B", ...): sha256 of the name.
inline std::string digest_named(const std::string& name) { return Digest::of(name).str(); }

inline Entry deploy(const std::string& environment, const std::string& digest, const std::string& at) {
    Entry entry;
    entry.kind = EntryKind::Deploy;
    entry.environment = environment;
    entry.repository = "registry.example/app";
    entry.digest = digest;
    entry.at = at;
    entry.by = "tester";
    return entry;
}

inline Entry environment_line(EntryKind kind, const std::string& environment, const std::string& digest,
                              const std::string& at) {
    Entry entry;
    entry.kind = kind;
    entry.environment = environment;
    if (kind != EntryKind::Release) {
        entry.repository = "registry.example/app";
        entry.digest = digest;
    }
    entry.at = at;
    entry.by = "tester";
    return entry;
}

// Serialises `entries` as a chain: each prev is the hash of the line before (genesis for the first) and each
// line carries the holds in force after it, as next_line would write them.
inline std::vector<std::string> chain_lines(std::vector<Entry> entries) {
    std::vector<std::string> lines;
    std::string prev(genesis_prev);
    Holds holds;
    for (Entry& entry : entries) {
        entry.prev = prev;
        holds = holds_after(holds, entry);
        entry.holds = holds;
        lines.push_back(serialize_line(entry));
        prev = line_hash(lines.back());
    }
    return lines;
}

// The same, but each line keeps the holds it was given (for forged ledgers), and the first prev is `first_prev`.
inline std::vector<std::string> chain_lines_as_given(std::vector<Entry> entries,
                                                     const std::string& first_prev = std::string(genesis_prev)) {
    std::vector<std::string> lines;
    std::string prev = first_prev;
    for (Entry& entry : entries) {
        entry.prev = prev;
        lines.push_back(serialize_line(entry));
        prev = line_hash(lines.back());
    }
    return lines;
}

// The line that chains onto `previous_line` for `entry` (its prev set, its holds as given).
inline std::string line_after(const std::string& previous_line, Entry entry) {
    entry.prev = line_hash(previous_line);
    return serialize_line(entry);
}

inline std::string joined(const std::vector<std::string>& lines) {
    std::string all;
    for (const auto& line : lines) all += line;
    return all;
}

// Runs `fn`, which must throw digestflow::Error of `kind`; returns the message ("" and a failure otherwise).
inline std::string error_of(ErrorKind kind, const std::function<void()>& fn) {
    try {
        fn();
    } catch (const Error& e) {
        EXPECT_EQ(static_cast<int>(e.kind()), static_cast<int>(kind)) << e.what();
        return e.what();
    }
    ADD_FAILURE() << "no digestflow::Error was thrown";
    return {};
}

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace digestflow::ledger::testing_support
