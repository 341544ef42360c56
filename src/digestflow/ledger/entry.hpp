// One ledger line: a deployment, an incident, a hold or a release, with the hash of the line before it.
// Lines are written in one canonical form (fixed member order, compact JSON, "\n"-terminated) and are never
// rewritten: the hash chain covers their exact bytes, so readers never re-serialise an old line.
#pragma once

#include "digestflow/artifact.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace digestflow::ledger {

// `prev` of the first line: no line came before it.
inline constexpr std::string_view genesis_prev =
    "sha256:0000000000000000000000000000000000000000000000000000000000000000";
// The format version every line carries as "v".
inline constexpr int format_version = 1;
// A line longer than this is not one of ours (an entry is well under 4 KiB; a note is capped below).
inline constexpr std::size_t max_line_bytes = 64 * 1024;
inline constexpr std::size_t max_note_bytes = 4096;

enum class EntryKind { Deploy, Incident, Hold, Release };
std::string_view kind_name(EntryKind kind);  // "deploy", "incident", "hold", "release"
std::optional<EntryKind> kind_from_name(std::string_view name);

// An environment held after a rollback: appends of another digest are refused until it is released.
struct Hold {
    std::string digest;  // what the environment is held at
    std::string at;      // when the hold was recorded
    bool operator==(const Hold&) const = default;
};
// The holds in force after a line, by environment. Every line carries the whole map (when not empty), so an
// append learns them from the last line alone.
using Holds = std::map<std::string, Hold>;

struct Entry {
    EntryKind kind = EntryKind::Deploy;
    std::string prev;         // "sha256:<hex>" of the previous line's bytes, or genesis_prev
    std::string at;           // RFC 3339 UTC, seconds: "2026-12-02T05:43:32Z"
    std::string environment;  // every kind
    // The image: deploy, incident and hold name one; release does not.
    std::string repository;
    std::string digest;
    std::string media_type;            // deploy: from the artifact (may be empty for an offline capture)
    std::int64_t size = -1;            // deploy: -1 when unknown
    std::vector<PlatformEntry> platforms;  // deploy: index children
    std::string tag;                   // deploy: the artifact's tag label
    std::string by;                    // who recorded it
    std::string pipeline;              // CI pipeline URL, when known
    std::string commit;                // source commit, when known
    std::string captured_at;           // deploy: the artifact's capture time
    std::string note;                  // --note / --reason text
    std::string rollback_of;           // deploy: the digest this deployment rolled back from; empty = forward
    Holds holds;                       // in force after this line
};

// The canonical line for `entry`, "\n"-terminated, without a signature. Throws Error(Usage) naming the field
// when a value cannot go into a line (not UTF-8, note too long).
std::string serialize_line(const Entry& entry);

// Parses one line (with or without its "\n"; a "sig" member is allowed and ignored here). Throws Error(Usage)
// starting with `origin` (e.g. "ledger.jsonl line 17") and saying what is wrong.
Entry parse_line(std::string_view line, const std::string& origin);

// The chain hash of a line: sha256 of its exact bytes, "\n" included ("sed -n 17p F | sha256sum").
std::string line_hash(std::string_view line_with_newline);

// The holds after appending `entry` to a ledger whose holds were `before`.
Holds holds_after(const Holds& before, const Entry& entry);

}  // namespace digestflow::ledger
