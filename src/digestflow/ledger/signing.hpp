// Ed25519 signatures of ledger lines (OpenSSL EVP). A signed line ends with the member
//   ,"sig":{"alg":"ed25519","keyId":"sha256:<hex>","value":"<base64>"}}
// and the signature covers the line's bytes with that member (and the "\n") removed, after the domain prefix
// "digestflow-ledger-v1\n". keyId is the sha256 of the key's DER SubjectPublicKeyInfo, i.e.
//   openssl pkey -pubin -in key.pub -outform DER | sha256sum
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace digestflow::ledger {

// A private key from a PEM file (`openssl genpkey -algorithm ed25519 -out key.pem`).
class SigningKey {
public:
    // Throws Error(Usage) naming the path: missing, unreadable, not PEM, not Ed25519, encrypted.
    // The message never contains key material.
    static SigningKey load(const std::string& path);
    ~SigningKey();
    SigningKey(SigningKey&&) noexcept;
    SigningKey& operator=(SigningKey&&) noexcept;
    const std::string& key_id() const { return m_key_id; }
    // `line` ("\n"-terminated, no "sig" member) with the signature member added, "\n"-terminated.
    std::string sign_line(std::string_view line) const;

private:
    struct Impl;
    explicit SigningKey(std::unique_ptr<Impl> impl, std::string key_id);
    std::unique_ptr<Impl> m_impl;
    std::string m_key_id;
};

// A public key from a PEM file (`openssl pkey -in key.pem -pubout -out key.pub`).
class VerifyKey {
public:
    static VerifyKey load(const std::string& path);  // throws Error(Usage) naming the path
    ~VerifyKey();
    VerifyKey(VerifyKey&&) noexcept;
    VerifyKey& operator=(VerifyKey&&) noexcept;
    const std::string& key_id() const { return m_key_id; }
    const std::string& path() const { return m_path; }
    bool verify(std::string_view message, std::string_view signature) const;

private:
    struct Impl;
    VerifyKey(std::unique_ptr<Impl> impl, std::string key_id, std::string path);
    std::unique_ptr<Impl> m_impl;
    std::string m_key_id;
    std::string m_path;
};

enum class SignatureState { Unsigned, Valid, UnknownKey, Invalid, Malformed };

struct SignatureCheck {
    SignatureState state = SignatureState::Unsigned;
    std::string key_id;  // as the line names it (empty when unsigned or malformed)
    std::string why;     // for Invalid / Malformed / UnknownKey: one phrase, e.g. "the signature does not verify with key sha256:…"
};

// Checks the "sig" member of one line against `keys` (matched by keyId).
SignatureCheck check_line_signature(std::string_view line_with_newline, const std::vector<VerifyKey>& keys);

// True when the line carries a "sig" member (cheap: looks at the end of the line).
bool has_signature(std::string_view line_with_newline);

}  // namespace digestflow::ledger
