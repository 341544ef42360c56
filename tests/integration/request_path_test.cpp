// The request path under a hostile or flaky registry: real docker-registry instances on loopback behind a
// CountingProxy (faults on chosen requests) or replaced by a RawServer (bytes no proxy sends). Each test is a
// defect the old request path had: credentials sent to a redirect target's realm, cut-off chunked bodies
// taken for whole ones, signed URLs in messages, unretried upload POSTs and token requests, a lying
// Docker-Content-Digest, one page of referrers, per-socket-operation timeouts, a 413 reported as a network
// failure.
#include "support/buildah.hpp"
#include "support/counting_proxy.hpp"
#include "support/proxied_token_registry.hpp"
#include "support/raw_server.hpp"
#include "support/registry_api.hpp"
#include "support/registry_process.hpp"
#include "support/skopeo.hpp"
#include "support/temp_dir.hpp"
#include "support/tls_material.hpp"
#include "support/token_server.hpp"
#include "tools.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <random>
#include <sstream>
#include <thread>

namespace digestflow::testsupport {
namespace {

const std::string user = "release-bot";
const std::string password = "Pw-that-must-stay-home-42";

std::string contains_none_of(const RunResult& run, const std::vector<std::string>& secrets) {
    for (const auto& secret : secrets)
        if (run.stdout_text.find(secret) != std::string::npos || run.stderr_text.find(secret) != std::string::npos)
            return "printed " + secret;
    return "";
}

bool is_path(const RequestLine& request, const std::string& method, const std::string& part) {
    return request.method == method && request.path.find(part) != std::string::npos;
}

std::string hex(std::size_t n) {
    std::ostringstream out;
    out << std::hex << n;
    return out.str();
}

class RequestPath : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        open = new Registry();
        mirror = new Registry();
        guarded = new Registry(RegistryOptions().with_user(user, password));
        buildah = new Buildah();
        buildah->build_scratch_image("app");
        digest = buildah->push("app", open->host() + "/team/app:1.0", plain);
        guarded_digest =
            buildah->push("app", guarded->host() + "/team/app:1.0", RemoteOptions{false}.with_creds(user, password));
        manifest = raw_manifest(open->host() + "/team/app@" + digest, plain);
        media_type = nlohmann::json::parse(manifest)["mediaType"];
    }
    static void TearDownTestSuite() {
        delete buildah;
        delete guarded;
        delete mirror;
        delete open;
    }

    // An OCI image in open's `repo`:1.0 with one incompressible layer of `size` bytes, pushed through the API.
    static std::string push_random_image(const std::string& repo, std::size_t size, unsigned seed) {
        std::string layer(size, '\0');
        std::mt19937 random(seed);
        for (auto& c : layer) c = static_cast<char>(random());
        return push_oci_image(open->host(), repo, "1.0", {layer});
    }

    // team/big with a 16 MiB layer, pushed once for the suite.
    static std::string big_image() {
        static std::string pushed = push_random_image("team/big", 16 << 20, 42);
        return pushed;
    }

    // An artifact for host/team/app@digest, written without asking any registry.
    std::string artifact_for(const std::string& host, const std::string& for_digest) {
        std::string path = work.file("image-digest-" + std::to_string(++artifacts) + ".json");
        auto run = run_tool("capture-digest",
                            {"--image", host + "/team/app@" + for_digest, "--offline", "--out", path});
        EXPECT_EQ(run.exit_code, 0) << run.describe();
        return path;
    }

    std::string docker_config_for(const std::string& host) {
        std::string dir = work.file("docker-config");
        std::filesystem::create_directories(dir);
        write_text_file(dir + "/config.json",
                        R"({"auths": {")" + host + R"(": {"auth": ")" + base64_text(user + ":" + password) + R"("}}})");
        return dir;
    }

    static Registry* open;
    static Registry* mirror;
    static Registry* guarded;
    static Buildah* buildah;
    static RemoteOptions plain;
    static std::string digest, guarded_digest, manifest, media_type;
    TempDir work{"digestflow-request-path"};
    int artifacts = 0;
};

Registry* RequestPath::open = nullptr;
Registry* RequestPath::mirror = nullptr;
Registry* RequestPath::guarded = nullptr;
Buildah* RequestPath::buildah = nullptr;
RemoteOptions RequestPath::plain{false};
std::string RequestPath::digest, RequestPath::guarded_digest, RequestPath::manifest, RequestPath::media_type;

// Defect 1: a blob GET redirected to a host that answers 401 with its own Bearer realm. The old client took
// that challenge for the registry's and sent the registry's Basic credentials to the stranger's realm.
TEST_F(RequestPath, ARedirectTargetAskingForCredentialsGetsNone) {
    std::string evil_host;
    RawServer evil([&](const RawRequest& request, RawConnection& connection) {
        connection.drain_body(request);
        if (request.target.rfind("/token", 0) == 0) {
            connection.send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 17\r\n\r\n"
                            "{\"token\":\"loot\"}\n");
            return true;
        }
        connection.send("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"http://" + evil_host +
                        "/token\",service=\"evil\"\r\nContent-Length: 0\r\n\r\n");
        return true;
    });
    evil_host = evil.host();
    CountingProxy proxy(guarded->host());
    proxy.set_fault([&](const RequestLine& request) -> std::optional<std::string> {
        if (!is_path(request, "GET", "/blobs/")) return std::nullopt;
        return "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://" + evil_host +
               "/blob?X-Amz-Signature=SIGNATURE-SECRET\r\nContent-Length: 0\r\n\r\n";
    });

    auto run = run_tool("verify-digest", {"--artifact", artifact_for(proxy.host(), guarded_digest), "--content"},
                        {{"DOCKER_CONFIG", docker_config_for(proxy.host())}});
    EXPECT_EQ(run.exit_code, 4) << run.describe();
    EXPECT_NE(run.stderr_text.find(evil_host), std::string::npos) << "the message names the host that asked";
    ASSERT_FALSE(evil.requests().empty()) << "the redirect was followed";
    for (const auto& request : evil.requests()) {
        EXPECT_FALSE(request.header("Authorization")) << request.method << " " << request.target << " carried credentials";
        EXPECT_NE(request.target.rfind("/token", 0), 0u) << "the stranger's token realm was asked";
    }
    EXPECT_EQ(contains_none_of(run, {password, base64_text(user + ":" + password), "SIGNATURE-SECRET"}), "");
}

// Defect 5: a chunked body cut off mid-chunk (or at a chunk boundary) passed for a complete one; the manifest
// then "did not hash" (exit 1, tampering) and was never retried.
TEST_F(RequestPath, CutChunkedBodiesAreRetriedNotTakenForTampering) {
    CountingProxy proxy(open->host());
    std::atomic<int> manifest_cuts{0}, blob_cuts{0};
    const std::string chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\nContent-Type: ";
    proxy.set_fault([&](const RequestLine& request) -> std::optional<std::string> {
        if (is_path(request, "GET", "/manifests/sha256:") && manifest_cuts++ == 0)  // inside a chunk
            return chunked + media_type + "\r\n\r\n" + hex(manifest.size()) + "\r\n" + manifest.substr(0, manifest.size() / 2);
        if (is_path(request, "GET", "/blobs/") && blob_cuts++ == 0)  // at a chunk boundary
            return chunked + "application/octet-stream\r\n\r\n4\r\nabcd\r\n";
        return std::nullopt;
    });
    auto run = run_tool("verify-digest", {"--artifact", artifact_for(proxy.host(), digest), "--content", "--json"});
    EXPECT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_EQ(manifest_cuts.load(), 2) << "the cut manifest was fetched again";
    EXPECT_GE(blob_cuts.load(), 2) << "the cut blob was fetched again";
}

// Defect 6: signed URLs (credentials in the query) from a redirect appeared in error messages and --json.
TEST_F(RequestPath, SignedUrlsAreRedactedFromMessages) {
    CountingProxy proxy(open->host());
    std::string proxy_host = proxy.host();
    proxy.set_fault([&](const RequestLine& request) -> std::optional<std::string> {
        if (is_path(request, "GET", "/cdn/"))  // the signed URL's answer breaks off
            return std::string("HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\nshort");
        if (is_path(request, "GET", "/blobs/"))
            return "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://" + proxy_host +
                   "/cdn/blob?X-Amz-Credential=AKIA-CREDENTIAL-SECRET&X-Amz-Signature=SIGNATURE-SECRET\r\n"
                   "Content-Length: 0\r\n\r\n";
        return std::nullopt;
    });
    auto run = run_tool("verify-digest", {"--artifact", artifact_for(proxy.host(), digest), "--content", "--json"});
    EXPECT_EQ(run.exit_code, 3) << run.describe();
    EXPECT_NE(run.stderr_text.find("/cdn/blob?..."), std::string::npos) << run.describe();
    EXPECT_EQ(contains_none_of(run, {"AKIA-CREDENTIAL-SECRET", "SIGNATURE-SECRET"}), "");
}

// Defect 7: 429 and 5xx answers to upload POSTs (a mount, an upload start) were final. Neither opened a
// session, so they are repeated like any idempotent request.
TEST_F(RequestPath, ErrorAnswersToUploadPostsAreRetried) {
    CountingProxy source(open->host());
    CountingProxy destination(mirror->host());
    std::atomic<int> mounts{0}, starts{0};
    source.set_fault([&](const RequestLine& request) -> std::optional<std::string> {
        if (is_path(request, "POST", "/blobs/uploads/?mount=") && mounts++ == 0)
            return std::string("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
        return std::nullopt;
    });
    destination.set_fault([&](const RequestLine& request) -> std::optional<std::string> {
        if (is_path(request, "POST", "/blobs/uploads/") && starts++ == 0)
            return std::string("HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n");
        return std::nullopt;
    });
    const std::string from = source.host() + "/team/app@" + digest;
    auto mounted = run_tool("retag", {"--source", from, "--to", source.host() + "/team/mounted:1"});
    EXPECT_EQ(mounted.exit_code, 0) << mounted.describe();
    EXPECT_EQ(served_digest(open->host() + "/team/mounted:1", plain), digest);
    EXPECT_GE(mounts.load(), 2);

    auto copied = run_tool("retag", {"--source", from, "--to", destination.host() + "/team/copied:1"});
    EXPECT_EQ(copied.exit_code, 0) << copied.describe();
    EXPECT_EQ(served_digest(mirror->host() + "/team/copied:1", plain), digest);
    EXPECT_GE(starts.load(), 2);
}

// Defect 7, token side: a token server answering 503 once made the whole run fail.
TEST(RequestPathTokens, TokenRequestsAreRetried) {
    TokenServerOptions options;
    options.with_user(user, password);
    options.anonymous_pull_repos = {"*"};
    ProxiedTokenRegistry fixture(options);
    auto& [tls, tokens, token_proxy, registry] = fixture;
    Buildah buildah;
    buildah.build_scratch_image("app");
    std::string pushed = buildah.push("app", registry.host() + "/team/app:1.0", RemoteOptions{false}.with_creds(user, password));

    std::atomic<int> token_requests{0};
    token_proxy.set_fault([&](const RequestLine& request) -> std::optional<std::string> {
        if (is_path(request, "GET", "/token") && token_requests++ == 0)
            return std::string("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
        return std::nullopt;
    });
    TempDir work("digestflow-token-retry");
    std::string artifact = work.file("image-digest.json");
    auto capture = run_tool("capture-digest", {"--image", registry.host() + "/team/app:1.0", "--resolve", "--out", artifact});
    EXPECT_EQ(capture.exit_code, 0) << capture.describe();
    EXPECT_GE(token_requests.load(), 2) << "the token request was repeated";
    EXPECT_NE(read_text_file(artifact).find(pushed), std::string::npos);
}

// Found attacking the merged fixes: a token server failing every time was asked 16 times for one registry
// request (the token request's own 4 attempts, run again by each of the registry request's 4), each waiting
// out its Retry-After. One set of retry bounds now.
TEST(RequestPathTokens, AFailingTokenServerIsAskedWithinOneSetOfRetries) {
    TokenServerOptions options;
    options.anonymous_pull_repos = {"*"};
    ProxiedTokenRegistry fixture(options);
    auto& [tls, tokens, token_proxy, registry] = fixture;
    std::atomic<int> token_requests{0};
    token_proxy.set_fault([&](const RequestLine& request) -> std::optional<std::string> {
        if (!is_path(request, "GET", "/token")) return std::nullopt;
        ++token_requests;
        return std::string("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
    });
    TempDir work("digestflow-token-bounds");
    std::string artifact = work.file("image-digest.json");
    auto capture = run_tool("capture-digest", {"--image", registry.host() + "/team/app@sha256:" + std::string(64, 'a'),
                                               "--offline", "--out", artifact});
    ASSERT_EQ(capture.exit_code, 0) << capture.describe();
    auto run = run_tool("verify-digest", {"--artifact", artifact, "--ref", registry.host() + "/team/app:1.0", "--no-record"});
    EXPECT_EQ(run.exit_code, 3) << run.describe();
    EXPECT_NE(run.stderr_text.find("503"), std::string::npos) << run.describe();
    EXPECT_EQ(token_requests.load(), 4) << run.describe();
}

// Defect 21: a by-digest GET whose Docker-Content-Digest names other content was accepted (the bytes hash
// right, but a registry that lies in a header is not trusted with a promotion).
TEST_F(RequestPath, AContradictingDockerContentDigestIsRefused) {
    CountingProxy proxy(open->host());
    const std::string other = "sha256:" + std::string(64, 'e');
    proxy.set_fault([&](const RequestLine& request) -> std::optional<std::string> {
        if (!is_path(request, "GET", "/manifests/" + digest)) return std::nullopt;
        return "HTTP/1.1 200 OK\r\nContent-Type: " + media_type + "\r\nDocker-Content-Digest: " + other +
               "\r\nContent-Length: " + std::to_string(manifest.size()) + "\r\n\r\n" + manifest;
    });
    auto run = run_tool("verify-digest", {"--artifact", artifact_for(proxy.host(), digest), "--content", "--json"});
    EXPECT_EQ(run.exit_code, 1) << run.describe();
    auto checks = json_output(run)["checks"];
    ASSERT_EQ(checks.size(), 1u) << run.describe();
    EXPECT_EQ(checks[0]["result"], "mismatch");
    EXPECT_NE(checks[0]["detail"].get<std::string>().find("Docker-Content-Digest"), std::string::npos) << run.describe();
}

// Defect 13: only the first page of the referrers API was read, a listed manifest's own subject was never
// checked, and a registry answering 405 there (no referrers API) failed the run instead of falling back to
// the sha256-<hex> tag.
TEST_F(RequestPath, ReferrersComeFromEveryPageOrFromTheFallbackTag) {
    const std::string repo = "team/signed";
    std::string subject = buildah->push("app", open->host() + "/" + repo + ":1.0", plain);
    std::string subject_size = std::to_string(raw_manifest(open->host() + "/" + repo + "@" + subject, plain).size());
    std::string empty = push_blob(open->host(), repo, "{}");
    auto signature = [&](const std::string& text) {
        std::string payload = push_blob(open->host(), repo, text);
        std::string bytes =
            R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
            R"("artifactType":"application/vnd.example.signature.v1",)"
            R"("config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":")" + empty + R"(","size":2},)"
            R"("layers":[{"mediaType":"application/vnd.example.signature.v1","digest":")" + payload + R"(","size":)" +
            std::to_string(text.size()) + R"(}],"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
            subject + R"(","size":)" + subject_size + "}}";
        push_manifest(open->host(), repo, digest_of_raw(bytes), bytes, "application/vnd.oci.image.manifest.v1+json");
        return std::make_pair(digest_of_raw(bytes), bytes);
    };
    auto first = signature("first signature");
    auto second = signature("second signature");
    // Listed as a referrer, but its own subject is another image: it must not travel as this one's.
    std::string other = buildah->push("app", open->host() + "/" + repo + ":other", plain, ImageFormat::Docker);
    std::string real_subject = subject;
    subject = other;
    auto stranger = signature("a signature of another image");
    subject = real_subject;
    auto index_of = [](const std::vector<std::pair<std::string, std::string>>& referrers) {
        std::string list;
        for (const auto& referrer : referrers)
            list += (list.empty() ? "" : ",") + std::string(R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")") +
                    referrer.first + R"(","size":)" + std::to_string(referrer.second.size()) +
                    R"(,"artifactType":"application/vnd.example.signature.v1"})";
        return R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)" + list + "]}";
    };
    push_manifest(open->host(), repo, "sha256-" + subject.substr(7), index_of({first}),
                  "application/vnd.oci.image.index.v1+json");

    CountingProxy proxy(open->host());
    std::atomic<bool> paged{true};
    const std::string api = "/v2/" + repo + "/referrers/" + subject;
    proxy.set_fault([&](const RequestLine& request) -> std::optional<std::string> {
        if (!is_path(request, "GET", api)) return std::nullopt;
        if (!paged) return std::string("HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n");
        bool second_page = request.path.find("?page=2") != std::string::npos;
        std::string body = second_page ? index_of({second, stranger}) : index_of({first});
        return "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.index.v1+json\r\n" +
               (second_page ? std::string() : "Link: <" + api + "?page=2>; rel=\"next\"\r\n") +
               "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    });
    auto both = run_tool("retag", {"--source", proxy.host() + "/" + repo + "@" + subject, "--to",
                                   mirror->host() + "/paged/signed:1.0", "--referrers", "--json"});
    ASSERT_EQ(both.exit_code, 0) << both.describe();
    EXPECT_EQ(json_output(both)["referrers"], 2);
    EXPECT_EQ(json_output(both)["referrersSkipped"], 1);
    EXPECT_EQ(raw_manifest(mirror->host() + "/paged/signed@" + first.first, plain), first.second);
    EXPECT_EQ(raw_manifest(mirror->host() + "/paged/signed@" + second.first, plain), second.second);
    EXPECT_NE(skopeo_inspect_raw(mirror->host() + "/paged/signed@" + stranger.first, plain).exit_code, 0)
        << "a manifest whose subject is another digest was copied as a referrer";
    EXPECT_EQ(raw_manifest(mirror->host() + "/paged/signed:sha256-" + subject.substr(7), plain).find(stranger.first),
              std::string::npos)
        << "the stranger is not in the destination's fallback index";

    paged = false;
    auto fallback = run_tool("retag", {"--source", proxy.host() + "/" + repo + "@" + subject, "--to",
                                       mirror->host() + "/fallback/signed:1.0", "--referrers", "--json"});
    ASSERT_EQ(fallback.exit_code, 0) << fallback.describe();
    EXPECT_EQ(json_output(fallback)["referrers"], 1);
    EXPECT_EQ(raw_manifest(mirror->host() + "/fallback/signed@" + first.first, plain), first.second);
}

// Found attacking the merged fixes: a registry sending full referrers pages, each with a "next" link, was
// read for 100 pages and all of them merged in memory (over a gigabyte) before the page limit ended it. All
// pages together are bounded like one manifest now.
TEST_F(RequestPath, EndlessReferrersPagesAreBoundedInTotal) {
    CountingProxy proxy(open->host());
    std::atomic<int> pages{0};
    const std::string api = "/v2/team/app/referrers/" + digest;
    std::string page = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)";
    for (int i = 0; i < 7000; ++i)
        page += std::string(i ? "," : "") + R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:)" +
                std::string(64, "0123456789abcdef"[i % 16]) + R"(","size":1,"artifactType":"application/vnd.example"})";
    page += "]}";
    proxy.set_fault([&](const RequestLine& request) -> std::optional<std::string> {
        if (!is_path(request, "GET", api)) return std::nullopt;
        int number = ++pages;
        return "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.index.v1+json\r\nLink: <" + api + "?page=" +
               std::to_string(number + 1) + ">; rel=\"next\"\r\nContent-Length: " + std::to_string(page.size()) +
               "\r\n\r\n" + page;
    });
    auto run = run_tool("retag", {"--source", proxy.host() + "/team/app@" + digest, "--to",
                                  mirror->host() + "/bounded/app:1.0", "--referrers"});
    EXPECT_EQ(run.exit_code, 3) << run.describe();
    EXPECT_NE(run.stderr_text.find("add up to more than"), std::string::npos) << run.describe();
    EXPECT_LE(pages.load(), 5) << "pages of about 1 MiB are refused once they pass 4 MiB together";
}

// Defect 14: --timeout bounded each socket operation, so an answer dripping one byte at a time never timed
// out. It bounds the whole request now. The registry's own answer is dripped, a byte every 50 ms.
TEST_F(RequestPath, TheTimeoutBoundsTheWholeRequest) {
    RawServer slow([&](const RawRequest& request, RawConnection& connection) {
        for (char c : connection.fetch_upstream(request, open->host())) {
            if (slow.stopping()) break;
            connection.send(std::string(1, c));
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return false;
    });
    auto run = run_tool("verify-digest", {"--artifact", artifact_for(slow.host(), digest), "--ref",
                                          slow.host() + "/team/app:1.0", "--timeout", "2", "--no-record"});
    EXPECT_EQ(run.exit_code, 3) << run.describe();
    EXPECT_NE(run.stderr_text.find("within 2 s"), std::string::npos) << run.describe();
}

// Defect 14: a registry refusing a streamed upload part-way (413) was reported as "cannot reach".
TEST_F(RequestPath, AnUploadRefusedPartWayReportsTheRegistrysAnswer) {
    const std::string repo = "team/big";
    const std::string big_digest = big_image();

    // The real mirror registry, except that an upload over 1 MiB is refused at once: answered before its
    // body is read, the rest left unread, and the connection hung up a little later.
    RawServer refusing([&](const RawRequest& request, RawConnection& connection) {
        if (request.method != "PUT" || std::stoull(request.header("Content-Length").value_or("0")) <= (1 << 20)) {
            connection.send(connection.fetch_upstream(request, mirror->host()));
            return false;
        }
        const std::string body = R"({"errors":[{"code":"SIZE_INVALID","message":"blob too large"}]})";
        connection.send("HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\nContent-Type: application/json\r\n"
                        "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
        for (int i = 0; i < 30 && !refusing.stopping(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        return false;
    });
    auto run = run_tool("retag", {"--source", open->host() + "/" + repo + "@" + big_digest, "--to",
                                  refusing.host() + "/" + repo + ":1.0"});
    EXPECT_EQ(run.exit_code, 3) << run.describe();
    EXPECT_NE(run.stderr_text.find("413"), std::string::npos) << run.describe();
    EXPECT_NE(run.stderr_text.find("blob too large"), std::string::npos) << run.describe();
    EXPECT_EQ(run.stderr_text.find("cannot reach"), std::string::npos) << run.describe();
}

// Found attacking the merged fixes: a server sending an unasked "100 Continue" while a blob upload was going
// out (HTTP lets a server send 1xx answers a client must parse) was taken for an early refusal: the upload
// stopped, waited for a final answer the server was never going to give, and failed as "no answer" (exit 3).
TEST_F(RequestPath, AnUnaskedContinueDuringAnUploadIsNoRefusal) {
    const std::string repo = "team/continued";
    // Over 1 MiB: a streamed upload (smaller blobs go in one PUT from memory).
    const std::string image_digest = push_random_image(repo, 2 << 20, 7);

    std::atomic<int> continues{0};
    RawServer continuing([&](const RawRequest& request, RawConnection& connection) {
        if (request.method == "PUT" && std::stoull(request.header("Content-Length").value_or("0")) > (1 << 19)) {
            connection.send("HTTP/1.1 100 Continue\r\n\r\n");
            ++continues;
        }
        connection.send(connection.fetch_upstream(request, mirror->host()));
        return false;
    });
    auto run = run_tool("retag", {"--source", open->host() + "/" + repo + "@" + image_digest, "--to",
                                  continuing.host() + "/" + repo + ":1.0", "--timeout", "10"});
    EXPECT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_EQ(continues.load(), 1);
    EXPECT_EQ(served_digest(mirror->host() + "/" + repo + ":1.0", plain), image_digest);
}

// Found attacking the merged fixes: a registry (or a balancer in front of it) that closes each connection
// right after its answer, without saying "Connection: close", failed every cross-registry blob copy at once:
// the streamed PUT went out on the closed pooled connection and cannot be sent twice (exit 3).
TEST_F(RequestPath, AStreamedUploadIsNotSentOnAConnectionTheServerClosed) {
    RawServer closing([&](const RawRequest& request, RawConnection& connection) {
        std::string answer = connection.fetch_upstream(request, mirror->host());
        for (const std::string header : {"Connection: close\r\n", "connection: close\r\n"})
            if (auto at = answer.find(header); at != std::string::npos) answer.erase(at, header.size());
        connection.send(answer);
        return false;  // and close, unannounced
    });
    auto run = run_tool("retag", {"--source", open->host() + "/team/app@" + digest, "--to",
                                  closing.host() + "/closing/app:1.0", "--json"});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_EQ(raw_manifest(mirror->host() + "/closing/app:1.0", plain), manifest);
}

// Defect 20's other side: a destination that resets the streamed PUT part-way once. The client cannot
// replay a streamed body, so the copy itself starts again in a new upload session.
TEST_F(RequestPath, AResetUploadIsCopiedAgainInANewSession) {
    const std::string big_digest = big_image();
    std::atomic<int> resets{0};
    RawServer flaky([&](const RawRequest& request, RawConnection& connection) {
        bool large = std::stoull(request.header("Content-Length").value_or("0")) > (1 << 20);
        if (request.method == "PUT" && large && resets++ == 0) {
            connection.drain_body(request, 256 * 1024);  // part of the body, then the connection is dropped
            return false;
        }
        connection.send(connection.fetch_upstream(request, mirror->host()));
        return false;
    });
    auto run = run_tool("retag", {"--source", open->host() + "/team/big@" + big_digest, "--to",
                                  flaky.host() + "/reset/big:1.0", "--json"});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_EQ(resets.load(), 2) << "the layer's upload was started again";
    EXPECT_EQ(served_digest(mirror->host() + "/reset/big:1.0", plain), big_digest);
    std::size_t deletes = 0;
    for (const auto& request : flaky.requests()) deletes += request.method == "DELETE";
    EXPECT_EQ(deletes, 1u) << "the broken upload session was cancelled";
}

}  // namespace
}  // namespace digestflow::testsupport
