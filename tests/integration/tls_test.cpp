// TLS to a registry whose certificate comes from a CA made in the fixture: trusted with --ca-file, refused
// cleanly (exit 3, a message that says what to do) without it; the system trust store read from a hashed
// directory; and how a loopback port is found to speak TLS after a plain-HTTP first contact.
#include "support/buildah.hpp"
#include "support/process.hpp"
#include "support/raw_server.hpp"
#include "support/registry_api.hpp"
#include "support/registry_process.hpp"
#include "support/skopeo.hpp"
#include "support/temp_dir.hpp"
#include "support/tls_material.hpp"
#include "tools.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

namespace digestflow::testsupport {
namespace {

class Tls : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        tls = new TlsMaterial();
        registry = new Registry(RegistryOptions().with_tls(*tls));
        Buildah buildah;
        buildah.build_scratch_image("app");
        digest = buildah.push("app", registry->host() + "/team/app:1.0", registry->client_options());
    }
    static void TearDownTestSuite() {
        delete registry;
        delete tls;
    }
    std::string image() const { return registry->host() + "/team/app:1.0"; }
    // An artifact for the fixture's image, captured once per test.
    std::string artifact() {
        auto run = run_tool("capture-digest", {"--image", image(), "--digest", digest, "--offline", "--out",
                                               work.file("image-digest.json")});
        EXPECT_EQ(run.exit_code, 0) << run.describe();
        return work.file("image-digest.json");
    }

    static TlsMaterial* tls;
    static Registry* registry;
    static std::string digest;
    TempDir work{"digestflow-tls-test"};
};
TlsMaterial* Tls::tls = nullptr;
Registry* Tls::registry = nullptr;
std::string Tls::digest;

TEST_F(Tls, CaFileMakesTheRegistryTrusted) {
    auto run = run_tool("capture-digest", {"--image", image(), "--resolve", "--ca-file", tls->ca_cert(), "--out",
                                           work.file("a.json"), "--json"});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_EQ(json_output(run)["image"]["digest"], digest);
    auto verify = run_tool("verify-digest", {"--artifact", work.file("a.json"), "--ref", image(), "--content",
                                             "--ca-file", tls->ca_cert()});
    EXPECT_EQ(verify.exit_code, 0) << verify.describe();
}

TEST_F(Tls, UntrustedCertificateIsExit3WithAClearMessage) {
    auto run = run_tool("capture-digest", {"--image", image(), "--resolve", "--out", work.file("a.json")});
    EXPECT_EQ(run.exit_code, 3) << run.describe();
    EXPECT_NE(run.stderr_text.find("not trusted"), std::string::npos) << run.stderr_text;
    EXPECT_NE(run.stderr_text.find("--ca-file"), std::string::npos) << run.stderr_text;
    EXPECT_EQ(run.stderr_text.find('\n'), run.stderr_text.size() - 1) << "one line";
}

TEST_F(Tls, InsecureRegistrySkipsVerification) {
    auto run = run_tool("capture-digest", {"--image", image(), "--resolve", "--insecure-registry", registry->host(),
                                           "--out", work.file("a.json")});
    EXPECT_EQ(run.exit_code, 0) << run.describe();
}

// Blobs streamed into a TLS registry, with the watch for an early answer on while the body goes out (over TLS
// a readable socket may carry no answer at all, e.g. a session ticket).
TEST_F(Tls, BlobsStreamIntoATlsRegistry) {
    Registry plain_source;
    Buildah buildah;
    std::string payload(3 << 20, '\0');
    std::mt19937 random(7);
    for (auto& c : payload) c = static_cast<char>(random());  // incompressible: the layer stays 3 MiB
    buildah.build_scratch_image("big", ScratchImage{.files = {{"payload.bin", payload}}});
    std::string big = buildah.push("big", plain_source.host() + "/team/big:1.0", RemoteOptions{false});
    auto run = run_tool("retag", {"--source", plain_source.host() + "/team/big@" + big, "--to",
                                  registry->host() + "/mirror/big:1.0", "--ca-file", tls->ca_cert(), "--json"});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_GE(json_output(run)["blobs"]["uploaded"].get<int>(), 1);
    EXPECT_EQ(served_digest(registry->host() + "/mirror/big:1.0", registry->client_options()), big);
}

TEST_F(Tls, MissingCaFileIsAUsageError) {
    auto run = run_tool("capture-digest", {"--image", image(), "--resolve", "--ca-file", work.file("nope.pem"),
                                           "--out", work.file("a.json")});
    EXPECT_EQ(run.exit_code, 2) << run.describe();
    EXPECT_NE(run.stderr_text.find("nope.pem"), std::string::npos) << run.stderr_text;
}

// A loopback registry is asked in plain HTTP first; a TLS port answers that with Go's headerless 400 and the
// run goes on over TLS. The refused first contact is one more request than over plain HTTP: the price of not
// sending a TLS ClientHello to every plain-HTTP loopback registry.
TEST_F(Tls, ALoopbackTlsPortIsFoundAfterAPlainFirstContact) {
    auto run = run_tool("verify-digest", {"--artifact", artifact(), "--ref", image(), "--ca-file", tls->ca_cert(),
                                          "--json", "--no-record"});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_EQ(json_output(run)["requests"], 2) << "the refused plain-HTTP HEAD, then the HEAD over TLS";
}

// The system trust store as OpenSSL's hashed directory ($SSL_CERT_DIR here: our CA and its hash link), with
// no bundle file: issuers are looked up in it when a handshake needs them, and verification holds.
TEST_F(Tls, AHashedSystemCaDirectoryIsTrusted) {
    std::filesystem::create_directory(work.file("ca-dir"));
    std::filesystem::copy_file(tls->ca_cert(), work.file("ca-dir/test-ca.pem"));
    RunResult rehash = run_command({"openssl", "rehash", work.file("ca-dir")});
    ASSERT_EQ(rehash.exit_code, 0) << rehash.describe();
    auto run = run_tool("capture-digest", {"--image", image(), "--resolve", "--out", work.file("a.json")},
                        {{"SSL_CERT_DIR", work.file("ca-dir")}, {"SSL_CERT_FILE", work.file("no-bundle.pem")}});
    EXPECT_EQ(run.exit_code, 0) << run.describe();

    // Without the hash link the same directory trusts nothing: the lookup is by hash, as strict as before.
    std::filesystem::path link;
    for (const auto& entry : std::filesystem::directory_iterator(work.file("ca-dir")))
        if (entry.is_symlink()) link = entry.path();
    ASSERT_FALSE(link.empty());
    std::filesystem::remove(link);
    auto untrusted = run_tool("capture-digest", {"--image", image(), "--resolve", "--out", work.file("b.json")},
                              {{"SSL_CERT_DIR", work.file("ca-dir")}, {"SSL_CERT_FILE", work.file("no-bundle.pem")}});
    EXPECT_EQ(untrusted.exit_code, 3) << untrusted.describe();
    EXPECT_NE(untrusted.stderr_text.find("not trusted"), std::string::npos) << untrusted.stderr_text;
}

// A CA appended to the system bundle by hand (`cat my-ca.crt >> /etc/ssl/certs/ca-certificates.crt`, a common
// image build step) has no hash link: it is trusted as OpenSSL's default paths trust it. The system bundle is
// swapped for one with the fixture's CA in a mount namespace of the tool's own (needs root; skipped otherwise).
TEST_F(Tls, ACaAppendedToTheSystemBundleIsTrusted) {
    if (run_command({"unshare", "-m", "true"}).exit_code != 0) GTEST_SKIP() << "no mount namespaces here";
    const std::string system_bundle = "/etc/ssl/certs/ca-certificates.crt";
    ASSERT_TRUE(std::filesystem::exists(system_bundle)) << "ca-certificates is not installed";
    const std::string bundle = work.file("bundle.crt");
    std::filesystem::copy_file(system_bundle, bundle);
    {
        std::ifstream ca(tls->ca_cert());
        std::ofstream(bundle, std::ios::app) << ca.rdbuf();
    }
    const std::string tool = std::string(DIGESTFLOW_TOOLS_DIR) + "/capture-digest/capture-digest";
    RunOptions options;
    options.env = {{"HOME", work.path()}, {"DOCKER_CONFIG", work.path()}};
    auto run = run_command({"unshare", "-m", "sh", "-c", "mount --bind \"$0\" " + system_bundle + " && exec \"$@\"",
                            bundle, tool, "--image", image(), "--resolve", "--out", work.file("a.json")},
                           options);
    EXPECT_EQ(run.exit_code, 0) << run.describe();
}

// $SSL_CERT_FILE naming a bundle of the user's own is loaded, as OpenSSL would.
TEST_F(Tls, AnSslCertFileOfTheUsersOwnIsTrusted) {
    auto run = run_tool("capture-digest", {"--image", image(), "--resolve", "--out", work.file("a.json")},
                        {{"SSL_CERT_FILE", tls->ca_cert()}, {"SSL_CERT_DIR", work.file("empty-dir")}});
    EXPECT_EQ(run.exit_code, 0) << run.describe();
}

// A loopback port that drops a plain-HTTP request unanswered may speak TLS: it is tried once; when it does not
// speak TLS either, the plain-HTTP failure is what the user is told (after the usual retries, in plain HTTP).
TEST_F(Tls, APortThatAnswersNeitherIsReportedWithThePlainFailure) {
    RawServer silent([](const RawRequest&, RawConnection&) { return false; });
    auto run = run_tool("capture-digest", {"--image", silent.host() + "/team/app:1.0", "--resolve", "--out",
                                           work.file("a.json")});
    EXPECT_EQ(run.exit_code, 3) << run.describe();
    EXPECT_NE(run.stderr_text.find("broke off"), std::string::npos) << run.stderr_text;
    EXPECT_FALSE(silent.requests().empty());
    EXPECT_EQ(silent.tls_hello_count(), 1) << "one TLS attempt in the run, after the first plain-HTTP contact";
    EXPECT_FALSE(std::filesystem::exists(work.file("a.json")));
}

// A headerless 400 (what a TLS port says to plain HTTP) from a port that then does not speak TLS: the 400 is
// the answer, reported as the registry's; the plain request is not sent twice.
TEST_F(Tls, AHeaderless400FromAPlainPortIsTheAnswer) {
    RawServer odd([](const RawRequest&, RawConnection& connection) {
        connection.send("HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n");
        return false;
    });
    auto run = run_tool("capture-digest", {"--image", odd.host() + "/team/app:1.0", "--resolve", "--out",
                                           work.file("a.json")});
    EXPECT_EQ(run.exit_code, 3) << run.describe();
    EXPECT_NE(run.stderr_text.find("400"), std::string::npos) << run.stderr_text;
    EXPECT_EQ(odd.requests().size(), 1u);
    EXPECT_EQ(odd.tls_hello_count(), 1);
}

// A plain-HTTP loopback registry that answers as a registry (its 400 has the API version header) is never
// sent a TLS ClientHello.
TEST_F(Tls, ARegistrysOwn400IsNoReasonToTryTls) {
    RawServer registry_like([](const RawRequest&, RawConnection& connection) {
        connection.send("HTTP/1.1 400 Bad Request\r\nDocker-Distribution-API-Version: registry/2.0\r\n"
                        "Content-Length: 0\r\n\r\n");
        return true;
    });
    auto run = run_tool("capture-digest", {"--image", registry_like.host() + "/team/app:1.0", "--resolve", "--out",
                                           work.file("a.json")});
    EXPECT_NE(run.exit_code, 0) << run.describe();
    EXPECT_EQ(registry_like.tls_hello_count(), 0);
}

// A loopback TLS port that drops the plain-HTTP first contact, then redirects over TLS to https:// on another
// loopback port that speaks plain HTTP: that port is found plain as any other. (What the first port's plain
// contact got belonged to it only; taken for the second port's answer, the run failed with exit 3.)
TEST_F(Tls, ARedirectFromATlsPortToAPlainPortIsFollowed) {
    Registry plain;
    std::string pushed = push_oci_image(plain.host(), "team/app", "1.0");
    RawServer front(
        [&](const RawRequest& request, RawConnection& connection) {
            if (!request.tls) return false;  // the plain-HTTP contact: dropped unanswered
            connection.send("HTTP/1.1 307 Temporary Redirect\r\nLocation: https://" + plain.host() + request.target +
                            "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            return false;
        },
        tls->server_tls());
    auto run = run_tool("capture-digest", {"--image", front.host() + "/team/app:1.0", "--resolve", "--ca-file",
                                           tls->ca_cert(), "--out", work.file("a.json"), "--json"});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_EQ(json_output(run)["image"]["digest"], pushed);
    EXPECT_EQ(json_output(run)["requests"], 3) << "plain contact, TLS GET, plain GET (a refused handshake is no request)";
}

}  // namespace
}  // namespace digestflow::testsupport
