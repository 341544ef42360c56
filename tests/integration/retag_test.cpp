// retag against real docker-registry instances on loopback: same repository (no blob traffic), across
// repositories (mounts), across registries (streamed copies), indexes, the tag-move guard. skopeo judges
// the bytes; the registry's access log shows which endpoints were hit.
#include "support/body_fault_proxy.hpp"
#include "support/buildah.hpp"
#include "support/counting_proxy.hpp"
#include "support/registry_api.hpp"
#include "support/registry_process.hpp"
#include "support/skopeo.hpp"
#include "support/temp_dir.hpp"
#include "tools.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <thread>

namespace digestflow::testsupport {
namespace {

// Our requests in a registry's access log (the log line lands just after the answer: wait a moment).
std::vector<AccessLogEntry> our_requests(const Registry& registry, std::size_t from) {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    auto log = registry.access_log();
    std::vector<AccessLogEntry> ours;
    for (std::size_t i = from; i < log.size(); ++i)
        if (log[i].user_agent.rfind("digestflow", 0) == 0) ours.push_back(log[i]);
    return ours;
}

class Retag : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        // Foreign layers name URLs; distribution refuses those unless allowed.
        RegistryOptions options;
        options.allowed_layer_urls = {"^https://example[.]invalid/"};
        source = new Registry(options);
        target = new Registry(options);
        buildah = new Buildah();
        buildah->build_scratch_image("app");
        image_digest = buildah->push("app", source->host() + "/team/app:build-1", plain);
        buildah->build_index("multi");
        index_digest = buildah->push_index("multi", source->host() + "/team/multi:build-1", plain);
        // A layer of 2 MiB that does not compress: many reads long, so a fault can strike mid-copy.
        std::mt19937 random(7);
        std::string noise(2 * 1024 * 1024, '\0');
        for (char& c : noise) c = static_cast<char>(random() & 0xff);
        buildah->build_scratch_image("big", ScratchImage{{{"noise.bin", noise}}});
        big_digest = buildah->push("big", source->host() + "/team/big:build-1", plain);
        big_layer = nlohmann::json::parse(raw_manifest(source->host() + "/team/big@" + big_digest, plain))["layers"][0]["digest"];
    }
    static void TearDownTestSuite() {
        delete buildah;
        delete target;
        delete source;
    }

    // A fresh artifact for `ref` (tag or digest) in this test's folder.
    std::string capture(const std::string& ref) {
        std::string path = work.file("image-digest.json");
        auto run = run_tool("capture-digest", {"--image", ref, ref.find('@') == std::string::npos ? "--resolve" : "--offline",
                                               "--out", path, "--force"});
        EXPECT_EQ(run.exit_code, 0) << run.describe();
        return path;
    }
    nlohmann::json history() const { return nlohmann::json::parse(read_text_file(work.file("image-digest.json")))["history"]; }

    static Registry* source;
    static Registry* target;
    static Buildah* buildah;
    static RemoteOptions plain;
    static std::string image_digest, index_digest, big_digest, big_layer;
    TempDir work{"digestflow-retag"};
};
Registry* Retag::source = nullptr;
Registry* Retag::target = nullptr;
Buildah* Retag::buildah = nullptr;
RemoteOptions Retag::plain{false};
std::string Retag::image_digest, Retag::index_digest, Retag::big_digest, Retag::big_layer;

TEST_F(Retag, SameRepositoryPutsIdenticalBytesWithoutBlobTraffic) {
    auto artifact = capture(source->host() + "/team/app:build-1");
    auto log_start = source->access_log().size();
    auto run = run_tool("retag", {"--artifact", artifact, "--tag", "1.4.2", "--json"});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_EQ(raw_manifest(source->host() + "/team/app:1.4.2", plain),
              raw_manifest(source->host() + "/team/app@" + image_digest, plain));
    // HEAD the destination tag (the move guard), GET the source by digest, PUT: nothing else.
    EXPECT_EQ(json_output(run)["requests"], 3);
    auto requests = our_requests(*source, log_start);
    ASSERT_EQ(requests.size(), 3u);
    for (const auto& r : requests) EXPECT_EQ(r.path().find("/blobs/"), std::string::npos) << r.line;
    EXPECT_EQ(requests[2].method, "PUT");
    EXPECT_EQ(requests[2].path(), "/v2/team/app/manifests/1.4.2");
    auto last = history().back();
    EXPECT_EQ(last["step"], "retag");
    EXPECT_EQ(last["to"][0], source->host() + "/team/app:1.4.2");
}

TEST_F(Retag, PromotesTheCapturedDigestEvenAfterTheBuildTagMoved) {
    std::string build_tag = source->host() + "/team/moving:build-7";
    std::string first = buildah->push("app", build_tag, plain);
    auto artifact = capture(build_tag);
    buildah->build_scratch_image("later", ScratchImage{{{"hello.txt", "a later build\n"}}});
    std::string second = buildah->push("later", build_tag, plain);
    ASSERT_NE(first, second);
    TempDir ci;
    auto run = run_tool("retag", {"--artifact", artifact, "--tag", "release", "--tag", "1.0", "--dotenv", ci.file("retag.env")},
                        {{"GITHUB_ACTIONS", "true"}, {"GITHUB_OUTPUT", ci.file("github_output")}});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_EQ(served_digest(source->host() + "/team/moving:release", plain), first);
    // The next step is told the captured digest and the promoted tags, never the moved build tag's digest.
    const std::string promoted = source->host() + "/team/moving:release," + source->host() + "/team/moving:1.0";
    EXPECT_NE(read_text_file(ci.file("github_output")).find("digest=" + first + "\n"), std::string::npos);
    EXPECT_NE(read_text_file(ci.file("github_output")).find("promoted=" + promoted + "\n"), std::string::npos)
        << read_text_file(ci.file("github_output"));
    EXPECT_NE(read_text_file(ci.file("retag.env")).find("PROMOTED_REFERENCES=" + promoted + "\n"), std::string::npos)
        << read_text_file(ci.file("retag.env"));
}

TEST_F(Retag, TagMoveGuardIdempotenceAndAllowMove) {
    auto artifact = capture(source->host() + "/team/app:build-1");
    std::string taken = source->host() + "/team/app:taken";
    buildah->build_scratch_image("intruder", ScratchImage{{{"hello.txt", "someone else\n"}}});
    std::string intruder = buildah->push("intruder", taken, plain);

    auto refused = run_tool("retag", {"--artifact", artifact, "--tag", "taken", "--tag", "fresh"});
    EXPECT_EQ(refused.exit_code, 1) << refused.describe();
    EXPECT_NE(refused.stderr_text.find(intruder), std::string::npos);
    EXPECT_NE(refused.stderr_text.find(image_digest), std::string::npos);
    EXPECT_EQ(served_digest(taken, plain), intruder) << "nothing moved";
    EXPECT_EQ(skopeo_inspect_raw(source->host() + "/team/app:fresh", plain).exit_code == 0, false)
        << "nothing written when one destination is refused";

    auto moved = run_tool("retag", {"--artifact", artifact, "--tag", "taken", "--allow-move", "--json"});
    ASSERT_EQ(moved.exit_code, 0) << moved.describe();
    EXPECT_EQ(served_digest(taken, plain), image_digest);
    EXPECT_EQ(json_output(moved)["destinations"][0]["previous"], intruder);
    EXPECT_EQ(history().back()["previous"][taken], intruder);

    auto again = run_tool("retag", {"--artifact", artifact, "--tag", "taken", "--json"});
    ASSERT_EQ(again.exit_code, 0) << again.describe();
    EXPECT_EQ(json_output(again)["destinations"][0]["action"], "unchanged");
    EXPECT_EQ(json_output(again)["requests"], 1) << "HEAD the tag; no GET of the source, no PUT";
}

// The guard of a bare repository HEADs the digest there; the copy takes that answer instead of asking again.
TEST_F(Retag, ABareRepositoryIsAskedForTheDigestOnce) {
    auto log_start = source->access_log().size();
    auto run = run_tool("retag", {"--source", source->host() + "/team/app@" + image_digest, "--to",
                                  source->host() + "/prod/bare-only", "--json"});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    auto out = json_output(run);
    EXPECT_EQ(out["blobs"]["mounted"], 2);
    // HEAD the digest (the guard: absent), GET the source, 2 mounts, PUT by digest.
    EXPECT_EQ(out["requests"], 5);
    int heads = 0;
    for (const auto& r : our_requests(*source, log_start))
        heads += r.method == "HEAD" && r.path() == "/v2/prod/bare-only/manifests/" + image_digest;
    EXPECT_EQ(heads, 1);
    EXPECT_EQ(served_digest(source->host() + "/prod/bare-only@" + image_digest, plain), image_digest);
}

// A re-run that finds every destination at the digest HEADs each once and fetches nothing: the digest is the
// request's, the media type the HEAD's. The report and the history say the same as on the first run.
TEST_F(Retag, ARerunThatChangesNothingOnlyHeadsTheDestinations) {
    auto artifact = capture(source->host() + "/team/app:build-1");
    const std::vector<std::string> destinations{source->host() + "/team/app:rerun-1", source->host() + "/prod/rerun:1",
                                                target->host() + "/mirror/rerun:1"};
    const std::vector<std::string> args{"--artifact", artifact, "--tag", "rerun-1", "--to", destinations[1], "--to",
                                        destinations[2]};
    auto first = run_tool("retag", args);
    ASSERT_EQ(first.exit_code, 0) << first.describe();

    auto log_start = source->access_log().size();
    auto again = run_tool("retag", args);
    ASSERT_EQ(again.exit_code, 0) << again.describe();
    auto headline = [](const std::string& text) { return text.substr(0, text.find('\n')); };
    EXPECT_EQ(headline(again.stdout_text), headline(first.stdout_text)) << "the digest and its media type";
    EXPECT_NE(again.stdout_text.find("; 3 HTTP requests"), std::string::npos) << again.stdout_text;
    for (const auto& r : our_requests(*source, log_start)) EXPECT_EQ(r.method, "HEAD") << r.line;

    auto json_args = args;
    json_args.push_back("--json");
    auto out = json_output(run_tool("retag", json_args));
    EXPECT_EQ(out["requests"], 3) << "one HEAD per destination";
    EXPECT_EQ(out["digest"], image_digest);
    ASSERT_EQ(out["destinations"].size(), 3u) << out.dump();
    for (const auto& d : out["destinations"]) EXPECT_EQ(d["action"], "unchanged") << out.dump();
    auto last = history().back();
    EXPECT_EQ(last["step"], "retag");
    EXPECT_EQ(last["to"], nlohmann::json(destinations));
    EXPECT_FALSE(last.contains("previous")) << last.dump();
    EXPECT_EQ(schema_problem(artifact), "");
}

// Within one run what was fetched by digest cannot change: five items naming one image and three naming one
// index GET the image, the index and each child once, whatever the workers' order.
TEST_F(Retag, AListFetchesEachSourceManifestOnce) {
    CountingProxy proxy(source->host());
    std::string list;
    for (int i = 0; i < 5; ++i)
        list += R"({"source": ")" + proxy.host() + "/team/app@" + image_digest + R"(", "tags": ["cached-)" +
                std::to_string(i) + "\"]}\n";
    for (int i = 0; i < 3; ++i)
        list += R"({"source": ")" + proxy.host() + "/team/multi@" + index_digest + R"(", "to": ")" + target->host() +
                "/cached/multi-" + std::to_string(i) + ":1\"}\n";
    write_text_file(work.file("list.jsonl"), list);
    auto run = run_tool("retag", {"--from-list", work.file("list.jsonl"), "-j", "4", "--json"});
    ASSERT_EQ(run.exit_code, 0) << run.describe();

    EXPECT_EQ(proxy.count("GET", "/v2/team/app/manifests/" + image_digest), 1u);
    EXPECT_EQ(proxy.count("GET", "/v2/team/multi/manifests/" + index_digest), 1u);
    auto index = nlohmann::json::parse(raw_manifest(source->host() + "/team/multi@" + index_digest, plain));
    ASSERT_EQ(index["manifests"].size(), 2u);
    for (const auto& child : index["manifests"])
        EXPECT_EQ(proxy.count("GET", "/v2/team/multi/manifests/" + child["digest"].get<std::string>()), 1u);
    for (int i = 0; i < 5; ++i)
        EXPECT_EQ(served_digest(source->host() + "/team/app:cached-" + std::to_string(i), plain), image_digest);
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(served_digest(target->host() + "/cached/multi-" + std::to_string(i) + ":1", plain), index_digest);
}

TEST_F(Retag, AnotherRepositoryMountsBlobsInsteadOfUploading) {
    auto artifact = capture(source->host() + "/team/app:build-1");
    auto log_start = source->access_log().size();
    auto run = run_tool("retag", {"--artifact", artifact, "--to", source->host() + "/prod/app:1.0", "--json"});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    auto out = json_output(run);
    EXPECT_EQ(out["blobs"]["mounted"], 2);
    EXPECT_EQ(out["blobs"]["uploaded"], 0);
    // HEAD guard, GET, HEAD digest in the destination, 2 mounts, PUT by digest, PUT the tag (README's table).
    EXPECT_EQ(out["requests"], 7);
    EXPECT_EQ(served_digest(source->host() + "/prod/app:1.0", plain), image_digest);
    for (const auto& r : our_requests(*source, log_start)) {
        EXPECT_FALSE(r.method == "PATCH" || (r.method == "PUT" && r.path().find("/blobs/uploads/") != std::string::npos))
            << "no blob bytes uploaded: " << r.line;
        if (r.method == "POST") {
            EXPECT_NE(r.uri.find("mount="), std::string::npos) << r.line;
        }
    }
}

TEST_F(Retag, AnotherRegistryGetsByteIdenticalImageAndIndex) {
    auto artifact = capture(source->host() + "/team/app:build-1");
    auto run = run_tool("retag", {"--artifact", artifact, "--to", target->host() + "/mirror/app:1.0", "--to",
                                  target->host() + "/mirror/digest-only", "--json"});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_EQ(raw_manifest(target->host() + "/mirror/app:1.0", plain),
              raw_manifest(source->host() + "/team/app@" + image_digest, plain));
    EXPECT_EQ(served_digest(target->host() + "/mirror/digest-only@" + image_digest, plain), image_digest);
    auto out = json_output(run);
    EXPECT_EQ(out["blobs"]["uploaded"], 2) << "streamed once";
    EXPECT_EQ(out["blobs"]["mounted"], 2) << "the second repository mounts from the first";

    auto index_artifact = capture(source->host() + "/team/multi:build-1");
    auto index_run = run_tool("retag", {"--artifact", index_artifact, "--to", target->host() + "/mirror/multi:1.0"});
    ASSERT_EQ(index_run.exit_code, 0) << index_run.describe();
    std::string copied = raw_manifest(target->host() + "/mirror/multi:1.0", plain);
    EXPECT_EQ(copied, raw_manifest(source->host() + "/team/multi@" + index_digest, plain));
    auto index = nlohmann::json::parse(copied);
    ASSERT_EQ(index["manifests"].size(), 2u);
    for (const auto& child : index["manifests"]) {
        std::string digest = child["digest"];
        EXPECT_EQ(served_digest(target->host() + "/mirror/multi@" + digest, plain), digest);
    }
    auto verify = run_tool("verify-digest", {"--artifact", index_artifact, "--ref", target->host() + "/mirror/multi:1.0"});
    EXPECT_EQ(verify.exit_code, 0) << verify.describe();
}

TEST_F(Retag, SourceFlagNeverResolvesATag) {
    auto run = run_tool("retag", {"--source", source->host() + "/team/app:build-1", "--tag", "x"});
    EXPECT_EQ(run.exit_code, 2) << run.describe();
    auto by_digest = run_tool("retag", {"--source", source->host() + "/team/app@" + image_digest, "--tag", "from-source"});
    EXPECT_EQ(by_digest.exit_code, 0) << by_digest.describe();
    EXPECT_EQ(served_digest(source->host() + "/team/app:from-source", plain), image_digest);
}

TEST_F(Retag, SourceAndArtifactTogetherAreRefused) {
    auto artifact = capture(source->host() + "/team/app:build-1");
    auto run = run_tool("retag", {"--artifact", artifact, "--source", source->host() + "/team/app@" + image_digest,
                                  "--tag", "both-named"});
    EXPECT_EQ(run.exit_code, 2) << run.describe();
    EXPECT_NE(run.stderr_text.find("--source and --artifact"), std::string::npos) << run.stderr_text;
    EXPECT_NE(skopeo_inspect_raw(source->host() + "/team/app:both-named", plain).exit_code, 0) << "nothing written";
}

// Tags are written last and what was written is recorded even when a later tag fails: the moved tag's
// previous digest (the way back) is in the artifact's history and in the error --json.
TEST_F(Retag, AFailedThirdDestinationStillRecordsWhatWasWritten) {
    CountingProxy proxy(source->host());
    buildah->build_scratch_image("earlier", ScratchImage{{{"hello.txt", "an earlier release\n"}}});
    std::string earlier = buildah->push("earlier", source->host() + "/team/app:rec-moved", plain);
    auto artifact = capture(proxy.host() + "/team/app@" + image_digest);
    proxy.set_fault([](const RequestLine& request) -> std::optional<std::string> {
        if (request.method != "PUT" || request.path != "/v2/team/app/manifests/rec-fails") return std::nullopt;
        const std::string body = R"({"errors":[{"code":"DENIED","message":"tag is protected"}]})";
        return "HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body;
    });
    const std::string moved = proxy.host() + "/team/app:rec-moved", fresh = proxy.host() + "/team/app:rec-new",
                      fails = proxy.host() + "/team/app:rec-fails";
    auto run = run_tool("retag", {"--artifact", artifact, "--tag", "rec-moved", "--tag", "rec-new", "--tag",
                                  "rec-fails", "--allow-move", "--json"});
    ASSERT_EQ(run.exit_code, 4) << run.describe();
    EXPECT_EQ(served_digest(source->host() + "/team/app:rec-moved", plain), image_digest) << "the tag did move";

    auto out = json_output(run);
    ASSERT_EQ(out["destinations"].size(), 3u) << out.dump();
    EXPECT_EQ(out["destinations"][0]["reference"], moved);
    EXPECT_EQ(out["destinations"][0]["previous"], earlier);
    EXPECT_EQ(out["destinations"][0]["written"], true);
    EXPECT_EQ(out["destinations"][1]["written"], true);
    EXPECT_EQ(out["destinations"][2]["reference"], fails);
    EXPECT_EQ(out["destinations"][2]["written"], false);
    EXPECT_EQ(out["destinations"][2]["failed"], true);
    EXPECT_NE(out["error"].get<std::string>().find("tag is protected"), std::string::npos);
    EXPECT_NE(run.stderr_text.find("written before the failure: " + moved + " (moved)"), std::string::npos)
        << run.stderr_text;

    auto last = history().back();
    EXPECT_EQ(last["step"], "retag");
    EXPECT_EQ(last["to"], nlohmann::json::array({moved, fresh}));
    EXPECT_EQ(last["previous"][moved], earlier);
    EXPECT_EQ(last["notWritten"], nlohmann::json::array({fails}));
    EXPECT_NE(last["error"].get<std::string>().find("tag is protected"), std::string::npos);
    EXPECT_EQ(schema_problem(artifact), "");
}

// Registries neither hold nor expect non-distributable (foreign) layers: a copy leaves them alone.
TEST_F(Retag, NonDistributableLayersAreNotCopied) {
    const std::string repo = "team/windows";
    std::string config = push_blob(source->host(), repo, R"({"architecture":"amd64","os":"windows"})");
    std::string layer = push_blob(source->host(), repo, "a distributable layer");
    const std::string absent = "sha256:" + std::string(64, 'f');  // in no registry: fetched from its URL
    struct Case {
        std::string manifest_type, config_type, layer_type, foreign_type;
    };
    for (const auto& c : {Case{"application/vnd.docker.distribution.manifest.v2+json",
                               "application/vnd.docker.container.image.v1+json",
                               "application/vnd.docker.image.rootfs.diff.tar.gzip",
                               "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"},
                          Case{"application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.config.v1+json",
                               "application/vnd.oci.image.layer.v1.tar+gzip",
                               "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"}}) {
        const std::string manifest =
            R"({"schemaVersion":2,"mediaType":")" + c.manifest_type + R"(","config":{"mediaType":")" + c.config_type +
            R"(","digest":")" + config + R"(","size":39},"layers":[{"mediaType":")" + c.foreign_type +
            R"(","digest":")" + absent + R"(","size":1048576,"urls":["https://example.invalid/base.tar.gz"]},)"
            R"({"mediaType":")" + c.layer_type + R"(","digest":")" + layer + R"(","size":21}]})";
        std::string digest = digest_of_raw(manifest);
        // distribution 2.8 accepts a foreign layer it does not hold; it checks only the URL (allowed above).
        push_manifest(source->host(), repo, digest, manifest, c.manifest_type);
        auto log_start = source->access_log().size();
        auto run = run_tool("retag", {"--source", source->host() + "/" + repo + "@" + digest, "--to",
                                      target->host() + "/mirror/windows:" + digest.substr(7, 12), "--json"});
        ASSERT_EQ(run.exit_code, 0) << c.foreign_type << ": " << run.describe();
        EXPECT_EQ(raw_manifest(target->host() + "/mirror/windows:" + digest.substr(7, 12), plain), manifest);
        EXPECT_EQ(json_output(run)["blobs"]["uploaded"].get<int>() + json_output(run)["blobs"]["present"].get<int>() +
                      json_output(run)["blobs"]["mounted"].get<int>(),
                  2)
            << "config and the distributable layer";
        for (const auto& r : our_requests(*source, log_start))
            EXPECT_EQ(r.path().find(absent), std::string::npos) << "the foreign layer is never asked for: " << r.line;
    }
}

// The source's bytes are checked before the last one goes out: a blob that does not hash is refused as
// content (exit 1, naming the source blob) and the destination never completes an upload of it.
TEST_F(Retag, ATamperedSourceBlobIsRefusedAndNeverStored) {
    BodyFaultProxy proxy(source->host());
    proxy.set_fault([](const std::string& method, const std::string& path) {
        return method == "GET" && path.find("/blobs/" + big_layer) != std::string::npos ? BodyFault::FlipByte
                                                                                           : BodyFault::None;
    });
    auto run = run_tool("retag", {"--source", proxy.host() + "/team/big@" + big_digest, "--to",
                                  target->host() + "/tampered/big:1"});
    EXPECT_EQ(run.exit_code, 1) << run.describe();
    EXPECT_NE(run.stderr_text.find("blob " + big_layer + " from " + proxy.host() + "/team/big hashed to"),
              std::string::npos)
        << run.stderr_text;
    EXPECT_GE(proxy.faulted(), 1);
    EXPECT_FALSE(blob_exists(target->host(), "tampered/big", big_layer));
    EXPECT_NE(skopeo_inspect_raw(target->host() + "/tampered/big:1", plain).exit_code, 0);
}

// A source that sends fewer bytes than the descriptor and then keeps the connection open: the copy stops
// at once, blaming the source (not a timeout of the destination), and nothing is stored.
TEST_F(Retag, AShortSourceBlobFailsAtOnceNamingTheSource) {
    BodyFaultProxy proxy(source->host());
    proxy.set_fault([](const std::string& method, const std::string& path) {
        return method == "GET" && path.find("/blobs/" + big_layer) != std::string::npos ? BodyFault::Short
                                                                                           : BodyFault::None;
    });
    auto run = run_tool("retag", {"--source", proxy.host() + "/team/big@" + big_digest, "--to",
                                  target->host() + "/short/big:1"});

    EXPECT_EQ(run.exit_code, 1) << run.describe() << " (the content is wrong, as for bytes that do not hash)";
    EXPECT_NE(run.stderr_text.find(proxy.host() + " sent "), std::string::npos) << run.stderr_text;
    EXPECT_NE(run.stderr_text.find(big_layer), std::string::npos) << run.stderr_text;
    EXPECT_EQ(run.stderr_text.find("no answer from"), std::string::npos) << run.stderr_text;
    EXPECT_FALSE(blob_exists(target->host(), "short/big", big_layer));
}

// One broken-off download is survived like any other one-off reset: that upload session is abandoned and
// the blob copied again in a new one.
TEST_F(Retag, ABrokenOffBlobDownloadIsCopiedAgain) {
    std::atomic<int> cuts{0};  // before the proxy: its threads use it until the proxy is gone
    BodyFaultProxy proxy(source->host());
    proxy.set_fault([&](const std::string& method, const std::string& path) {
        bool first = method == "GET" && path.find("/blobs/" + big_layer) != std::string::npos && cuts++ == 0;
        return first ? BodyFault::CutMidBody : BodyFault::None;
    });
    auto run = run_tool("retag", {"--source", proxy.host() + "/team/big@" + big_digest, "--to",
                                  target->host() + "/resumed/big:1", "--json"});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_EQ(proxy.faulted(), 1);
    EXPECT_EQ(cuts.load(), 2) << "the layer was fetched again";
    EXPECT_EQ(served_digest(target->host() + "/resumed/big:1", plain), big_digest);
    int cancelled = 0;
    for (const auto& r : our_requests(*target, 0))
        cancelled += r.method == "DELETE" && r.path().rfind("/v2/resumed/big/blobs/uploads/", 0) == 0;
    EXPECT_EQ(cancelled, 1) << "the abandoned upload session was cancelled";
    // skopeo checks every blob's digest while it copies: the copy is whole.
    EXPECT_EQ(skopeo_copy(target->host() + "/resumed/big:1", source->host() + "/judged/big:1", plain, plain), big_digest);
}

// distribution 2.8 has no referrers API: a signature is found through the sha256-<hex> fallback tag, copied
// by digest with its blobs, and the destination's fallback tag is written (the destination has no API either).
TEST_F(Retag, ReferrersTravelThroughTheFallbackTag) {
    const std::string repo = "team/signed";
    std::string subject = buildah->push("app", source->host() + "/" + repo + ":1.0", plain);
    std::string subject_size = std::to_string(raw_manifest(source->host() + "/" + repo + "@" + subject, plain).size());
    std::string empty = push_blob(source->host(), repo, "{}");
    std::string payload = push_blob(source->host(), repo, "pretend this is a signature");
    const std::string signature =
        R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
        R"("artifactType":"application/vnd.example.signature.v1",)"
        R"("config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":")" + empty + R"(","size":2},)"
        R"("layers":[{"mediaType":"application/vnd.example.signature.v1","digest":")" + payload + R"(","size":27}],)"
        R"("subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + subject +
        R"(","size":)" + subject_size + "}}";
    std::string signature_digest = digest_of_raw(signature);
    push_manifest(source->host(), repo, signature_digest, signature, "application/vnd.oci.image.manifest.v1+json");
    const std::string fallback_tag = "sha256-" + subject.substr(7);
    const std::string fallback_index =
        R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)"
        R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + signature_digest + R"(","size":)" +
        std::to_string(signature.size()) + R"(,"artifactType":"application/vnd.example.signature.v1"}]})";
    push_manifest(source->host(), repo, fallback_tag, fallback_index, "application/vnd.oci.image.index.v1+json");

    auto artifact = capture(source->host() + "/" + repo + ":1.0");
    auto run = run_tool("retag", {"--artifact", artifact, "--to", target->host() + "/mirror/signed:1.0",
                                  "--referrers", "--json"});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_EQ(json_output(run)["referrers"], 1);
    EXPECT_EQ(raw_manifest(target->host() + "/mirror/signed@" + signature_digest, plain), signature);
    EXPECT_EQ(raw_manifest(target->host() + "/mirror/signed:" + fallback_tag, plain), fallback_index)
        << "the destination had no fallback index: it gets the source's, byte for byte";

    auto without = run_tool("retag", {"--artifact", artifact, "--to", target->host() + "/mirror/unsigned:1.0"});
    ASSERT_EQ(without.exit_code, 0) << without.describe();
    EXPECT_NE(skopeo_inspect_raw(target->host() + "/mirror/unsigned@" + signature_digest, plain).exit_code, 0)
        << "referrers are copied only when asked";
}

// team/layered in the source registry: eight small layers and one of 2 MiB (streamed), all incompressible,
// pushed once; the digest, and the layers' digests in manifest order.
struct LayeredImage {
    std::string digest;
    std::vector<std::string> layers;
    std::int64_t bytes = 0;  // config and layers
};
const LayeredImage& layered_image(const std::string& host) {
    static LayeredImage image = [&] {
        LayeredImage pushed;
        std::mt19937 random(11);
        std::string layers_json;
        for (std::size_t size : {1000u, 20000u, 64000u, 3000u, 300000u, 120000u, 9000u, 700000u, 2u << 20}) {
            std::string layer(size, '\0');
            for (auto& c : layer) c = static_cast<char>(random());
            pushed.layers.push_back(push_blob(host, "team/layered", layer));
            pushed.bytes += static_cast<std::int64_t>(size);
            layers_json += std::string(layers_json.empty() ? "" : ",") +
                           R"({"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":")" + pushed.layers.back() +
                           R"(","size":)" + std::to_string(size) + "}";
        }
        const std::string config = R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}})";
        pushed.bytes += static_cast<std::int64_t>(config.size());
        const std::string manifest =
            R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":)"
            R"("application/vnd.oci.image.config.v1+json","digest":")" + push_blob(host, "team/layered", config) +
            R"(","size":)" + std::to_string(config.size()) + R"(},"layers":[)" + layers_json + "]}";
        pushed.digest = push_manifest(host, "team/layered", "1.0", manifest, "application/vnd.oci.image.manifest.v1+json");
        return pushed;
    }();
    return image;
}

// The blobs of one image cross registries a few at a time (more than one connection to the source), small
// ones through memory, the large one streamed; a second repository mounts them. Counts as before, and
// skopeo, hashing everything it copies, reads the result.
TEST_F(Retag, AManyLayeredImageCrossesRegistriesWhole) {
    const auto& image = layered_image(source->host());
    CountingProxy proxy(source->host());
    auto run = run_tool("retag", {"--source", proxy.host() + "/team/layered@" + image.digest, "--to",
                                  target->host() + "/layered/app:1", "--to", target->host() + "/layered/again:1",
                                  "--json"});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    auto out = json_output(run);
    EXPECT_EQ(out["blobs"]["uploaded"], 10) << "nine layers and the config";
    EXPECT_EQ(out["blobs"]["bytesUploaded"], image.bytes);
    EXPECT_EQ(out["blobs"]["mounted"], 10) << "the second repository mounts from the first";
    EXPECT_EQ(out["blobs"]["present"], 0);
    // Two guard HEADs, GET the manifest; first repository: HEAD digest, per blob HEAD, POST, GET, PUT, then
    // PUT by digest; second: HEAD digest, 10 mounts, PUT by digest; the two tags.
    EXPECT_EQ(out["requests"], 3 + (1 + 10 * 4 + 1) + (1 + 10 + 1) + 2);
    EXPECT_EQ(proxy.count("GET", "/blobs/"), 10u) << "each blob fetched once";
    EXPECT_GE(proxy.http_connection_count(), 2u) << "the blobs were fetched concurrently";
    // skopeo rewrites this hand-made manifest as it copies (another digest), but it hashes every blob it reads.
    for (const std::string repo : {"/layered/app:1", "/layered/again:1"}) {
        EXPECT_EQ(raw_manifest(target->host() + repo, plain),
                  raw_manifest(source->host() + "/team/layered@" + image.digest, plain));
        EXPECT_NO_THROW(skopeo_copy(target->host() + repo, source->host() + "/judged" + repo, plain, plain)) << repo;
    }
}

// One small layer of several does not hash: the copy fails as content (exit 1, naming that layer), the
// other copies stop, and neither the manifest nor the tampered layer is stored.
TEST_F(Retag, OneTamperedLayerOfManyStopsTheCopyBeforeTheManifest) {
    const auto& image = layered_image(source->host());
    const std::string tampered = image.layers[3];
    BodyFaultProxy proxy(source->host());
    proxy.set_fault([&](const std::string& method, const std::string& path) {
        return method == "GET" && path.find("/blobs/" + tampered) != std::string::npos ? BodyFault::FlipByte
                                                                                        : BodyFault::None;
    });
    auto run = run_tool("retag", {"--source", proxy.host() + "/team/layered@" + image.digest, "--to",
                                  target->host() + "/tampered/layered:1", "--json"});
    EXPECT_EQ(run.exit_code, 1) << run.describe();
    EXPECT_NE(run.stderr_text.find("blob " + tampered + " from " + proxy.host() + "/team/layered hashed to"),
              std::string::npos)
        << run.stderr_text;
    EXPECT_EQ(proxy.faulted(), 1);
    EXPECT_FALSE(blob_exists(target->host(), "tampered/layered", tampered));
    EXPECT_NE(skopeo_inspect_raw(target->host() + "/tampered/layered@" + image.digest, plain).exit_code, 0);
    EXPECT_NE(skopeo_inspect_raw(target->host() + "/tampered/layered:1", plain).exit_code, 0);
    auto out = json_output(run);
    ASSERT_EQ(out["destinations"].size(), 1u) << out.dump();
    EXPECT_EQ(out["destinations"][0]["written"], false) << out.dump();
}

// Small blobs go through memory, four at a time: each may cost its own size once, not once per copy of the
// request on its way to the socket. Eight layers of 1 MiB (the largest "small" size) cross registries in
// at most a few MiB more peak memory than a one-layer image does.
TEST_F(Retag, SmallLayersCrossInMemoryBoundedByTheirOwnSize) {
    std::mt19937 random(13);
    std::vector<std::string> layers(8, std::string(1024 * 1024, '\0'));
    for (auto& layer : layers)
        for (auto& c : layer) c = static_cast<char>(random());
    auto digest = push_oci_image(source->host(), "team/small", "1", layers);

    auto one = run_tool("retag", {"--source", source->host() + "/team/app@" + image_digest, "--to",
                                  target->host() + "/small/baseline:1"});
    ASSERT_EQ(one.exit_code, 0) << one.describe();
    auto eight = run_tool("retag", {"--source", source->host() + "/team/small@" + digest, "--to",
                                    target->host() + "/small/eight:1", "--json"});
    ASSERT_EQ(eight.exit_code, 0) << eight.describe();
    EXPECT_EQ(json_output(eight)["blobs"]["uploaded"], 9);
    EXPECT_GT(one.peak_rss_kib, 0);
    EXPECT_LT(eight.peak_rss_kib - one.peak_rss_kib, 8 * 1024)
        << "peak RSS " << eight.peak_rss_kib << " KiB for 8 x 1 MiB layers, " << one.peak_rss_kib << " KiB for one small image";
    EXPECT_EQ(served_digest(target->host() + "/small/eight:1", plain), digest);
}

// The config's and the layers' digests of an image manifest.
std::vector<std::string> image_blobs(const std::string& ref) {
    auto manifest = nlohmann::json::parse(raw_manifest(ref, RemoteOptions{false}));
    std::vector<std::string> out{manifest["config"]["digest"].get<std::string>()};
    for (const auto& layer : manifest["layers"]) out.push_back(layer["digest"]);
    return out;
}

// Every upload session a failed copy opened and did not complete is cancelled: sessions opened (POSTs) less
// blobs stored equals DELETEs.
void expect_sessions_closed(const CountingProxy& destination, const std::string& repository,
                            const std::vector<std::string>& blobs) {
    std::size_t stored = 0;
    for (const auto& blob : blobs) stored += blob_exists(destination.host(), repository, blob);
    std::size_t opened = destination.count("POST", "/v2/" + repository + "/blobs/uploads/");
    std::size_t cancelled = destination.count("DELETE", "/v2/" + repository + "/blobs/uploads/");
    std::string seen;
    for (const auto& r : destination.requests()) seen += r.method + " " + r.path.substr(0, 90) + (r.faulted ? " (fault)" : "") + "\n";
    EXPECT_EQ(opened - stored, cancelled) << seen;
}

// A destination that refuses one of the parallel uploads for good (500 each time): the copy fails naming
// that blob, as a registry failure, no manifest is written and every unfinished session is cancelled.
TEST_F(Retag, ADestinationRefusingOneOfTheParallelUploadsWritesNoManifest) {
    const auto& image = layered_image(source->host());
    const std::string refused = image.layers[4];
    CountingProxy proxy(target->host());
    proxy.set_fault([&](const RequestLine& request) -> std::optional<std::string> {
        if (request.method != "PUT" || request.path.find("digest=" + refused) == std::string::npos) return std::nullopt;
        return std::string("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");
    });
    auto run = run_tool("retag", {"--source", source->host() + "/team/layered@" + image.digest, "--to",
                                  proxy.host() + "/refused/layered:1", "--json"});
    EXPECT_EQ(run.exit_code, 3) << run.describe();
    EXPECT_NE(run.stderr_text.find(refused), std::string::npos) << run.stderr_text;
    EXPECT_NE(skopeo_inspect_raw(target->host() + "/refused/layered@" + image.digest, plain).exit_code, 0);
    EXPECT_EQ(proxy.count("PUT", "/manifests/"), 0u);
    EXPECT_FALSE(blob_exists(target->host(), "refused/layered", refused));
    expect_sessions_closed(proxy, "refused/layered", image_blobs(source->host() + "/team/layered@" + image.digest));
    auto out = json_output(run);
    ASSERT_EQ(out["destinations"].size(), 1u) << out.dump();
    EXPECT_EQ(out["destinations"][0]["written"], false) << out.dump();
}

// A source whose download of one layer always breaks off: the copy fails naming it, after the client's
// retries, with no manifest and no session left open.
TEST_F(Retag, ASourceDyingMidCopyOfOneLayerWritesNoManifest) {
    const auto& image = layered_image(source->host());
    const std::string dying = image.layers[8];  // the 2 MiB one: streamed
    BodyFaultProxy faulty(source->host());
    faulty.set_fault([&](const std::string& method, const std::string& path) {
        return method == "GET" && path.find("/blobs/" + dying) != std::string::npos ? BodyFault::CutMidBody : BodyFault::None;
    });
    CountingProxy proxy(target->host());
    auto run = run_tool("retag", {"--source", faulty.host() + "/team/layered@" + image.digest, "--to",
                                  proxy.host() + "/dying/layered:1", "--json"});
    EXPECT_EQ(run.exit_code, 3) << run.describe();
    EXPECT_NE(run.stderr_text.find(dying), std::string::npos) << run.stderr_text;
    EXPECT_EQ(proxy.count("PUT", "/manifests/"), 0u);
    EXPECT_FALSE(blob_exists(target->host(), "dying/layered", dying));
    expect_sessions_closed(proxy, "dying/layered", image_blobs(source->host() + "/team/layered@" + image.digest));
}

// A small blob (fetched into memory) whose registry serves far more than its descriptor declares: the read
// stops at the declared size, the copy fails as content naming the blob, and the session is cancelled.
TEST_F(Retag, ASmallBlobServedOversizedIsRefusedAtItsDeclaredSize) {
    auto blobs = image_blobs(source->host() + "/team/app@" + image_digest);
    const std::string layer = blobs.back();
    const std::string flood(3 * 1024 * 1024, 'x');
    CountingProxy faulty(source->host());
    faulty.set_fault([&](const RequestLine& request) -> std::optional<std::string> {
        if (request.method != "GET" || request.path.find("/blobs/" + layer) == std::string::npos) return std::nullopt;
        return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(flood.size()) + "\r\n\r\n" + flood;
    });
    CountingProxy proxy(target->host());
    auto run = run_tool("retag", {"--source", faulty.host() + "/team/app@" + image_digest, "--to",
                                  proxy.host() + "/flooded/app:1"});
    EXPECT_EQ(run.exit_code, 1) << run.describe();
    EXPECT_NE(run.stderr_text.find("blob " + layer), std::string::npos) << run.stderr_text;
    EXPECT_NE(run.stderr_text.find("larger than"), std::string::npos) << run.stderr_text;
    EXPECT_EQ(proxy.count("PUT", "/manifests/"), 0u);
    EXPECT_FALSE(blob_exists(target->host(), "flooded/app", layer));
    expect_sessions_closed(proxy, "flooded/app", blobs);
}

}  // namespace
}  // namespace digestflow::testsupport
