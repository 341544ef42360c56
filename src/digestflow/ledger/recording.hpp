// The writers' side: the entry a command records, and the line it becomes on a given tip (prev and holds
// from the tip, the hold rule applied, signed when a key is given). Used for plain appends and, once per
// attempt, for appends through Git.
#pragma once

#include "digestflow/artifact.hpp"
#include "digestflow/ledger/entry.hpp"
#include "digestflow/ledger/ledger_file.hpp"
#include "digestflow/ledger/signing.hpp"

#include <optional>
#include <string>

namespace digestflow::ledger {

// Who and where: filled from the CI environment and the artifact, overridable by flags.
struct RecordContext {
    std::string by;        // current_actor() unless given
    std::string pipeline;  // --pipeline, else the CI variables, else the artifact's build block
    std::string commit;    // --commit, likewise
    std::string note;
};

// A deploy entry for the artifact's image in `environment`. When the artifact came from record
// rollback-target for this environment, the entry is marked as a rollback (rollbackOf).
Entry deployment_entry(const Artifact& artifact, const std::string& environment, const RecordContext& context);

// An incident, hold or release entry for `environment` (digest and repository are filled from the tip).
Entry environment_entry(EntryKind kind, const std::string& environment, const RecordContext& context,
                        const std::string& digest = {});

// Thrown from next_line when the ledger already says what the command asks (a hold on a held environment, a
// release of one that is not held): nothing is appended, the command succeeds and says so.
struct AlreadyRecorded {
    std::string message;
};

// The line to append on `tip`. Throws Error(CheckFailed) naming the hold when a deploy of another digest
// meets a held environment; fills an incident's or hold's image from what runs there now (Error(Usage)
// when nothing does); throws AlreadyRecorded as above. `ledger_name` goes into messages.
std::string next_line(const Tip& tip, Entry entry, const SigningKey* key, const std::string& ledger_name);

// One-line description for commit subjects and output: "production <- registry/app@sha256:… (build-456)".
std::string describe(const Entry& entry);

}  // namespace digestflow::ledger
