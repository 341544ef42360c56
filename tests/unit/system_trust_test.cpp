// The system trust store: the hashed CA directory is added for lazy lookup, and the system bundle (the same
// certificates) is not parsed at start-up; a bundle of the user's own still is.
#include "digestflow/registry/system_trust.hpp"

#include <gtest/gtest.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace digestflow::registry {
namespace {

class SystemTrust : public ::testing::Test {
protected:
    void SetUp() override {
        dir = std::filesystem::temp_directory_path() / ("digestflow-trust-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir);
        ::unsetenv("SSL_CERT_FILE");
        ::unsetenv("SSL_CERT_DIR");
        context = SSL_CTX_new(TLS_client_method());
    }
    void TearDown() override {
        SSL_CTX_free(context);
        std::filesystem::remove_all(dir);
    }
    // Certificates parsed into the store now (a hashed directory adds none until a handshake asks).
    int loaded_certificates() const {
        return sk_X509_OBJECT_num(X509_STORE_get0_objects(SSL_CTX_get_cert_store(context)));
    }
    std::filesystem::path dir;
    SSL_CTX* context = nullptr;
};

TEST_F(SystemTrust, RecognisesAHashedDirectory) {
    EXPECT_FALSE(has_hashed_certificates(dir.string()));
    std::ofstream(dir / "readme.0") << "x";
    std::ofstream(dir / "5ad8a5d6.x") << "x";
    EXPECT_FALSE(has_hashed_certificates(dir.string())) << "not OpenSSL hash-link names";
    std::ofstream(dir / "5ad8a5d6.0") << "x";
    EXPECT_TRUE(has_hashed_certificates(dir.string()));
    EXPECT_FALSE(has_hashed_certificates((dir / "missing").string()));
}

// A CA appended to the system bundle by hand (`cat my-ca.crt >> ca-certificates.crt`, common in CI images)
// gets no hash link: the bundle then holds more certificates than the directory has links, and must be parsed.
TEST_F(SystemTrust, ABundleWithACertificateWithoutAHashLinkIsNotCovered) {
    const std::string certificate = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    const auto bundle = (dir / "bundle.crt").string();
    std::ofstream(bundle) << certificate << certificate;
    const auto links = dir / "certs";
    std::filesystem::create_directories(links);
    EXPECT_FALSE(bundle_covered_by_hash_links(bundle, links.string())) << "no links at all";
    std::ofstream(links / "5ad8a5d6.0") << certificate;
    std::ofstream(links / "5ad8a5d6.pem") << certificate;
    EXPECT_FALSE(bundle_covered_by_hash_links(bundle, links.string())) << "one link for two certificates";
    std::ofstream(links / "1b2c3d4e.0") << certificate;
    EXPECT_TRUE(bundle_covered_by_hash_links(bundle, links.string()));
    EXPECT_FALSE(bundle_covered_by_hash_links((dir / "missing.crt").string(), links.string()));
    EXPECT_TRUE(bundle_covered_by_hash_links(X509_get_default_cert_file(), X509_get_default_cert_dir()))
        << "the installed system store: a link for every bundled CA";
}

// The Debian system store (ca-certificates, installed by scripts/install-deps): directory with hash links and
// the bundle made from the same files. Nothing is parsed up front, also when $SSL_CERT_FILE names that bundle
// (as many CI images set it).
TEST_F(SystemTrust, TheSystemBundleIsNotParsedWhenItsHashLinksExist) {
    ASSERT_TRUE(has_hashed_certificates(X509_get_default_cert_dir())) << "ca-certificates is not installed";
    std::string added = add_system_trust(context);
    EXPECT_EQ(loaded_certificates(), 0) << added;
    EXPECT_NE(added.find(X509_get_default_cert_dir()), std::string::npos) << added;

    ::setenv("SSL_CERT_FILE", X509_get_default_cert_file(), 1);
    SSL_CTX* again = SSL_CTX_new(TLS_client_method());
    add_system_trust(again);
    EXPECT_EQ(sk_X509_OBJECT_num(X509_STORE_get0_objects(SSL_CTX_get_cert_store(again))), 0);
    SSL_CTX_free(again);
}

TEST_F(SystemTrust, ABundleOfTheUsersOwnIsLoaded) {
    // One certificate of the system bundle, in a file of its own.
    std::ifstream bundle(X509_get_default_cert_file());
    std::stringstream text;
    text << bundle.rdbuf();
    std::string all = text.str();
    const std::string end_marker = "-----END CERTIFICATE-----";
    auto first = all.substr(0, all.find(end_marker) + end_marker.size()) + "\n";
    ASSERT_NE(first.find("-----BEGIN CERTIFICATE-----"), std::string::npos);
    std::ofstream(dir / "mine.pem") << first;
    ::setenv("SSL_CERT_FILE", (dir / "mine.pem").c_str(), 1);
    add_system_trust(context);
    EXPECT_EQ(loaded_certificates(), 1);
}

TEST_F(SystemTrust, ABundleInAnotherDirectoryIsLoadedToo) {
    // With $SSL_CERT_DIR elsewhere, the system bundle is not known to be in it: parsed, as OpenSSL would.
    ::setenv("SSL_CERT_DIR", dir.c_str(), 1);
    add_system_trust(context);
    EXPECT_GT(loaded_certificates(), 10);
}

}  // namespace
}  // namespace digestflow::registry
