#include "support/jwt.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

namespace digestflow::testsupport {
namespace {

[[noreturn]] void throw_openssl(const std::string& what) {
    char buffer[256] = {};
    ERR_error_string_n(ERR_get_error(), buffer, sizeof buffer);
    throw std::runtime_error(what + ": " + buffer);
}

struct BioDeleter {
    void operator()(BIO* bio) const { BIO_free(bio); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

BioPtr open_pem(const std::string& path) {
    BioPtr bio(BIO_new_file(path.c_str(), "r"));
    if (!bio) {
        throw_openssl("cannot open " + path);
    }
    return bio;
}

} // namespace

std::string base64_encode(const std::string& bytes) {
    std::vector<unsigned char> out(4 * ((bytes.size() + 2) / 3) + 1);
    int n = EVP_EncodeBlock(out.data(), reinterpret_cast<const unsigned char*>(bytes.data()),
                            static_cast<int>(bytes.size()));
    return std::string(reinterpret_cast<const char*>(out.data()), static_cast<size_t>(n));
}

std::string base64url_encode(const std::string& bytes) {
    std::string text = base64_encode(bytes);
    std::replace(text.begin(), text.end(), '+', '-');
    std::replace(text.begin(), text.end(), '/', '_');
    text.erase(text.find_last_not_of('=') + 1);
    return text;
}

std::string base64url_decode(const std::string& text) {
    std::string padded = text;
    std::replace(padded.begin(), padded.end(), '-', '+');
    std::replace(padded.begin(), padded.end(), '_', '/');
    while (padded.size() % 4 != 0) {
        padded += '=';
    }
    std::vector<unsigned char> out(padded.size());
    int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(padded.data()),
                            static_cast<int>(padded.size()));
    if (n < 0) {
        throw std::runtime_error("invalid base64url: " + text);
    }
    size_t padding = padded.size() - padded.find_last_not_of('=') - 1; // DecodeBlock counts padding as zeros
    return std::string(reinterpret_cast<const char*>(out.data()), static_cast<size_t>(n) - padding);
}

void JwtSigner::KeyDeleter::operator()(EVP_PKEY* key) const {
    EVP_PKEY_free(key);
}

JwtSigner::JwtSigner(const std::string& key_pem_path, const std::string& cert_pem_path) {
    BioPtr key_bio = open_pem(key_pem_path);
    m_key.reset(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
    if (!m_key) {
        throw_openssl("cannot read private key " + key_pem_path);
    }
    BioPtr cert_bio = open_pem(cert_pem_path);
    X509* certificate = PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr);
    if (certificate == nullptr) {
        throw_openssl("cannot read certificate " + cert_pem_path);
    }
    unsigned char* der = nullptr;
    int length = i2d_X509(certificate, &der);
    X509_free(certificate);
    if (length <= 0) {
        throw_openssl("cannot encode certificate " + cert_pem_path);
    }
    m_certificate_base64 =
        base64_encode(std::string(reinterpret_cast<char*>(der), static_cast<size_t>(length)));
    OPENSSL_free(der);
}

JwtSigner::~JwtSigner() = default;

std::string JwtSigner::sign(const nlohmann::json& claims) const {
    nlohmann::json header = {{"typ", "JWT"}, {"alg", "RS256"}, {"x5c", {m_certificate_base64}}};
    std::string signing_input = base64url_encode(header.dump()) + "." + base64url_encode(claims.dump());

    std::lock_guard lock(m_mutex);
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    size_t length = 0;
    if (!context || EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr, m_key.get()) != 1 ||
        EVP_DigestSign(context.get(), nullptr, &length,
                       reinterpret_cast<const unsigned char*>(signing_input.data()),
                       signing_input.size()) != 1) {
        throw_openssl("JWT signing setup failed");
    }
    std::string signature(length, '\0');
    if (EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                       reinterpret_cast<const unsigned char*>(signing_input.data()),
                       signing_input.size()) != 1) {
        throw_openssl("JWT signing failed");
    }
    signature.resize(length);
    return signing_input + "." + base64url_encode(signature);
}

} // namespace digestflow::testsupport
