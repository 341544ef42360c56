// git's / ssh-keygen's allowed_signers file: who may sign, with which key, for which namespaces, when.
//   principals [options] keytype base64-key [comment]
// principals and namespaces= are OpenSSH pattern lists ("*@example.com,!eve@example.com"); options
// cert-authority, namespaces="…", valid-after="…", valid-before="…" (YYYYMMDD[HHMM[SS]][Z], local time unless Z).
#pragma once

#include "digestflow/gate/ssh_key.hpp"

#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace digestflow::gate {

// OpenSSH's match_pattern_list: comma-separated patterns with * and ?, a leading ! negates and a matching
// negation wins over every positive one. Case-sensitive.
bool matches_pattern_list(std::string_view name, std::string_view patterns);

struct AllowedSigner {
    std::size_t line = 0;
    std::string principals;                // the pattern list as written
    bool cert_authority = false;           // a CA key: only certificates could match it (none are accepted)
    std::optional<std::string> namespaces;  // pattern list
    std::optional<std::time_t> valid_after, valid_before;  // inclusive
    std::optional<SshPublicKey> key;
};

// Whether `identity` may have made a signature with `key` under `sig_namespace` at time `at`.
struct SignerDecision {
    bool allowed = false;
    std::size_t line = 0;  // the line that allowed it (0 when none)
    std::string why;       // when not allowed: the reason, naming the file's line where one came close
};

class AllowedSigners {
public:
    // Throws Error(Usage) "ORIGIN:LINE: …" for a line that does not parse (an unknown option, a bad key, a
    // repeated option, valid-before earlier than valid-after).
    static AllowedSigners parse(std::string_view text, const std::string& origin);
    static AllowedSigners load(const std::string& path);  // throws Error(Usage) naming the path

    SignerDecision check(std::string_view identity, const SshPublicKey& key, std::string_view sig_namespace,
                         std::time_t at) const;
    // Every principal pattern list whose line holds `key` (for messages: "this key belongs to …").
    std::vector<std::string> principals_of(const SshPublicKey& key) const;
    const std::string& origin() const { return m_origin; }
    const std::vector<AllowedSigner>& signers() const { return m_signers; }

private:
    std::string m_origin;
    std::vector<AllowedSigner> m_signers;
};

// "YYYYMMDD[HHMM[SS]][Z]" as OpenSSH reads it (local time unless Z). nullopt when malformed.
std::optional<std::time_t> parse_ssh_timestamp(std::string_view text);

}  // namespace digestflow::gate
