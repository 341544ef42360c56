// image-digest.json: the one document that travels between CI jobs (DESIGN.md §2).
// The whole JSON document is kept, so fields this version does not know survive a rewrite.
#pragma once

#include "digestflow/digest.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace digestflow {

// load() refuses larger files: a real artifact is a few KiB, so anything this big is the wrong file.
inline constexpr std::size_t max_artifact_bytes = 16 * 1024 * 1024;

struct PlatformEntry {
    std::string os;
    std::string architecture;
    std::string variant;     // empty when absent
    std::string digest;      // child manifest digest
    std::string media_type;
    std::int64_t size = -1;  // -1 when unknown
};

struct ImageInfo {
    std::string repository;        // normalised "domain/path", no tag, no digest
    Digest digest;                 // the manifest (or index) digest: set once, never rewritten
    std::string media_type;        // empty when unknown (offline capture)
    std::int64_t size = -1;        // -1 when unknown
    std::string tag;               // human label only; empty when none
    std::vector<PlatformEntry> platforms;  // index children
    bool verified = true;          // false for --offline captures (registry not asked)
};

class Artifact {
public:
    // A new artifact with schemaVersion 1, the image block, a build block and a first history entry: "capture",
    // or `first_history` when given (e.g. record rollback-target's step); its "at" and "by" are filled in.
    static Artifact create(const ImageInfo& image, const nlohmann::ordered_json& build,
                           nlohmann::ordered_json first_history = nullptr);

    // Reads and validates; throws Error(Usage) naming the path and the first problem found.
    static Artifact load(const std::string& path);
    static Artifact from_json(const nlohmann::ordered_json& document, const std::string& origin);

    // Problems with the document, each one line; empty = valid.
    static std::vector<std::string> validate(const nlohmann::ordered_json& document);

    ImageInfo image() const;
    const nlohmann::ordered_json& json() const { return m_doc; }

    // Appends one entry to history; "at" is filled with the current UTC time when absent.
    void append_history(nlohmann::ordered_json entry);

    // Atomic write: temp file in the target's folder, fsync, rename, fsync of the folder.
    // path "-" writes to stdout. Throws Error(Usage) naming the path on failure; the old file stays intact.
    void save(const std::string& path) const;

private:
    explicit Artifact(nlohmann::ordered_json doc) : m_doc(std::move(doc)) {}
    nlohmann::ordered_json m_doc;
};

// The image.platforms array and back (the ledger stores the same list in each deployment entry).
nlohmann::ordered_json platforms_to_json(const std::vector<PlatformEntry>& platforms);
std::vector<PlatformEntry> platforms_from_json(const nlohmann::ordered_json& platforms);

// RFC 3339 UTC timestamp with seconds, e.g. "2026-11-27T11:38:03Z".
std::string utc_now_rfc3339();
// Who runs this step: $GITLAB_USER_LOGIN, $GITHUB_ACTOR, $USER, else the uid; never a secret.
std::string current_actor();

// Writes `content` to `path` atomically (temp + fsync + rename + fsync dir). Shared by every file we write.
void write_file_atomically(const std::string& path, const std::string& content);

}  // namespace digestflow
