// TLS to a registry whose certificate comes from a CA made in the fixture: trusted with --ca-file, refused
// cleanly (exit 3, a message that says what to do) without it.
#include "support/buildah.hpp"
#include "support/registry_process.hpp"
#include "support/skopeo.hpp"
#include "support/temp_dir.hpp"
#include "support/tls_material.hpp"
#include "tools.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace digestflow::testsupport
