// SSH public keys as OpenSSH writes them (RFC 4253 / 5656 / 8709 blobs, FIDO "sk-" keys) and the check of an
// SSH signature field made with one, over OpenSSL EVP. Key types: ssh-ed25519, ecdsa-sha2-nistp256/384/521,
// ssh-rsa (signatures rsa-sha2-256/512 only, never SHA-1), sk-ssh-ed25519@openssh.com and
// sk-ecdsa-sha2-nistp256@openssh.com (hardware keys).
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace digestflow::gate {

struct SignatureCheck {
    bool valid = false;
    std::string why;  // when not valid: one phrase ("the signature does not match the statement")
};

class SshPublicKey {
public:
    // From the wire blob (what the base64 field of a key line decodes to). Throws SshFormatError naming what is
    // wrong: an unknown or certificate type, a bad point, an RSA modulus under 2048 bits.
    static SshPublicKey from_blob(std::string_view blob);
    // From "TYPE BASE64 [COMMENT]" (an id_ed25519.pub line). Throws SshFormatError.
    static SshPublicKey from_line(std::string_view line);

    const std::string& type() const { return m_type; }
    const std::string& blob() const { return m_blob; }
    // "SHA256:" + unpadded base64 of the blob's SHA-256: what ssh-keygen -l prints.
    std::string fingerprint() const;
    bool operator==(const SshPublicKey& other) const { return m_blob == other.m_blob; }

    // Checks an SSH signature field (string sig-type, string sig-blob [, byte flags, uint32 counter]) over
    // `data`. A security-key signature must carry the user-presence flag (the key was touched).
    SignatureCheck verify(std::string_view signature_field, std::string_view data) const;

private:
    struct Material;
    std::string m_type;
    std::string m_blob;
    std::string m_application;          // sk- keys: the FIDO application ("ssh:")
    std::shared_ptr<Material> m_key;    // the OpenSSL key; shared: keys are copied around freely
};

}  // namespace digestflow::gate
