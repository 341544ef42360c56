// SSHSIG: the signatures `ssh-keygen -Y sign` writes (OpenSSH PROTOCOL.sshsig), parsed and checked natively.
// The key signs "SSHSIG" · string namespace · string reserved · string hash_algorithm · string H(message).
#pragma once

#include "digestflow/gate/ssh_key.hpp"

#include <string>
#include <string_view>

namespace digestflow::gate {

struct SshSignature {
    SshPublicKey key;            // the signer's public key, as embedded in the signature
    std::string sig_namespace;   // e.g. "digestflow-approval"
    std::string hash_algorithm;  // "sha256" or "sha512"
    std::string signature;       // the SSH signature field
};

// Parses the armored text (-----BEGIN SSH SIGNATURE----- … -----END SSH SIGNATURE-----). Throws SshFormatError
// naming what is wrong: the armor, the magic, a version above 1, an empty namespace, a hash other than
// sha256/sha512, trailing bytes.
SshSignature parse_ssh_signature(std::string_view armored);

// The bytes an SSHSIG key signs for `message`.
std::string sshsig_signed_data(std::string_view sig_namespace, std::string_view hash_algorithm, std::string_view message);

// Checks the signature over `message` under `expected_namespace` (compared exactly). Says nothing about who
// may sign: that is AllowedSigners' job.
SignatureCheck verify_ssh_signature(const SshSignature& signature, std::string_view message,
                                    std::string_view expected_namespace);

// Armors an SSHSIG blob as ssh-keygen does (base64 wrapped at 70 columns, final newline).
std::string armor_ssh_signature(std::string_view blob);

}  // namespace digestflow::gate
