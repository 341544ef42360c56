// The client TLS contexts: X25519 offered first (no HelloRetryRequest from Go's servers), verification strict
// unless asked otherwise, and a --ca-file that cannot be loaded reported as bad input.
#include "digestflow/error.hpp"
#include "digestflow/registry/tls_context.hpp"

#include <gtest/gtest.h>

#include <openssl/ssl.h>

#include <vector>

namespace digestflow::registry {
namespace {

// What a client made from `context` offers in its ClientHello, as a server sees it: the supported groups and
// the group of the first key share. An in-memory handshake; the server stops once it has read the hello.
struct Hello {
    std::vector<int> groups;  // IANA group ids
    int first_key_share = -1;
};

int read_hello(SSL* server, int*, void* arg) {
    auto& hello = *static_cast<Hello*>(arg);
    const unsigned char* data = nullptr;
    std::size_t length = 0;
    if (SSL_client_hello_get0_ext(server, TLSEXT_TYPE_supported_groups, &data, &length) && length >= 2)
        for (std::size_t i = 2; i + 1 < length; i += 2) hello.groups.push_back(data[i] << 8 | data[i + 1]);
    if (SSL_client_hello_get0_ext(server, TLSEXT_TYPE_key_share, &data, &length) && length >= 4)
        hello.first_key_share = data[2] << 8 | data[3];
    return SSL_CLIENT_HELLO_ERROR;  // seen enough
}

Hello client_hello_of(const Poco::Net::Context::Ptr& context) {
    Hello hello;
    SSL_CTX* server_context = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_client_hello_cb(server_context, read_hello, &hello);
    SSL* client = SSL_new(context->sslContext());
    SSL* server = SSL_new(server_context);
    BIO* to_server = BIO_new(BIO_s_mem());
    BIO* to_client = BIO_new(BIO_s_mem());
    BIO_up_ref(to_server);
    BIO_up_ref(to_client);
    SSL_set_bio(client, to_client, to_server);
    SSL_set_bio(server, to_server, to_client);
    SSL_set_connect_state(client);
    SSL_do_handshake(client);  // writes the ClientHello, then waits for an answer
    SSL_set_accept_state(server);
    SSL_do_handshake(server);
    SSL_free(client);
    SSL_free(server);
    SSL_CTX_free(server_context);
    return hello;
}

constexpr int x25519 = 0x001d;

TEST(TlsContext, OffersX25519FirstAndKeepsPocosGroups) {
    for (bool verify : {true, false}) {
        Hello hello = client_hello_of(make_tls_context(verify, ""));
        ASSERT_FALSE(hello.groups.empty()) << "no supported_groups extension seen";
        EXPECT_EQ(hello.groups.front(), x25519);
        EXPECT_EQ(hello.first_key_share, x25519) << "the key share every TLS 1.3 server accepts";
        EXPECT_EQ(hello.groups.size(), 5u) << "the same five groups Poco offers by default";
    }
}

TEST(TlsContext, VerifiesStrictlyUnlessInsecure) {
    auto strict = make_tls_context(true, "");
    EXPECT_EQ(SSL_CTX_get_verify_mode(strict->sslContext()), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT);
    auto insecure = make_tls_context(false, "");
    EXPECT_EQ(SSL_CTX_get_verify_mode(insecure->sslContext()), SSL_VERIFY_NONE);
}

TEST(TlsContext, AnUnloadableCaFileIsBadInput) {
    try {
        make_tls_context(true, "/nonexistent/ca.pem");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Usage);
        EXPECT_NE(std::string(e.what()).find("/nonexistent/ca.pem"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace digestflow::registry
