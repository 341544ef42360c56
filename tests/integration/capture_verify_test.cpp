// capture-digest and verify-digest against a real docker-registry on loopback, with buildah images and
// skopeo as the independent judge of digests.
#include "support/buildah.hpp"
#include "support/ports.hpp"
#include "support/registry_process.hpp"
#include "support/skopeo.hpp"
#include "support/temp_dir.hpp"
#include "tools.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace digestflow::testsupport {
namespace {

class CaptureVerify : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        registry = new Registry();
        buildah = new Buildah();
        plain = RemoteOptions{false};
        image_id = buildah->build_scratch_image("app");
        pushed = buildah->push("app", registry->host() + "/team/app:1.0", plain);
        buildah->build_index("multi");
        index_digest = buildah->push_index("multi", registry->host() + "/team/multi:1.0", plain);
    }
    static void TearDownTestSuite() {
        delete buildah;
        delete registry;
    }
    std::string artifact() const { return work.file("image-digest.json"); }
    nlohmann::json read_artifact() const { return nlohmann::json::parse(read_text_file(artifact())); }

    static Registry* registry;
    static Buildah* buildah;
    static RemoteOptions plain;
    static std::string image_id, pushed, index_digest;
    TempDir work{"digestflow-capture"};
};
Registry* CaptureVerify::registry = nullptr;
Buildah* CaptureVerify::buildah = nullptr;
RemoteOptions CaptureVerify::plain;
std::string CaptureVerify::image_id, CaptureVerify::pushed, CaptureVerify::index_digest;

TEST_F(CaptureVerify, DigestFileCaptureMatchesSkopeoAndTheSchema) {
    std::string digest_file = work.file("digest.txt");
    write_text_file(digest_file, pushed);
    auto run = run_tool("capture-digest", {"--image", registry->host() + "/team/app:1.0", "--from-digest-file",
                                           digest_file, "--out", artifact()});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    auto doc = read_artifact();
    EXPECT_EQ(doc["image"]["digest"], served_digest(registry->host() + "/team/app:1.0", plain));
    EXPECT_EQ(doc["image"]["repository"], registry->host() + "/team/app");
    EXPECT_EQ(doc["image"]["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    EXPECT_EQ(doc["image"]["size"], raw_manifest(registry->host() + "/team/app:1.0", plain).size());
    EXPECT_EQ(doc["build"]["source"], "digest-file");
    EXPECT_EQ(schema_problem(artifact()), "");
}

TEST_F(CaptureVerify, ResolveGivesTheDigestSkopeoComputes) {
    auto run = run_tool("capture-digest", {"--image", registry->host() + "/team/app:1.0", "--resolve", "--out",
                                           artifact(), "--json"});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    auto out = json_output(run);
    EXPECT_EQ(out["image"]["digest"], served_digest(registry->host() + "/team/app:1.0", plain));
    EXPECT_EQ(out["image"]["digest"], pushed);
    EXPECT_EQ(out["requests"], 1) << "one GET resolves a tag";
}

TEST_F(CaptureVerify, RefusesTheBuildahImageId) {
    ASSERT_NE(image_id, pushed);
    auto run = run_tool("capture-digest",
                        {"--image", registry->host() + "/team/app:1.0", "--digest", image_id, "--out", artifact()});
    EXPECT_EQ(run.exit_code, 2) << run.describe();
    EXPECT_NE(run.stderr_text.find("image ID"), std::string::npos) << run.stderr_text;
    EXPECT_NE(run.stderr_text.find("--digestfile"), std::string::npos) << "says where the right digest is";
    EXPECT_FALSE(std::ifstream(artifact()).good()) << "nothing written";
}

TEST_F(CaptureVerify, DigestMissingFromTheRepositoryIsBadInput) {
    std::string absent = "sha256:" + std::string(64, 'e');
    auto run = run_tool("capture-digest",
                        {"--image", registry->host() + "/team/app", "--digest", absent, "--out", artifact()});
    EXPECT_EQ(run.exit_code, 2) << run.describe();
    EXPECT_NE(run.stderr_text.find("not a manifest in " + registry->host() + "/team/app"), std::string::npos);
}

TEST_F(CaptureVerify, IndexRecordsBothChildren) {
    auto run = run_tool("capture-digest", {"--image", registry->host() + "/team/multi:1.0", "--resolve", "--out",
                                           artifact()});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    auto doc = read_artifact();
    EXPECT_EQ(doc["image"]["digest"], index_digest);
    EXPECT_EQ(doc["image"]["mediaType"], "application/vnd.oci.image.index.v1+json");
    auto raw = nlohmann::json::parse(raw_manifest(registry->host() + "/team/multi:1.0", plain));
    ASSERT_EQ(doc["image"]["platforms"].size(), 2u);
    std::set<std::string> archs;
    for (std::size_t i = 0; i < 2; ++i) {
        EXPECT_EQ(doc["image"]["platforms"][i]["digest"], raw["manifests"][i]["digest"]);
        EXPECT_EQ(doc["image"]["platforms"][i]["os"], "linux");
        archs.insert(doc["image"]["platforms"][i]["architecture"].get<std::string>());
    }
    EXPECT_EQ(archs, (std::set<std::string>{"amd64", "arm64"}));
    EXPECT_EQ(schema_problem(artifact()), "");

    auto verify = run_tool("verify-digest", {"--artifact", artifact(), "--content", "--json"});
    ASSERT_EQ(verify.exit_code, 0) << verify.describe();
    EXPECT_EQ(json_output(verify)["checks"][0]["result"], "match");
}

TEST_F(CaptureVerify, MovedTagFailsVerifyRefNamingBothDigests) {
    std::string tag_ref = registry->host() + "/team/moving:build-1";
    std::string first = buildah->push("app", tag_ref, plain);
    ASSERT_EQ(run_tool("capture-digest", {"--image", tag_ref, "--digest", first, "--out", artifact()}).exit_code, 0);
    auto same = run_tool("verify-digest", {"--artifact", artifact(), "--ref", tag_ref});
    ASSERT_EQ(same.exit_code, 0) << same.describe();

    buildah->build_scratch_image("other", ScratchImage{{{"hello.txt", "another build\n"}}});
    std::string second = buildah->push("other", tag_ref, plain);
    ASSERT_NE(first, second);
    auto moved = run_tool("verify-digest", {"--artifact", artifact(), "--ref", tag_ref});
    EXPECT_EQ(moved.exit_code, 1) << moved.describe();
    EXPECT_NE(moved.stdout_text.find(first), std::string::npos) << moved.stdout_text;
    EXPECT_NE(moved.stdout_text.find(second), std::string::npos) << moved.stdout_text;

    auto history = read_artifact()["history"];
    ASSERT_EQ(history.size(), 3u);
    EXPECT_EQ(history[1]["result"], "match");
    EXPECT_EQ(history[2]["result"], "mismatch");
    EXPECT_EQ(history[2]["found"], second);
    EXPECT_EQ(read_artifact()["image"]["digest"], first) << "the digest is never rewritten";
}

TEST_F(CaptureVerify, ContentVerificationHashesEveryBlob) {
    ASSERT_EQ(run_tool("capture-digest", {"--image", registry->host() + "/team/app:1.0", "--resolve", "--out",
                                          artifact()}).exit_code, 0);
    auto run = run_tool("verify-digest", {"--artifact", artifact(), "--content"});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_NE(run.stdout_text.find("2 blob(s) fetched and hashed"), std::string::npos) << run.stdout_text;
}

TEST_F(CaptureVerify, DockerSchema2ImagesAreCapturedWithTheirOwnType) {
    std::string ref = registry->host() + "/team/docker-format:1";
    std::string digest = buildah->push("app", ref, plain, ImageFormat::Docker);
    auto run = run_tool("capture-digest", {"--image", ref, "--resolve", "--out", artifact()});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_EQ(read_artifact()["image"]["digest"], digest);
    EXPECT_EQ(read_artifact()["image"]["mediaType"], "application/vnd.docker.distribution.manifest.v2+json");
}

TEST_F(CaptureVerify, OfflineCaptureIsMarkedUnverified) {
    auto run = run_tool("capture-digest", {"--image", "registry.invalid/team/app:1", "--digest", pushed,
                                           "--offline", "--out", artifact()});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_EQ(read_artifact()["image"]["verified"], false);
    EXPECT_EQ(schema_problem(artifact()), "");
}

TEST_F(CaptureVerify, UnreachableRegistryIsExit3NeverASilentPass) {
    std::string host = "127.0.0.1:" + std::to_string(free_loopback_port());
    auto run = run_tool("capture-digest", {"--image", host + "/team/app:1", "--digest", pushed, "--out", artifact()});
    EXPECT_EQ(run.exit_code, 3) << run.describe();
    EXPECT_NE(run.stderr_text.find(host), std::string::npos) << run.stderr_text;
    EXPECT_FALSE(std::ifstream(artifact()).good());
}

TEST_F(CaptureVerify, DeletedTagFailsVerifyRef) {
    ASSERT_EQ(run_tool("capture-digest", {"--image", registry->host() + "/team/app:1.0", "--resolve", "--out",
                                          artifact()}).exit_code, 0);
    auto run = run_tool("verify-digest", {"--artifact", artifact(), "--ref", registry->host() + "/team/app:never-pushed"});
    EXPECT_EQ(run.exit_code, 1) << run.describe();
    EXPECT_NE(run.stdout_text.find("does not exist"), std::string::npos);
}

// Issue 6 #8: capturing the same image and digest again keeps the artifact's history and adds a capture
// entry; a fresh artifact needs --force; another image's artifact is still refused.
TEST_F(CaptureVerify, RecapturingTheSameDigestKeepsTheHistory) {
    const std::string image = registry->host() + "/team/app:1.0";
    ASSERT_EQ(run_tool("capture-digest", {"--image", image, "--digest", pushed, "--out", artifact()}).exit_code, 0);
    auto verify = run_tool("verify-digest", {"--artifact", artifact(), "--ref", image});
    ASSERT_EQ(verify.exit_code, 0) << verify.describe();
    ASSERT_EQ(read_artifact()["history"].size(), 2u);

    std::string digest_file = work.file("digest.txt");
    write_text_file(digest_file, pushed + "\n");
    auto again = run_tool("capture-digest", {"--image", image, "--from-digest-file", digest_file, "--out", artifact()});
    ASSERT_EQ(again.exit_code, 0) << again.describe();
    auto doc = read_artifact();
    ASSERT_EQ(doc["history"].size(), 3u) << doc.dump(2);
    EXPECT_EQ(doc["history"][1]["step"], "verify") << "the earlier history is kept";
    EXPECT_EQ(doc["history"][2]["step"], "capture");
    EXPECT_EQ(doc["history"][2]["source"], "digest-file");
    EXPECT_EQ(doc["history"][2]["tag"], "1.0");
    EXPECT_TRUE(doc["history"][2]["at"].is_string());
    EXPECT_EQ(doc["build"]["source"], "digest") << "the first capture's build block is kept";
    EXPECT_EQ(doc["image"]["digest"], pushed);
    EXPECT_EQ(schema_problem(artifact()), "");

    auto forced = run_tool("capture-digest", {"--image", image, "--digest", pushed, "--out", artifact(), "--force"});
    ASSERT_EQ(forced.exit_code, 0) << forced.describe();
    EXPECT_EQ(read_artifact()["history"].size(), 1u) << "--force starts a fresh artifact";

    auto other = run_tool("capture-digest", {"--image", registry->host() + "/team/multi:1.0", "--resolve", "--out",
                                             artifact()});
    EXPECT_EQ(other.exit_code, 2) << other.describe();
    EXPECT_NE(other.stderr_text.find("--force"), std::string::npos) << other.stderr_text;
    EXPECT_EQ(read_artifact()["image"]["digest"], pushed);
}

// Issue 6 #8: an --offline capture confirmed later keeps its history and becomes verified.
TEST_F(CaptureVerify, RecapturingAnOfflineCaptureVerifiesIt) {
    const std::string image = registry->host() + "/team/app:1.0";
    ASSERT_EQ(run_tool("capture-digest", {"--image", image, "--digest", pushed, "--offline", "--out", artifact()}).exit_code, 0);
    EXPECT_EQ(read_artifact()["image"]["verified"], false);
    auto run = run_tool("capture-digest", {"--image", image, "--digest", pushed, "--out", artifact()});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    auto doc = read_artifact();
    EXPECT_FALSE(doc["image"].contains("verified")) << doc.dump(2);
    EXPECT_EQ(doc["image"]["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    ASSERT_EQ(doc["history"].size(), 2u);
    EXPECT_EQ(doc["history"][1]["source"], "digest");
    EXPECT_FALSE(doc["history"][1].contains("verified"));
    EXPECT_EQ(schema_problem(artifact()), "");
}

// Issue 6 (capture c): ko --image-refs of a multi-platform build lists the index, then each platform; the
// index is recorded once the registry confirms the later lines are its children.
TEST_F(CaptureVerify, KoMultiPlatformRefsRecordTheIndex) {
    const std::string repository = registry->host() + "/team/multi";
    auto raw = nlohmann::json::parse(raw_manifest(repository + ":1.0", plain));
    std::string refs = repository + "@" + index_digest + "\n";
    for (const auto& child : raw["manifests"]) refs += repository + "@" + child["digest"].get<std::string>() + "\n";
    std::string refs_file = work.file("refs.txt");
    write_text_file(refs_file, refs);
    auto run = run_tool("capture-digest", {"--image", repository, "--from-ko-refs", refs_file, "--out", artifact()});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_EQ(read_artifact()["image"]["digest"], index_digest);
    EXPECT_EQ(read_artifact()["image"]["platforms"].size(), 2u);

    // Two images of one repository that are not index and children: refused, nothing written.
    buildah->build_scratch_image("ko-other", ScratchImage{{{"ko.txt", "another image\n"}}});
    std::string unrelated = buildah->push("ko-other", repository + ":unrelated", plain);
    std::string mixed = work.file("mixed.txt");
    write_text_file(mixed, repository + "@" + index_digest + "\n" + repository + "@" + unrelated + "\n");
    auto refused = run_tool("capture-digest", {"--image", repository, "--from-ko-refs", mixed, "--out",
                                               work.file("other.json")});
    EXPECT_EQ(refused.exit_code, 2) << refused.describe();
    EXPECT_NE(refused.stderr_text.find("is not one of its platforms"), std::string::npos) << refused.stderr_text;
    EXPECT_FALSE(std::ifstream(work.file("other.json")).good());
    auto offline = run_tool("capture-digest", {"--image", repository, "--from-ko-refs", refs_file, "--offline", "--out",
                                               work.file("offline.json")});
    EXPECT_EQ(offline.exit_code, 2) << offline.describe();
    EXPECT_NE(offline.stderr_text.find("without --offline"), std::string::npos) << offline.stderr_text;
}

}  // namespace
}  // namespace digestflow::testsupport
