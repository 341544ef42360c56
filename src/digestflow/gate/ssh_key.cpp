#include "digestflow/gate/ssh_key.hpp"

#include "digestflow/base64.hpp"
#include "digestflow/gate/ssh_wire.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/sha.h>

#include <cstdint>
#include <vector>

namespace digestflow::gate {

namespace {

constexpr int k_min_rsa_bits = 2048;  // OpenSSH accepts 1024; a promotion gate should not
constexpr std::uint8_t k_user_present = 0x01;

struct Curve {
    const char* ssh_name;    // as in the key type and the blob's curve field
    const char* group_name;  // OpenSSL's
    const EVP_MD* (*hash)();  // ECDSA in SSH hashes with the curve's own size
};

const Curve* curve_named(std::string_view ssh_name) {
    static const Curve curves[] = {{"nistp256", "prime256v1", EVP_sha256},
                                   {"nistp384", "secp384r1", EVP_sha384},
                                   {"nistp521", "secp521r1", EVP_sha512}};
    for (const Curve& curve : curves)
        if (ssh_name == curve.ssh_name) return &curve;
    return nullptr;
}

struct PkeyFree {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

Pkey from_params(const char* algorithm, OSSL_PARAM_BLD* builder) {
    OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(builder);
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, algorithm, nullptr);
    EVP_PKEY* key = nullptr;
    if (params && ctx && EVP_PKEY_fromdata_init(ctx) > 0) EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return Pkey(key);
}

Pkey ec_key(const Curve& curve, std::string_view point) {
    OSSL_PARAM_BLD* builder = OSSL_PARAM_BLD_new();
    if (!builder) return nullptr;
    OSSL_PARAM_BLD_push_utf8_string(builder, OSSL_PKEY_PARAM_GROUP_NAME, curve.group_name, 0);
    OSSL_PARAM_BLD_push_octet_string(builder, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
    Pkey key = from_params("EC", builder);
    OSSL_PARAM_BLD_free(builder);
    return key;
}

Pkey rsa_key(std::string_view e, std::string_view n) {
    BIGNUM* bn_e = BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()), static_cast<int>(e.size()), nullptr);
    BIGNUM* bn_n = BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()), static_cast<int>(n.size()), nullptr);
    OSSL_PARAM_BLD* builder = OSSL_PARAM_BLD_new();
    Pkey key;
    if (bn_e && bn_n && builder) {
        OSSL_PARAM_BLD_push_BN(builder, OSSL_PKEY_PARAM_RSA_N, bn_n);
        OSSL_PARAM_BLD_push_BN(builder, OSSL_PKEY_PARAM_RSA_E, bn_e);
        key = from_params("RSA", builder);
    }
    OSSL_PARAM_BLD_free(builder);
    BN_free(bn_e);
    BN_free(bn_n);
    return key;
}

std::string sha256(std::string_view bytes) {
    std::string out(SHA256_DIGEST_LENGTH, '\0');
    EVP_Digest(bytes.data(), bytes.size(), reinterpret_cast<unsigned char*>(out.data()), nullptr, EVP_sha256(), nullptr);
    return out;
}

// One EVP verification: md is null for Ed25519 (it hashes internally, one shot).
bool evp_verify(EVP_PKEY* key, const EVP_MD* md, std::string_view signature, std::string_view data) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    bool ok = ctx && EVP_DigestVerifyInit(ctx, nullptr, md, nullptr, key) == 1 &&
              EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                               reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

// SSH writes ECDSA signatures as two mpints; OpenSSL verifies DER.
std::string ecdsa_der(std::string_view sig_blob) {
    SshReader reader(sig_blob);
    const std::string_view r = reader.positive_mpint("ECDSA r");
    const std::string_view s = reader.positive_mpint("ECDSA s");
    reader.expect_end("the ECDSA signature");
    ECDSA_SIG* sig = ECDSA_SIG_new();
    BIGNUM* bn_r = BN_bin2bn(reinterpret_cast<const unsigned char*>(r.data()), static_cast<int>(r.size()), nullptr);
    BIGNUM* bn_s = BN_bin2bn(reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()), nullptr);
    std::string der;
    if (sig && bn_r && bn_s && ECDSA_SIG_set0(sig, bn_r, bn_s) == 1) {
        bn_r = bn_s = nullptr;  // owned by sig now
        unsigned char* out = nullptr;
        const int length = i2d_ECDSA_SIG(sig, &out);
        if (length > 0) der.assign(reinterpret_cast<const char*>(out), static_cast<std::size_t>(length));
        OPENSSL_free(out);
    }
    BN_free(bn_r);
    BN_free(bn_s);
    ECDSA_SIG_free(sig);
    if (der.empty()) throw SshFormatError("unreadable ECDSA signature");
    return der;
}

bool is_certificate(std::string_view type) { return type.find("-cert-v01@openssh.com") != std::string_view::npos; }

}  // namespace

struct SshPublicKey::Material {
    Pkey key;
    const Curve* curve = nullptr;  // ECDSA keys
    int bits = 0;
};

SshPublicKey SshPublicKey::from_blob(std::string_view blob) {
    SshReader reader(blob);
    SshPublicKey out;
    out.m_type = std::string(reader.string("key type"));
    out.m_blob = std::string(blob);
    auto material = std::make_shared<Material>();
    const std::string& type = out.m_type;
    if (type == "ssh-ed25519" || type == "sk-ssh-ed25519@openssh.com") {
        const std::string_view pk = reader.string("Ed25519 public key");
        if (pk.size() != 32) throw SshFormatError("an Ed25519 public key is 32 bytes, this one " + std::to_string(pk.size()));
        material->key.reset(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                                        reinterpret_cast<const unsigned char*>(pk.data()), pk.size()));
    } else if (type.rfind("ecdsa-sha2-", 0) == 0 || type == "sk-ecdsa-sha2-nistp256@openssh.com") {
        const std::string_view curve_name = reader.string("ECDSA curve");
        const std::string expected = type.rfind("sk-", 0) == 0 ? "nistp256" : type.substr(std::string("ecdsa-sha2-").size());
        material->curve = curve_named(curve_name);
        if (!material->curve || curve_name != expected)
            throw SshFormatError("ECDSA key type " + type + " with curve " + std::string(curve_name) + " is not supported");
        material->key = ec_key(*material->curve, reader.string("ECDSA public point"));
        if (!material->key) throw SshFormatError("the ECDSA public point is not on curve " + expected);
    } else if (type == "ssh-rsa") {
        const std::string_view e = reader.positive_mpint("RSA exponent");
        const std::string_view n = reader.positive_mpint("RSA modulus");
        material->key = rsa_key(e, n);
        if (!material->key) throw SshFormatError("unreadable RSA key");
        material->bits = EVP_PKEY_get_bits(material->key.get());
        if (material->bits < k_min_rsa_bits)
            throw SshFormatError("RSA key of " + std::to_string(material->bits) + " bits: at least " +
                                 std::to_string(k_min_rsa_bits) + " are required");
    } else if (is_certificate(type)) {
        throw SshFormatError("SSH certificates (" + type + ") are not supported: list the plain key in allowed_signers");
    } else {
        throw SshFormatError("key type " + type + " is not supported (ssh-ed25519, ecdsa-sha2-nistp256/384/521, ssh-rsa, "
                             "and their sk- hardware forms are)");
    }
    if (!material->key) throw SshFormatError("unreadable " + type + " key");
    if (type.rfind("sk-", 0) == 0) out.m_application = std::string(reader.string("security key application"));
    reader.expect_end("the public key");
    out.m_key = std::move(material);
    return out;
}

SshPublicKey SshPublicKey::from_line(std::string_view line) {
    const auto space = line.find_first_of(" \t");
    if (space == std::string_view::npos) throw SshFormatError("expected \"TYPE BASE64 [COMMENT]\"");
    const std::string_view type = line.substr(0, space);
    const auto key_at = line.find_first_not_of(" \t", space);
    if (key_at == std::string_view::npos) throw SshFormatError("expected \"TYPE BASE64 [COMMENT]\"");
    const std::string_view rest = line.substr(key_at);
    const std::string_view encoded = rest.substr(0, rest.find_first_of(" \t\r\n"));
    const std::optional<std::string> blob = base64_decode(encoded);
    if (!blob) throw SshFormatError("the key is not base64");
    SshPublicKey key = from_blob(*blob);
    if (key.type() != type) throw SshFormatError("the line says " + std::string(type) + " but the key is " + key.type());
    return key;
}

std::string SshPublicKey::fingerprint() const {
    std::string encoded = base64_encode(sha256(m_blob));
    while (!encoded.empty() && encoded.back() == '=') encoded.pop_back();
    return "SHA256:" + encoded;
}

SignatureCheck SshPublicKey::verify(std::string_view signature_field, std::string_view data) const {
    try {
        SshReader reader(signature_field);
        const std::string sig_type(reader.string("signature type"));
        const std::string_view sig_blob = reader.string("signature");
        const bool security_key = m_type.rfind("sk-", 0) == 0;
        std::string signed_data(data);
        if (security_key) {
            // FIDO: the key signs SHA256(application) || flags || counter || SHA256(data).
            const std::uint8_t flags = reader.byte("security key flags");
            const std::uint32_t counter = reader.u32("security key counter");
            if ((flags & k_user_present) == 0)
                return {false, "the security key was not touched (no user-presence flag)"};
            signed_data = sha256(m_application);
            signed_data.push_back(static_cast<char>(flags));
            put_u32(signed_data, counter);
            signed_data += sha256(data);
        }
        reader.expect_end("the signature");
        bool ok = false;
        if (m_type == "ssh-ed25519" || m_type == "sk-ssh-ed25519@openssh.com") {
            if (sig_type != m_type) return {false, "a " + sig_type + " signature made with a " + m_type + " key"};
            ok = sig_blob.size() == 64 && evp_verify(m_key->key.get(), nullptr, sig_blob, signed_data);
        } else if (m_key->curve) {
            if (sig_type != m_type) return {false, "a " + sig_type + " signature made with a " + m_type + " key"};
            ok = evp_verify(m_key->key.get(), m_key->curve->hash(), ecdsa_der(sig_blob), signed_data);
        } else {  // ssh-rsa
            const EVP_MD* md = sig_type == "rsa-sha2-256" ? EVP_sha256() : sig_type == "rsa-sha2-512" ? EVP_sha512() : nullptr;
            if (!md) return {false, "RSA signature type " + sig_type + " is refused (only rsa-sha2-256 and rsa-sha2-512; ssh-rsa is SHA-1)"};
            // OpenSSH accepts a signature shorter than the modulus (leading zero bytes dropped): pad it back.
            const std::size_t size = static_cast<std::size_t>((m_key->bits + 7) / 8);
            if (sig_blob.size() > size) return {false, "the RSA signature is longer than the key"};
            const std::string padded = std::string(size - sig_blob.size(), '\0') + std::string(sig_blob);
            ok = evp_verify(m_key->key.get(), md, padded, signed_data);
        }
        if (!ok) return {false, "the signature does not verify with key " + fingerprint()};
        return {true, ""};
    } catch (const SshFormatError& e) {
        return {false, std::string("malformed signature: ") + e.what()};
    }
}

}  // namespace digestflow::gate
