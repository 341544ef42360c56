// How the tools use their connections, seen through a CountingProxy in front of a real docker-registry:
// every request of a run on one kept-alive connection, nothing fetched twice, and a 5xx retried.
#include "support/buildah.hpp"
#include "support/counting_proxy.hpp"
#include "support/registry_process.hpp"
#include "support/skopeo.hpp"
#include "support/temp_dir.hpp"
#include "tools.hpp"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/URI.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <istream>
#include <iterator>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

namespace digestflow::testsupport {
namespace {

using MethodAndPath = std::pair<std::string, std::string>;

std::vector<MethodAndPath> methods_and_paths(const std::vector<RequestLine>& requests) {
    std::vector<MethodAndPath> out;
    for (const auto& r : requests) {
        out.emplace_back(r.method, r.path);
    }
    return out;
}

// One line per request, for failure messages.
std::string describe(const std::vector<RequestLine>& requests) {
    std::ostringstream out;
    for (const auto& r : requests) {
        out << "\n  #" << r.connection << " " << r.method << " " << r.path << (r.faulted ? " (faulted)" : "");
    }
    return out.str();
}

class ConnectionReuse : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        registry = new Registry();
        buildah = new Buildah();
        RemoteOptions plain{false};
        buildah->build_scratch_image("app");
        pushed = buildah->push("app", registry->host() + "/team/app:1.0", plain);
        auto manifest = nlohmann::json::parse(raw_manifest(registry->host() + "/team/app@" + pushed, plain));
        config_digest = manifest["config"]["digest"];
        ASSERT_EQ(manifest["layers"].size(), 1u) << manifest.dump();
        layer_digest = manifest["layers"][0]["digest"];
    }
    static void TearDownTestSuite() {
        delete buildah;
        delete registry;
    }

    std::string artifact() const { return work.file("image-digest.json"); }
    std::string reference() const { return proxy.host() + "/team/app:1.0"; }

    // An artifact whose repository is the proxy's, so verify --content goes through it too. The capture's
    // own traffic is forgotten.
    void capture_through_proxy() {
        auto run =
            run_tool("capture-digest", {"--image", reference(), "--digest", pushed, "--out", artifact()});
        ASSERT_EQ(run.exit_code, 0) << run.describe();
        EXPECT_EQ(proxy.http_connection_count(), 1u) << describe(proxy.requests());
        proxy.reset();
    }

    static Registry* registry;
    static Buildah* buildah;
    static std::string pushed, config_digest, layer_digest;
    CountingProxy proxy{registry->host()};
    TempDir work{"digestflow-connections"};
};
Registry* ConnectionReuse::registry = nullptr;
Buildah* ConnectionReuse::buildah = nullptr;
std::string ConnectionReuse::pushed, ConnectionReuse::config_digest, ConnectionReuse::layer_digest;

TEST_F(ConnectionReuse, VerifyRunSendsEveryRequestOverOneConnection) {
    ASSERT_NO_FATAL_FAILURE(capture_through_proxy());
    auto run =
        run_tool("verify-digest", {"--artifact", artifact(), "--content", "--ref", reference(), "--json"});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    auto out = json_output(run);
    EXPECT_EQ(out["requests"], 4) << "the tool's own count agrees with the proxy's";

    auto requests = proxy.requests();
    std::vector<MethodAndPath> expected{
        {"HEAD", "/v2/team/app/manifests/1.0"},         // --ref
        {"GET", "/v2/team/app/manifests/" + pushed},    // --content: the manifest by digest,
        {"GET", "/v2/team/app/blobs/" + config_digest}, // then the config
        {"GET", "/v2/team/app/blobs/" + layer_digest}}; // and the layer
    EXPECT_EQ(methods_and_paths(requests), expected) << describe(requests);
    EXPECT_EQ(proxy.http_connection_count(), 1u)
        << "keep-alive: one connection for the whole run" << describe(requests);

    std::set<std::string> paths;
    for (const auto& r : requests) {
        EXPECT_TRUE(paths.insert(r.path).second) << r.path << " requested twice" << describe(requests);
    }
    // The registry is on loopback without TLS: it is asked in plain HTTP first, so no TLS attempt is made.
    EXPECT_EQ(proxy.non_http_connection_count(), 0u) << "no TLS ClientHello to a plain-HTTP loopback port";
    EXPECT_EQ(proxy.connection_count(), 1u);
}

TEST_F(ConnectionReuse, ServerErrorIsRetriedAndTheRunSucceeds) {
    ASSERT_NO_FATAL_FAILURE(capture_through_proxy());
    const std::string manifest_path = "/v2/team/app/manifests/" + pushed;
    auto faults = std::make_shared<std::atomic<int>>(0);
    proxy.set_fault([=](const RequestLine& request) -> std::optional<std::string> {
        if (request.method == "GET" && request.path == manifest_path && faults->fetch_add(1) == 0) {
            return "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n";
        }
        return std::nullopt;
    });
    auto started = std::chrono::steady_clock::now();
    auto run = run_tool("verify-digest", {"--artifact", artifact(), "--content"});
    auto took = std::chrono::steady_clock::now() - started;
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_NE(run.stdout_text.find("2 blob(s) fetched and hashed"), std::string::npos) << run.stdout_text;

    auto requests = proxy.requests();
    EXPECT_EQ(proxy.count("GET", manifest_path), 2u) << describe(requests);
    ASSERT_GE(requests.size(), 2u) << describe(requests);
    EXPECT_TRUE(requests[0].faulted);
    EXPECT_FALSE(requests[1].faulted);
    EXPECT_EQ(requests[1].path, manifest_path);
    EXPECT_EQ(proxy.http_connection_count(), 1u)
        << "a 503 with a body length keeps the connection" << describe(requests);
    EXPECT_GE(took, std::chrono::milliseconds(200)) << "the retry waits for its backoff";
}

TEST_F(ConnectionReuse, ConnectionCloseMakesTheClientReconnect) {
    ASSERT_NO_FATAL_FAILURE(capture_through_proxy());
    const std::string manifest_path = "/v2/team/app/manifests/" + pushed;
    auto faults = std::make_shared<std::atomic<int>>(0);
    proxy.set_fault([=](const RequestLine& request) -> std::optional<std::string> {
        if (request.path == manifest_path && faults->fetch_add(1) == 0) {
            return "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        }
        return std::nullopt;
    });
    auto run = run_tool("verify-digest", {"--artifact", artifact(), "--content"});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    auto requests = proxy.requests();
    ASSERT_EQ(requests.size(), 4u) << describe(requests);
    EXPECT_TRUE(requests[0].faulted);
    EXPECT_EQ(proxy.http_connection_count(), 2u) << "a closed connection is not reused" << describe(requests);
    EXPECT_EQ(requests[1].connection, requests[3].connection) << "the new one is kept" << describe(requests);
}

// The proxy itself with another client: skopeo sends "Connection: close" on every request, so each one
// gets a connection of its own, and its uploads carry Content-Length bodies.
TEST_F(ConnectionReuse, ProxyRelaysAPushBySkopeo) {
    RemoteOptions plain{false};
    std::string destination = proxy.host() + "/team/copied:1";
    std::string digest = skopeo_copy(registry->host() + "/team/app:1.0", destination, plain, plain);
    EXPECT_EQ(digest, pushed);
    EXPECT_EQ(served_digest(registry->host() + "/team/copied:1", plain), pushed) << "stored upstream";
    auto requests = proxy.requests();
    EXPECT_EQ(proxy.count("PUT", "/v2/team/copied/manifests/1"), 1u) << describe(requests);
    // Each of the two blobs crosses once: uploaded (PATCH), or mounted when skopeo's machine-wide blob-info
    // cache (/var/lib/containers/cache as root) remembers it from an earlier run on the same port.
    std::size_t patches = proxy.count("PATCH", "/v2/team/copied/blobs/uploads/");
    std::size_t mounts = proxy.count("POST", "mount=");
    EXPECT_LE(patches, 2u) << describe(requests);
    EXPECT_GE(patches + mounts, 2u) << describe(requests);
    EXPECT_EQ(registry->count_requests("PUT", "/v2/team/copied/manifests/1"), 1u);
}

// The proxy itself with a chunked upload on one kept-alive Poco session: chunked request bodies, HEAD
// answers with a Content-Length but no body, and five requests counted on one connection.
TEST_F(ConnectionReuse, ProxyRelaysAChunkedUploadOnOneConnection) {
    const std::string blob = "uploaded in chunks through the proxy\n";
    const std::string digest = digest_of_raw(blob);
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(proxy.port()));
    session.setKeepAlive(true);
    auto exchange = [&](const std::string& method, const std::string& target, const std::string& body,
                        bool chunked) {
        Poco::Net::HTTPRequest request(method, target, Poco::Net::HTTPMessage::HTTP_1_1);
        if (chunked) {
            request.setChunkedTransferEncoding(true);
        } else if (method != "GET" && method != "HEAD") {
            request.setContentLength(static_cast<std::streamsize>(body.size()));
        }
        std::ostream& out = session.sendRequest(request);
        if (chunked) { // two chunks, so the proxy has to walk the framing
            out << body.substr(0, 10) << std::flush << body.substr(10);
        } else {
            out << body;
        }
        auto response = std::make_unique<Poco::Net::HTTPResponse>();
        std::istream& in = session.receiveResponse(*response);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        return std::make_pair(std::move(response), text);
    };
    auto location = [](const Poco::Net::HTTPResponse& response) {
        return Poco::URI(response.get("Location")).getPathAndQuery();
    };

    auto started = exchange("POST", "/v2/team/chunked/blobs/uploads/", "", false);
    ASSERT_EQ(started.first->getStatus(), 202);
    auto patched = exchange("PATCH", location(*started.first), blob, true);
    ASSERT_EQ(patched.first->getStatus(), 202) << patched.second;
    std::string finish = location(*patched.first);
    finish += (finish.find('?') == std::string::npos ? "?" : "&") + std::string("digest=") + digest;
    auto committed = exchange("PUT", finish, "", false);
    ASSERT_EQ(committed.first->getStatus(), 201) << committed.second;
    auto head = exchange("HEAD", "/v2/team/chunked/blobs/" + digest, "", false);
    EXPECT_EQ(head.first->getStatus(), 200);
    EXPECT_EQ(head.first->getContentLength(), static_cast<std::streamsize>(blob.size()));
    auto fetched = exchange("GET", "/v2/team/chunked/blobs/" + digest, "", false);
    EXPECT_EQ(fetched.second, blob);

    auto requests = proxy.requests();
    EXPECT_EQ(requests.size(), 5u) << describe(requests);
    EXPECT_EQ(proxy.http_connection_count(), 1u) << describe(requests);
    EXPECT_EQ(proxy.connection_count(), 1u);
}

TEST_F(ConnectionReuse, ProxyStopsPromptlyWithAnIdleClient) {
    auto idle_proxy = std::make_unique<CountingProxy>(registry->host());
    Poco::Net::StreamSocket client(Poco::Net::SocketAddress(idle_proxy->host()));
    client.sendBytes("GET /v2/ HT", 11); // half a request line: the proxy waits for the rest
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_EQ(idle_proxy->connection_count(), 1u);
    auto started = std::chrono::steady_clock::now();
    idle_proxy.reset();
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));
}

} // namespace
} // namespace digestflow::testsupport
