// Approvals: a small JSON statement bound to {repository, digest, environment, policy sha256, role, issued,
// expires, approver}, signed with the approver's SSH key (ssh-keygen -Y sign -n digestflow-approval). The file:
//   {"digestflowApproval": 1, "statement": "<the exact signed JSON text>", "signature": "-----BEGIN SSH SIGNATURE-----…"}
// The statement is kept as the very bytes that were signed, so checking needs no canonical JSON: anyone can
// re-check it with `jq -j .statement F | ssh-keygen -Y verify -n digestflow-approval -I ID -f allowed_signers -s SIG`.
#pragma once

#include "digestflow/gate/allowed_signers.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace digestflow::gate {

inline constexpr const char* k_approval_namespace = "digestflow-approval";

struct ApprovalStatement {
    std::string repository, digest, environment, policy;  // policy: "sha256:…" of the policy file
    std::string approver;                                 // a principal of allowed_signers
    std::string role;                                     // "" when none
    std::string comment;
    std::int64_t issued = 0, expires = 0;

    std::string to_json() const;  // compact, fixed member order: the bytes that get signed
    // Throws Error(Usage) "ORIGIN: …" when the text is not a statement.
    static ApprovalStatement from_json(std::string_view text, const std::string& origin);
};

std::string approval_file_text(const std::string& statement_text, const std::string& armored_signature);

// What the approval must be bound to.
struct ApprovalBinding {
    std::string repository, digest, environment, policy;
    std::int64_t now = 0;
};

struct ApprovalVerdict {
    std::string file;
    bool valid = false;
    ApprovalStatement statement;
    std::string key_fingerprint;   // "SHA256:…" of the signing key
    std::string signature_sha256;  // "sha256:…" of the signature blob: names this approval in decisions
    std::string why;               // when not valid: one phrase
};

// Reads and checks one approval file. A file that is not an approval at all (not JSON, fields missing, armor
// broken) is Error(Usage); one that is well-formed but does not count (another digest, environment or policy,
// expired, a bad signature, a key the signers file does not allow for the approver) is a verdict with `why`.
ApprovalVerdict check_approval(const std::string& path, const ApprovalBinding& binding, const AllowedSigners& signers);

// Every *.json in `dir`, sorted by name (Error(Usage) when `dir` is not a readable directory).
std::vector<std::string> approval_files(const std::string& dir);

}  // namespace digestflow::gate
