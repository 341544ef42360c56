// capture-digest and verify-digest against a real docker-registry on loopback, with buildah images and
// skopeo as the independent judge of digests.
#include "support/buildah.hpp"
#include "support/counting_proxy.hpp"
#include "support/ports.hpp"
#include "support/registry_api.hpp"
#include "support/registry_process.hpp"
#include "support/skopeo.hpp"
#include "support/temp_dir.hpp"
#include "tools.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <memory>

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

// ---- verify-digest: REPO:TAG@DIGEST, failed content checks, descriptor sizes, foreign layers ----

TEST_F(CaptureVerify, VerifyRefWithTagAndDigestChecksTheTag) {
    const std::string repo = registry->host() + "/team/pinned";
    std::string first = buildah->push("app", repo + ":1", plain);
    ASSERT_EQ(run_tool("capture-digest", {"--image", repo + ":1", "--digest", first, "--out", artifact()}).exit_code,
              0);
    auto same = run_tool("verify-digest", {"--artifact", artifact(), "--ref", repo + ":1@" + first});
    EXPECT_EQ(same.exit_code, 0) << same.describe();

    // The same image in Docker format is another manifest: the tag moves to another digest.
    std::string second = buildah->push("app", repo + ":1", plain, ImageFormat::Docker);
    ASSERT_NE(first, second);
    auto moved = run_tool("verify-digest", {"--artifact", artifact(), "--ref", repo + ":1@" + first, "--json"});
    EXPECT_EQ(moved.exit_code, 1) << moved.describe();
    auto doc = json_output(moved);
    EXPECT_EQ(doc["checks"][0]["result"], "mismatch");
    EXPECT_EQ(doc["checks"][0]["found"], second);
    EXPECT_NE(doc["checks"][0]["detail"].get<std::string>().find("the tag moved"), std::string::npos) << doc.dump();

    auto missing = run_tool("verify-digest", {"--artifact", artifact(), "--ref", repo + ":never@" + first});
    EXPECT_EQ(missing.exit_code, 1) << missing.describe();
    EXPECT_NE(missing.stdout_text.find("does not exist"), std::string::npos) << missing.stdout_text;

    auto other_pin = run_tool("verify-digest", {"--artifact", artifact(), "--ref", repo + ":1@" + second});
    EXPECT_EQ(other_pin.exit_code, 1) << other_pin.describe();
    EXPECT_NE(other_pin.stdout_text.find("pins " + second), std::string::npos) << other_pin.stdout_text;
}

// Content the registry serves that does not hash is a mismatch that is reported and recorded, like any other.
TEST_F(CaptureVerify, ContentThatDoesNotHashIsARecordedMismatch) {
    const std::string app_raw = raw_manifest(registry->host() + "/team/app@" + pushed, plain);
    const auto app = nlohmann::json::parse(app_raw);
    const std::string config = app["config"]["digest"];
    const std::int64_t config_size = app["config"]["size"];
    const std::string child = nlohmann::json::parse(
        raw_manifest(registry->host() + "/team/multi@" + index_digest, plain))["manifests"][0]["digest"];
    const std::string child_raw = raw_manifest(registry->host() + "/team/multi@" + child, plain);
    auto ok = [](const std::string& type, const std::string& body) {
        return "HTTP/1.1 200 OK\r\nContent-Type: " + type + "\r\nContent-Length: " + std::to_string(body.size()) +
               "\r\n\r\n" + body;
    };
    const std::string oci = "application/vnd.oci.image.manifest.v1+json";
    struct Fault {
        std::string label, image, digest, path, response, detail;
    };
    const std::vector<Fault> faults = {
        // A space more is still the same JSON, and another digest.
        {"manifest", "team/app", pushed, "/v2/team/app/manifests/" + pushed, ok(oci, app_raw + " "), "hashes to"},
        {"blob_larger_than_declared", "team/app", pushed, "/v2/team/app/blobs/" + config,
         ok("application/octet-stream", std::string(static_cast<std::size_t>(config_size) + 10, 'x')),
         "larger than the " + std::to_string(config_size) + " bytes"},
        {"index_child", "team/multi", index_digest, "/v2/team/multi/manifests/" + child, ok(oci, child_raw + "\n"),
         "hashes to"},
    };
    for (const auto& fault : faults) {
        SCOPED_TRACE(fault.label);
        CountingProxy proxy(registry->host());
        const std::string image = proxy.host() + "/" + fault.image;
        const std::string path = work.file(fault.label + ".json");
        ASSERT_EQ(run_tool("capture-digest", {"--image", image, "--digest", fault.digest, "--out", path}).exit_code, 0);
        proxy.set_fault([&](const RequestLine& request) -> std::optional<std::string> {
            if (request.method == "GET" && request.path == fault.path) return fault.response;
            return std::nullopt;
        });
        auto run = run_tool("verify-digest", {"--artifact", path, "--content", "--json"});
        EXPECT_EQ(run.exit_code, 1) << run.describe();
        auto doc = json_output(run);
        if (doc["checks"].size() != 1) {
            ADD_FAILURE() << "want one check: " << run.describe();
            continue;  // the other cases still run
        }
        EXPECT_EQ(doc["checks"][0]["result"], "mismatch");
        EXPECT_EQ(doc["checks"][0]["target"], "content of " + image + "@" + fault.digest);
        EXPECT_NE(doc["checks"][0]["detail"].get<std::string>().find(fault.detail), std::string::npos) << doc.dump();
        EXPECT_GE(proxy.count("GET", fault.path), 1u) << "the fault was served";
        auto history = nlohmann::json::parse(read_text_file(path))["history"];
        ASSERT_EQ(history.size(), 2u) << history.dump();
        EXPECT_EQ(history[1]["step"], "verify");
        EXPECT_EQ(history[1]["result"], "mismatch");
    }
}

// A registry failure after a check completed still records that check, then fails as a registry failure.
TEST_F(CaptureVerify, RegistryFailureAfterACheckStillRecordsIt) {
    const std::string config = nlohmann::json::parse(
        raw_manifest(registry->host() + "/team/app@" + pushed, plain))["config"]["digest"];
    CountingProxy proxy(registry->host());
    const std::string tag_ref = proxy.host() + "/team/app:1.0";
    ASSERT_EQ(run_tool("capture-digest", {"--image", tag_ref, "--digest", pushed, "--out", artifact()}).exit_code, 0);
    proxy.reset();
    const std::string blob_path = "/v2/team/app/blobs/" + config;
    proxy.set_fault([=](const RequestLine& request) -> std::optional<std::string> {
        if (request.path == blob_path) return "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n";
        return std::nullopt;
    });
    auto run = run_tool("verify-digest", {"--artifact", artifact(), "--ref", tag_ref, "--content", "--json"});
    EXPECT_EQ(run.exit_code, 3) << run.describe();
    EXPECT_NE(run.stderr_text.find("503"), std::string::npos) << run.stderr_text;
    auto doc = json_output(run);
    EXPECT_EQ(doc["exitCode"], 3);
    EXPECT_EQ(doc["requests"], proxy.requests().size()) << "every request made before the failure";
    auto history = read_artifact()["history"];
    ASSERT_EQ(history.size(), 2u) << "the --ref check that completed is recorded: " << history.dump();
    EXPECT_EQ(history[1]["step"], "verify");
    EXPECT_EQ(history[1]["target"], tag_ref);
    EXPECT_EQ(history[1]["result"], "match");
}

// An image manifest pushed through the registry API with one layer of the given media type and size text.
std::string push_one_layer_image(const std::string& host, const std::string& repository,
                                 const std::string& layer_type, const std::string& size_text,
                                 const std::string& layer_extra = "") {
    const std::string config_bytes = R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}})";
    std::string config = push_blob(host, repository, config_bytes);
    std::string layer = push_blob(host, repository, "layer bytes of " + repository);
    std::string manifest = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
                           R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
                           config + R"(","size":)" + std::to_string(config_bytes.size()) + R"(},"layers":[{"mediaType":")" +
                           layer_type + R"(","digest":")" + layer + R"(","size":)" + size_text + layer_extra + "}]}";
    return push_manifest(host, repository, digest_of_raw(manifest), manifest,
                         "application/vnd.oci.image.manifest.v1+json");
}

TEST_F(CaptureVerify, NegativeDescriptorSizeIsAnInvalidManifest) {
    // distribution 2.8 stores it: it checks that the blob exists, not its size.
    const std::string repo = "team/negative-size";
    std::string digest =
        push_one_layer_image(registry->host(), repo, "application/vnd.oci.image.layer.v1.tar", "-1");
    ASSERT_EQ(run_tool("capture-digest", {"--image", registry->host() + "/" + repo, "--digest", digest, "--offline",
                                          "--out", artifact()}).exit_code,
              0);
    auto run = run_tool("verify-digest", {"--artifact", artifact(), "--content"});
    EXPECT_EQ(run.exit_code, 2) << run.describe();
    EXPECT_NE(run.stderr_text.find("manifest field layers[0].size"), std::string::npos) << run.stderr_text;
    EXPECT_EQ(run.stdout_text, "") << "refused, not hashed and compared";

    auto capture = run_tool("capture-digest", {"--image", registry->host() + "/" + repo, "--digest", digest,
                                               "--out", work.file("again.json")});
    EXPECT_EQ(capture.exit_code, 2) << capture.describe();
}

TEST_F(CaptureVerify, NonDistributableLayersAreNotFetched) {
    // distribution 2.8 accepts an OCI non-distributable layer without `urls` only when the blob is there,
    // and refuses every Docker foreign layer unless its config allows their URLs (see the next test).
    const std::string repo = "team/foreign";
    const std::string layer_type = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
    std::string digest = push_one_layer_image(registry->host(), repo, layer_type,
                                              std::to_string(std::string("layer bytes of team/foreign").size()));
    const auto manifest = nlohmann::json::parse(raw_manifest(registry->host() + "/" + repo + "@" + digest, plain));
    const std::string layer = manifest["layers"][0]["digest"];
    CountingProxy proxy(registry->host());
    ASSERT_EQ(run_tool("capture-digest", {"--image", proxy.host() + "/" + repo, "--digest", digest, "--out",
                                          artifact()}).exit_code,
              0);
    auto run = run_tool("verify-digest", {"--artifact", artifact(), "--content", "--json"});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    auto detail = json_output(run)["checks"][0]["detail"].get<std::string>();
    EXPECT_NE(detail.find("1 blob(s) fetched and hashed; 1 non-distributable layer(s) skipped"), std::string::npos)
        << detail;
    EXPECT_EQ(proxy.count("", "/blobs/" + layer), 0u) << "the foreign layer is never asked for";
    EXPECT_EQ(proxy.count("GET", "/blobs/" + std::string(manifest["config"]["digest"])), 1u);
}

TEST_F(CaptureVerify, DockerForeignLayersAreNotFetched) {
    // distribution 2.8 refuses to store a Docker foreign layer (its URLs are disallowed unless configured, and
    // it requires URLs): the proxy serves the manifest, the registry the config; the layer exists nowhere.
    const std::string repo = "team/foreign-docker";
    const std::string config_bytes = R"({"architecture":"amd64","os":"windows","rootfs":{"type":"layers","diff_ids":[]}})";
    std::string config = push_blob(registry->host(), repo, config_bytes);
    const std::string foreign = digest_of_raw("a Windows base layer");
    const std::string manifest =
        R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",)"
        R"("config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":")" + config +
        R"(","size":)" + std::to_string(config_bytes.size()) +
        R"(},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip","digest":")" +
        foreign + R"(","size":20,"urls":["https://mcr.microsoft.com/v2/windows/blobs/)" + foreign + R"("]}]})";
    const std::string digest = digest_of_raw(manifest);
    CountingProxy proxy(registry->host());
    const std::string manifest_path = "/v2/" + repo + "/manifests/" + digest;
    proxy.set_fault([&](const RequestLine& request) -> std::optional<std::string> {
        if (request.method != "GET" || request.path != manifest_path) return std::nullopt;
        return "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.distribution.manifest.v2+json\r\n"
               "Content-Length: " + std::to_string(manifest.size()) + "\r\n\r\n" + manifest;
    });
    ASSERT_EQ(run_tool("capture-digest", {"--image", proxy.host() + "/" + repo, "--digest", digest, "--offline",
                                          "--out", artifact()}).exit_code,
              0);
    auto run = run_tool("verify-digest", {"--artifact", artifact(), "--content"});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_NE(run.stdout_text.find("1 blob(s) fetched and hashed; 1 non-distributable layer(s) skipped"),
              std::string::npos) << run.stdout_text;
    EXPECT_EQ(proxy.count("", "/blobs/" + foreign), 0u) << "the foreign layer is never asked for";
    EXPECT_EQ(proxy.count("GET", manifest_path), 1u);
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

// "localhost" is loopback by definition and is not looked up: IPv4 first, then IPv6 when nothing listens on
// 127.0.0.1 (a registry bound to [::1] only).
TEST_F(CaptureVerify, LocalhostReachesARegistryListeningOnIpv6Only) {
    RegistryOptions options;
    options.ipv6_only = true;
    Registry v6(options);
    std::string v6_digest = push_oci_image(v6.host(), "team/app", "1.0");
    std::string image = "localhost:" + std::to_string(v6.port()) + "/team/app:1.0";
    auto run = run_tool("capture-digest", {"--image", image, "--resolve", "--out", work.file("v6.json"), "--json"});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_EQ(json_output(run)["image"]["digest"], v6_digest);
}

// Where IPv6 is off (most containers), ::1 cannot even be connected to: a registry not listening on localhost
// is reported as the refusal on 127.0.0.1, not as an IPv6 address error. Run in a network namespace of its own
// with IPv6 off on its loopback (needs root; skipped otherwise).
TEST_F(CaptureVerify, NothingListeningOnLocalhostIsAConnectionRefusedWithoutIpv6) {
    if (run_command({"unshare", "-n", "true"}).exit_code != 0) GTEST_SKIP() << "no network namespaces here";
    const std::string tool = std::string(DIGESTFLOW_TOOLS_DIR) + "/capture-digest/capture-digest";
    const std::string script = "ip link set lo up && { sysctl -qw net.ipv6.conf.lo.disable_ipv6=1 2>/dev/null || true; } && exec \"$0\" \"$@\"";
    RunOptions options;
    options.env = {{"HOME", work.path()}, {"DOCKER_CONFIG", work.path()}};
    auto run = run_command({"unshare", "-n", "sh", "-c", script, tool, "--image", "localhost:5000/team/app:1.0",
                            "--resolve", "--timeout", "5", "--out", work.file("none.json")},
                           options);
    EXPECT_EQ(run.exit_code, 3) << run.describe();
    EXPECT_NE(run.stderr_text.find("cannot reach localhost:5000: Connection refused"), std::string::npos)
        << run.describe();
    EXPECT_EQ(run.stderr_text.find("::1"), std::string::npos) << run.describe();
}

}  // namespace
}  // namespace digestflow::testsupport
