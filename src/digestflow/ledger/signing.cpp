// Ed25519 over OpenSSL EVP: PEM keys, one-shot sign/verify (Ed25519 takes no digest: md is NULL), base64
// through EVP_EncodeBlock/EVP_DecodeBlock. OpenSSL's error queue is cleared after every failure, so a
// refused key or signature never shows up later in an unrelated TLS error.
#include "digestflow/ledger/signing.hpp"

#include "digestflow/digest.hpp"
#include "digestflow/error.hpp"
#include "digestflow/ledger/line_scanner.hpp"
#include "digestflow/text_file.hpp"

#include <nlohmann/json.hpp>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

namespace digestflow::ledger {
namespace {

constexpr std::string_view domain_prefix = "digestflow-ledger-v1\n";
constexpr std::string_view sig_opening = ",\"sig\":{";
constexpr std::size_t signature_bytes = 64;
constexpr std::size_t signature_base64_chars = 88; // 64 bytes: 21 full groups and one of a byte, "==" padded
constexpr std::size_t max_key_file_bytes = 64 * 1024;
constexpr const char* generate_hint = "openssl genpkey -algorithm ed25519 -out key.pem";

struct PkeyFree {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
struct BioFree {
    void operator()(BIO* bio) const { BIO_free(bio); }
};
struct MdCtxFree {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

// Never asks: a key that needs a passphrase is refused (digestflow runs unattended), and the flag tells the
// caller why the read failed.
int refuse_passphrase(char*, int, int, void* asked) {
    *static_cast<bool*>(asked) = true;
    return -1;
}

std::unique_ptr<BIO, BioFree> memory_bio(const std::string& text) {
    return std::unique_ptr<BIO, BioFree>(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// sha256 of the DER SubjectPublicKeyInfo: what `openssl pkey -pubin -outform DER | sha256sum` prints.
std::string key_id_of(EVP_PKEY* key, const std::string& path) {
    unsigned char* der = nullptr;
    const int length = i2d_PUBKEY(key, &der);
    if (length <= 0) {
        ERR_clear_error();
        throw_usage(path + ": OpenSSL cannot encode the key's public part; is it a complete Ed25519 key?");
    }
    std::string bytes(reinterpret_cast<const char*>(der), static_cast<std::size_t>(length));
    OPENSSL_free(der);
    return Digest::of(bytes).str();
}

void require_ed25519(EVP_PKEY* key, const std::string& path, const char* what) {
    if (EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519)
        return;
    const char* type = EVP_PKEY_get0_type_name(key); // "RSA", "EC", "ED448"
    throw_usage(path + ": " + (type != nullptr ? std::string(type) : std::string("this")) + " " + what +
                "; digestflow signs ledger lines with Ed25519 keys (" + generate_hint + ")");
}

std::string base64(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int n =
        EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                        reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

bool is_base64_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

// The 64 signature bytes from exactly the text base64() writes for them: EVP_DecodeBlock skips spaces,
// accepts misplaced '=' and keeps the padding's zero bytes, so the shape is checked first and the result is
// re-encoded (that refuses non-zero bits under the padding: one signature, one spelling).
std::optional<std::string> signature_from_base64(std::string_view text) {
    if (text.size() != signature_base64_chars || text.substr(text.size() - 2) != "==")
        return std::nullopt;
    for (char c : text.substr(0, text.size() - 2))
        if (!is_base64_char(c))
            return std::nullopt;
    std::string out(text.size() / 4 * 3, '\0'); // 66: the two padding places decode to zero bytes
    const int n =
        EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                        reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
    if (n != static_cast<int>(out.size()))
        return std::nullopt;
    out.resize(signature_bytes);
    if (base64(out) != text)
        return std::nullopt;
    return out;
}

std::string sig_member(const std::string& key_id, const std::string& value_base64) {
    return std::string(sig_opening) + "\"alg\":\"ed25519\",\"keyId\":\"" + key_id + "\",\"value\":\"" +
           value_base64 + "\"}";
}

SignatureCheck malformed(const std::string& why) {
    return SignatureCheck{SignatureState::Malformed, "", why};
}

} // namespace

// ---- SigningKey ----

struct SigningKey::Impl {
    Pkey key;
};

SigningKey::SigningKey(std::unique_ptr<Impl> impl, std::string key_id)
    : m_impl(std::move(impl)), m_key_id(std::move(key_id)) {}
SigningKey::~SigningKey() = default;
SigningKey::SigningKey(SigningKey&&) noexcept = default;
SigningKey& SigningKey::operator=(SigningKey&&) noexcept = default;

SigningKey SigningKey::load(const std::string& path) {
    std::string text = read_text_file(path, "", max_key_file_bytes);
    // The file's bytes are the private key: they do not stay behind in freed memory.
    struct Wipe {
        std::string& bytes;
        ~Wipe() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
    } wipe{text};
    bool asked = false;
    auto bio = memory_bio(text);
    Pkey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, refuse_passphrase, &asked));
    ERR_clear_error();
    if (asked)
        throw_usage(path +
                    " is encrypted; digestflow needs an unencrypted Ed25519 key (write one with "
                    "`openssl pkey -in " +
                    path + " -out key.pem`, kept where only the signer can read it)");
    if (!key) {
        auto public_bio = memory_bio(text);
        Pkey public_key(PEM_read_bio_PUBKEY(public_bio.get(), nullptr, refuse_passphrase, &asked));
        ERR_clear_error();
        if (public_key)
            throw_usage(path + " holds a public key; signing needs the private key it was made from (" +
                        generate_hint + ")");
        throw_usage(path + " is not a PEM private key; digestflow signs with an Ed25519 key (" +
                    generate_hint + ")");
    }
    require_ed25519(key.get(), path, "key");
    std::string key_id = key_id_of(key.get(), path);
    return SigningKey(std::make_unique<Impl>(Impl{std::move(key)}), std::move(key_id));
}

std::string SigningKey::sign_line(std::string_view line) const {
    if (line.size() < 3 || line.substr(line.size() - 2) != "}\n" || has_signature(line))
        throw std::logic_error("sign_line: not an unsigned \"\\n\"-terminated ledger line");
    const std::string_view object = line.substr(0, line.size() - 1);
    std::string message(domain_prefix);
    message += object;
    MdCtx ctx(EVP_MD_CTX_new());
    unsigned char signature[signature_bytes];
    std::size_t length = sizeof signature;
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, m_impl->key.get()) != 1 ||
        EVP_DigestSign(ctx.get(), signature, &length, reinterpret_cast<const unsigned char*>(message.data()),
                       message.size()) != 1 ||
        length != signature_bytes) {
        ERR_clear_error();
        throw Error(ErrorKind::Usage, "signing the ledger line with key " + m_key_id + " failed in OpenSSL");
    }
    std::string out(object.substr(0, object.size() - 1));
    out += sig_member(m_key_id, base64(std::string_view(reinterpret_cast<const char*>(signature), length)));
    out += "}\n";
    return out;
}

// ---- VerifyKey ----

struct VerifyKey::Impl {
    Pkey key;
};

VerifyKey::VerifyKey(std::unique_ptr<Impl> impl, std::string key_id, std::string path)
    : m_impl(std::move(impl)), m_key_id(std::move(key_id)), m_path(std::move(path)) {}
VerifyKey::~VerifyKey() = default;
VerifyKey::VerifyKey(VerifyKey&&) noexcept = default;
VerifyKey& VerifyKey::operator=(VerifyKey&&) noexcept = default;

VerifyKey VerifyKey::load(const std::string& path) {
    const std::string text = read_text_file(path, "", max_key_file_bytes);
    bool asked = false;
    auto bio = memory_bio(text);
    Pkey key(PEM_read_bio_PUBKEY(bio.get(), nullptr, refuse_passphrase, &asked));
    ERR_clear_error();
    if (!key) {
        // A private key would verify too, but asking for it would spread the signer's secret.
        if (text.find("PRIVATE KEY-----") != std::string::npos)
            throw_usage(path + " holds a private key; pass its public key instead (openssl pkey -in " + path +
                        " -pubout -out key.pub)");
        throw_usage(
            path +
            " is not a PEM public key (make one with `openssl pkey -in key.pem -pubout -out key.pub`)");
    }
    require_ed25519(key.get(), path, "public key");
    std::string key_id = key_id_of(key.get(), path);
    return VerifyKey(std::make_unique<Impl>(Impl{std::move(key)}), std::move(key_id), path);
}

bool VerifyKey::verify(std::string_view message, std::string_view signature) const {
    if (signature.size() != signature_bytes)
        return false;
    MdCtx ctx(EVP_MD_CTX_new());
    const bool ok = ctx &&
                    EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, m_impl->key.get()) == 1 &&
                    EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                                     signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size()) == 1;
    if (!ok)
        ERR_clear_error();
    return ok;
}

// ---- Lines ----

bool has_signature(std::string_view line_with_newline) {
    std::string_view line = line_with_newline;
    if (!line.empty() && line.back() == '\n')
        line.remove_suffix(1);
    const std::size_t pos = line.rfind(sig_opening);
    if (pos == std::string_view::npos)
        return false;
    // The sig object is flat and closes the line: exactly one '}' (the line's) after its own. A "sig" inside
    // another member (an environment named "sig" in "holds") is followed by more.
    const std::size_t close = line.find('}', pos + sig_opening.size());
    return close != std::string_view::npos && close + 2 == line.size() && line.back() == '}';
}

SignatureCheck check_line_signature(std::string_view line_with_newline, const std::vector<VerifyKey>& keys) {
    std::string_view line = line_with_newline;
    if (!line.empty() && line.back() == '\n')
        line.remove_suffix(1);
    const std::size_t pos = line.rfind(sig_opening);
    ScannedLine scanned;
    if (auto problem = scan_object_line(line, scanned))
        return pos == std::string_view::npos ? SignatureCheck{}
                                             : malformed("the line is not a JSON object: " + *problem);
    std::size_t index = 0;
    while (index < scanned.members.size() && scanned.members[index].key != "sig")
        ++index;
    if (index == scanned.members.size())
        return SignatureCheck{};
    // The signature covers the line without its "sig" member, which only works when that member is the last
    // one, in the one spelling sign_line writes.
    if (index + 1 != scanned.members.size())
        return malformed("the \"sig\" member is not the last member of the line");
    const std::string_view raw = scanned.members[index].value;
    if (pos == std::string_view::npos || line.data() + pos + sig_opening.size() - 1 != raw.data() ||
        raw.data() + raw.size() + 1 != line.data() + line.size() || line.back() != '}')
        return malformed("the \"sig\" member is not written as ,\"sig\":{…} at the end of the line");

    const auto sig = nlohmann::json::parse(raw, nullptr, false);
    const auto text = [&](const char* key) -> std::string {
        if (!sig.is_object())
            return {};
        auto it = sig.find(key);
        return it != sig.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    if (!sig.is_object() || sig.size() != 3 || text("alg") != "ed25519")
        return malformed("the \"sig\" member is not {\"alg\":\"ed25519\",\"keyId\":…,\"value\":…}");
    const std::string key_id = text("keyId");
    if (key_id.rfind("sha256:", 0) != 0 || !Digest::is_valid(key_id))
        return malformed("the \"sig\" keyId is not a sha256 digest");
    const auto signature = signature_from_base64(text("value"));
    if (!signature)
        return malformed("the \"sig\" value is not the base64 of a 64-byte Ed25519 signature");
    if (std::string(sig_opening) + std::string(raw.substr(1)) != sig_member(key_id, text("value")))
        return malformed("the \"sig\" member is not in the form digestflow writes (member order, no spaces)");

    const VerifyKey* key = nullptr;
    for (const VerifyKey& candidate : keys)
        if (candidate.key_id() == key_id)
            key = &candidate;
    if (key == nullptr)
        return SignatureCheck{SignatureState::UnknownKey, key_id, "no key given has keyId " + key_id};
    std::string message(domain_prefix);
    message += line.substr(0, pos);
    message += '}';
    if (!key->verify(message, *signature))
        return SignatureCheck{SignatureState::Invalid, key_id,
                              "the signature does not verify with key " + key_id + " (" + key->path() + ")"};
    return SignatureCheck{SignatureState::Valid, key_id, ""};
}

} // namespace digestflow::ledger
