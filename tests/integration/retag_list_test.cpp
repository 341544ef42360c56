// retag --from-list (many promotions, two registries, parallel workers) and rate limiting (429 with
// Retry-After and RateLimit-* headers, injected by a proxy in front of the real registry).
#include "support/body_fault_proxy.hpp"
#include "support/buildah.hpp"
#include "support/counting_proxy.hpp"
#include "support/registry_process.hpp"
#include "support/skopeo.hpp"
#include "support/temp_dir.hpp"
#include "tools.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace digestflow::testsupport {
namespace {

class RetagList : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        first = new Registry();
        second = new Registry();
        Buildah buildah;
        buildah.build_scratch_image("app");
        digest = buildah.push("app", first->host() + "/team/app:build-1", plain);
    }
    static void TearDownTestSuite() {
        delete second;
        delete first;
    }
    std::string source() const { return first->host() + "/team/app@" + digest; }

    static Registry* first;
    static Registry* second;
    static RemoteOptions plain;
    static std::string digest;
    TempDir work{"digestflow-retag-list"};
};
Registry* RetagList::first = nullptr;
Registry* RetagList::second = nullptr;
RemoteOptions RetagList::plain{false};
std::string RetagList::digest;

TEST_F(RetagList, FiftyPromotionsAcrossTwoRegistriesInOneProcess) {
    // 25 tags in the source repository, 25 copies into repositories of the other registry, and one artifact
    // item whose history must record its promotion.
    std::string artifact = work.file("image-digest.json");
    ASSERT_EQ(run_tool("capture-digest", {"--image", first->host() + "/team/app:build-1", "--resolve", "--out", artifact}).exit_code, 0);
    std::string list = "# promotions for release 7\n";
    for (int i = 0; i < 25; ++i) list += R"({"source": ")" + source() + R"(", "tags": ["list-)" + std::to_string(i) + "\"]}\n";
    for (int i = 0; i < 24; ++i)
        list += R"({"source": ")" + source() + R"(", "to": ")" + second->host() + "/mirror/app-" + std::to_string(i) + ":1.0\"}\n";
    list += R"({"artifact": ")" + artifact + R"(", "to": [")" + second->host() + R"(/mirror/from-artifact:1.0"]})" "\n";
    write_text_file(work.file("list.jsonl"), list);

    auto run = run_tool("retag", {"--from-list", work.file("list.jsonl"), "-j", "4", "--json"});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    auto out = json_output(run);
    ASSERT_EQ(out["items"].size(), 50u);
    int requests = 0, uploaded = 0, placed = 0;
    for (const auto& item : out["items"]) {
        EXPECT_EQ(item["exitCode"], 0) << item.dump();
        EXPECT_GT(item["requests"].get<int>(), 0);
        requests += item["requests"].get<int>();
        uploaded += item["blobs"]["uploaded"].get<int>();
        placed += item["blobs"]["uploaded"].get<int>() + item["blobs"]["mounted"].get<int>() +
                  item["blobs"]["present"].get<int>();
    }
    EXPECT_EQ(placed, 50) << "25 copies of 2 blobs";
    EXPECT_LE(uploaded, 8) << "once per blob and worker at most: later copies mount from a filled repository";
    EXPECT_EQ(requests, out["requests"].get<int>()) << "per-item counts add up to the process total";
    EXPECT_EQ(out["items"][0]["line"], 2) << "lines are numbered as in the file";
    for (int i : {0, 24}) EXPECT_EQ(served_digest(first->host() + "/team/app:list-" + std::to_string(i), plain), digest);
    for (int i : {0, 23})
        EXPECT_EQ(served_digest(second->host() + "/mirror/app-" + std::to_string(i) + ":1.0", plain), digest);
    auto history = nlohmann::json::parse(read_text_file(artifact))["history"];
    EXPECT_EQ(history.back()["step"], "retag");
    EXPECT_EQ(history.back()["to"][0], second->host() + "/mirror/from-artifact:1.0");
}

TEST_F(RetagList, OneFailureDoesNotStopTheOthersAndSetsTheExitCode) {
    std::string list = R"({"source": ")" + source() + R"(", "tags": ["ok-a"]})" "\n" +
                       R"({"source": ")" + first->host() + "/team/app@sha256:" + std::string(64, 'f') + R"(", "tags": ["missing"]})" "\n" +
                       R"({"source": ")" + source() + R"(", "tags": ["ok-b"]})" "\n";
    write_text_file(work.file("list.jsonl"), list);
    auto run = run_tool("retag", {"--from-list", work.file("list.jsonl"), "-j", "2"});
    EXPECT_EQ(run.exit_code, 2) << run.describe();
    EXPECT_NE(run.stdout_text.find("FAIL " + work.file("list.jsonl") + ":2"), std::string::npos) << run.stdout_text;
    EXPECT_NE(run.stdout_text.find("2 promoted, 1 failed"), std::string::npos) << run.stdout_text;
    EXPECT_EQ(served_digest(first->host() + "/team/app:ok-b", plain), digest);
}

TEST_F(RetagList, ABadLineStopsEverythingBeforeAnyWrite) {
    write_text_file(work.file("list.jsonl"), R"({"source": ")" + source() + R"(", "tags": ["never-written"]})" "\n" +
                                                 R"({"source": "example.com/app:latest", "tags": ["x"]})" "\n");
    auto run = run_tool("retag", {"--from-list", work.file("list.jsonl")});
    EXPECT_EQ(run.exit_code, 2) << run.describe();
    EXPECT_NE(run.stderr_text.find(work.file("list.jsonl") + ":2"), std::string::npos) << run.stderr_text;
    EXPECT_NE(skopeo_inspect_raw(first->host() + "/team/app:never-written", plain).exit_code, 0);
}

// Two lines for one destination tag would race under -j N (both "ok", the tag holding either digest): the
// list is refused before anything is written, naming both lines. Destinations compare normalised.
TEST_F(RetagList, ADestinationNamedOnTwoLinesIsRefusedBeforeAnyWrite) {
    Buildah buildah;
    buildah.build_scratch_image("other", ScratchImage{{{"hello.txt", "another build\n"}}});
    std::string other = buildah.push("other", first->host() + "/team/app:build-2", plain);
    std::string list = work.file("list.jsonl");
    write_text_file(list, R"({"source": ")" + source() + R"(", "tags": ["dup-free"]})" "\n" +
                              R"({"source": ")" + source() + R"(", "tags": ["dup-race"]})" "\n" +
                              "# the same tag again, spelled as a destination of another digest\n" +
                              R"({"source": ")" + first->host() + "/team/app@" + other + R"(", "to": ")" + first->host() +
                              R"(/team/app:dup-race"})" "\n");
    auto run = run_tool("retag", {"--from-list", list, "-j", "2"});
    EXPECT_EQ(run.exit_code, 2) << run.describe();
    EXPECT_NE(run.stderr_text.find(list + ":4"), std::string::npos) << run.stderr_text;
    EXPECT_NE(run.stderr_text.find(list + ":2"), std::string::npos) << run.stderr_text;
    EXPECT_NE(run.stderr_text.find(first->host() + "/team/app:dup-race"), std::string::npos) << run.stderr_text;
    for (const char* tag : {"dup-free", "dup-race"})
        EXPECT_NE(skopeo_inspect_raw(first->host() + "/team/app:" + tag, plain).exit_code, 0) << tag << " was written";
}

// A list item that fails after writing some tags still gets its history entry for those (with the moved
// tag's previous digest), and its --json item says which were written.
TEST_F(RetagList, AFailedItemStillRecordsWhatItWrote) {
    CountingProxy proxy(first->host());
    Buildah buildah;
    buildah.build_scratch_image("earlier", ScratchImage{{{"hello.txt", "an earlier release\n"}}});
    std::string earlier = buildah.push("earlier", first->host() + "/team/app:item-moved", plain);
    std::string artifact = work.file("image-digest.json");
    ASSERT_EQ(run_tool("capture-digest", {"--image", proxy.host() + "/team/app@" + digest, "--out", artifact}).exit_code, 0);
    proxy.set_fault([](const RequestLine& request) -> std::optional<std::string> {
        if (request.method != "PUT" || request.path != "/v2/team/app/manifests/item-fails") return std::nullopt;
        return std::string("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
    });
    write_text_file(work.file("list.jsonl"), R"({"artifact": ")" + artifact +
                                                 R"(", "tags": ["item-moved", "item-fails"], "allowMove": true})" "\n");
    auto run = run_tool("retag", {"--from-list", work.file("list.jsonl"), "--json"});
    EXPECT_EQ(run.exit_code, 4) << run.describe();
    auto item = json_output(run)["items"][0];
    EXPECT_EQ(item["exitCode"], 4) << item.dump();
    EXPECT_EQ(item["destinations"][0]["previous"], earlier) << item.dump();
    EXPECT_EQ(item["destinations"][0]["written"], true) << item.dump();
    EXPECT_EQ(item["destinations"][1]["failed"], true) << item.dump();
    auto last = nlohmann::json::parse(read_text_file(artifact))["history"].back();
    EXPECT_EQ(last["step"], "retag");
    EXPECT_EQ(last["to"], nlohmann::json::array({proxy.host() + "/team/app:item-moved"}));
    EXPECT_EQ(last["previous"][proxy.host() + "/team/app:item-moved"], earlier);
    EXPECT_EQ(last["notWritten"], nlohmann::json::array({proxy.host() + "/team/app:item-fails"}));
}

TEST_F(RetagList, TooManyRequestsIsWaitedOutAndReported) {
    CountingProxy proxy(first->host());
    std::atomic<int> refused{0};
    proxy.set_fault([&](const RequestLine& request) -> std::optional<std::string> {
        if (request.method != "GET" || request.path.find("/manifests/") == std::string::npos || refused++ > 0)
            return std::nullopt;
        const std::string body = R"({"errors":[{"code":"TOOMANYREQUESTS","message":"slow down please"}]})";
        return "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nRateLimit-Limit: 100\r\n"
               "RateLimit-Remaining: 0\r\nContent-Type: application/json\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body;
    });
    auto started = std::chrono::steady_clock::now();
    auto run = run_tool("retag", {"--source", proxy.host() + "/team/app@" + digest, "--tag", "after-429", "--json"});
    auto waited = std::chrono::steady_clock::now() - started;
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    auto out = json_output(run);
    EXPECT_EQ(out["rateLimit"]["throttled"], 1);
    EXPECT_EQ(out["rateLimit"]["headers"]["ratelimit-remaining"], "0");
    EXPECT_GE(waited, std::chrono::seconds(1)) << "Retry-After: 1 was honoured";
    std::string seen;
    for (const auto& r : proxy.requests()) seen += r.method + " " + r.path + (r.faulted ? " (429)" : "") + "\n";
    EXPECT_EQ(proxy.count("GET", "/manifests/"), 2u) << seen;
    EXPECT_EQ(served_digest(first->host() + "/team/app:after-429", plain), digest);
}

// A body that breaks off before its Content-Length is a network failure (retried), not corrupt content.
TEST_F(RetagList, TruncatedBodyIsRetriedNotReportedAsCorruption) {
    CountingProxy proxy(first->host());
    std::string artifact = work.file("image-digest.json");
    ASSERT_EQ(run_tool("capture-digest", {"--image", proxy.host() + "/team/app@" + digest, "--out", artifact}).exit_code, 0);
    std::atomic<int> cut{0};
    proxy.set_fault([&](const RequestLine& request) -> std::optional<std::string> {
        if (request.method != "GET" || request.path.find("/blobs/") == std::string::npos || cut++ > 0) return std::nullopt;
        return std::string("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\nonly a few bytes");
    });
    auto run = run_tool("verify-digest", {"--artifact", artifact, "--content", "--json"});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_EQ(json_output(run)["checks"][0]["result"], "match");
    EXPECT_EQ(cut.load(), 3) << "the cut blob was fetched again, then the other blob once";
}

// Whatever URL a registry hands out, clear text goes only to loopback or named hosts: an upload location on
// plain HTTP elsewhere is refused before any connection is made.
TEST_F(RetagList, PlainHttpUploadLocationElsewhereIsRefused) {
    CountingProxy proxy(second->host());
    proxy.set_fault([&](const RequestLine& request) -> std::optional<std::string> {
        if (request.method != "POST") return std::nullopt;
        return std::string("HTTP/1.1 202 Accepted\r\nLocation: http://uploads.example.invalid/v2/x/blobs/uploads/1\r\n"
                           "Content-Length: 0\r\n\r\n");
    });
    auto run = run_tool("retag", {"--source", source(), "--to", proxy.host() + "/elsewhere/app:1"});
    EXPECT_EQ(run.exit_code, 3) << run.describe();
    EXPECT_NE(run.stderr_text.find("refusing plain HTTP to uploads.example.invalid"), std::string::npos) << run.stderr_text;
}

TEST_F(RetagList, ProgressIsShownWhenAsked) {
    auto run = run_tool("retag", {"--source", source(), "--to", second->host() + "/progress/app:1", "--progress"});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_NE(run.stderr_text.find("MiB"), std::string::npos) << run.stderr_text;
    auto quiet = run_tool("retag", {"--source", source(), "--to", second->host() + "/progress/app2:1"});
    EXPECT_EQ(quiet.stderr_text, "") << "silent when stderr is not a terminal";
}

// The run-wide manifest cache shares a fetch, not its failure: one tampered answer fails the item whose fetch
// got it, and the items that were waiting for that fetch ask again themselves (as they would without the
// cache) and succeed. The tampered GET is held back a moment so the other workers are waiting on it.
TEST_F(RetagList, AFailedSharedManifestFetchFailsOnlyTheItemThatMadeIt) {
    std::atomic<int> manifest_gets{0};  // before the proxy: its threads use it until the proxy is gone
    BodyFaultProxy proxy(first->host());
    proxy.set_fault([&](const std::string& method, const std::string& path) {
        if (method != "GET" || path.find("/manifests/" + digest) == std::string::npos) return BodyFault::None;
        if (manifest_gets++ > 0) return BodyFault::None;
        std::this_thread::sleep_for(std::chrono::milliseconds(700));
        return BodyFault::FlipByte;
    });
    std::string list;
    for (int i = 0; i < 4; ++i)
        list += R"({"source": ")" + proxy.host() + "/team/app@" + digest + R"(", "tags": ["shared-fetch-)" +
                std::to_string(i) + "\"]}\n";
    write_text_file(work.file("list.jsonl"), list);
    auto run = run_tool("retag", {"--from-list", work.file("list.jsonl"), "-j", "4", "--json"});
    EXPECT_EQ(run.exit_code, 1) << run.describe();
    auto out = json_output(run);
    ASSERT_EQ(out["items"].size(), 4u) << out.dump();
    int failed = 0;
    for (const auto& item : out["items"]) failed += item["exitCode"] != 0;
    EXPECT_EQ(failed, 1) << out.dump();
    EXPECT_EQ(proxy.faulted(), 1);
    EXPECT_EQ(manifest_gets.load(), 2) << "the waiters' own fetch is shared among them again";
}

}  // namespace
}  // namespace digestflow::testsupport
