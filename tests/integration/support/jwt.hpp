#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <mutex>
#include <string>

typedef struct evp_pkey_st EVP_PKEY;

namespace digestflow::testsupport {

std::string base64_encode(const std::string& bytes);    // standard alphabet, padded
std::string base64url_encode(const std::string& bytes); // URL alphabet, no padding (JWT)
std::string base64url_decode(const std::string& text);  // for tests that look inside a token

// Signs JWTs with RS256 the way distribution's token auth wants them: the signing certificate travels in
// the header's x5c and must chain to the registry's rootcertbundle.
class JwtSigner {
  public:
    JwtSigner(const std::string& key_pem_path, const std::string& cert_pem_path);
    ~JwtSigner();
    JwtSigner(const JwtSigner&) = delete;
    JwtSigner& operator=(const JwtSigner&) = delete;

    // header.payload.signature with header {"typ":"JWT","alg":"RS256","x5c":[<cert DER, base64>]}
    std::string sign(const nlohmann::json& claims) const;

  private:
    struct KeyDeleter {
        void operator()(EVP_PKEY* key) const;
    };
    std::unique_ptr<EVP_PKEY, KeyDeleter> m_key;
    std::string m_certificate_base64;
    mutable std::mutex m_mutex;
};

} // namespace digestflow::testsupport
