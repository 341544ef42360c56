#include "support/registry_api.hpp"

#include "support/skopeo.hpp"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <sstream>
#include <stdexcept>

namespace digestflow::testsupport {
namespace {

struct Answer {
    int status;
    std::string location;
    std::string body;
};

Answer send(const std::string& host, const std::string& method, const std::string& target, const std::string& body,
            const std::string& content_type) {
    Poco::URI uri("http://" + host);
    Poco::Net::HTTPClientSession session(uri.getHost(), uri.getPort());
    session.setTimeout(Poco::Timespan(10, 0));
    Poco::Net::HTTPRequest request(method, target, Poco::Net::HTTPMessage::HTTP_1_1);
    request.setContentLength(static_cast<std::streamsize>(body.size()));
    if (!content_type.empty()) request.setContentType(content_type);
    session.sendRequest(request) << body;
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    std::ostringstream text;
    Poco::StreamCopier::copyStream(in, text);
    return Answer{static_cast<int>(response.getStatus()), response.get("Location", ""), text.str()};
}

[[noreturn]] void fail(const std::string& what, const Answer& answer) {
    throw std::runtime_error(what + ": HTTP " + std::to_string(answer.status) + " " + answer.body);
}

}  // namespace

std::string push_blob(const std::string& host, const std::string& repository, const std::string& bytes) {
    std::string digest = digest_of_raw(bytes);
    auto started = send(host, "POST", "/v2/" + repository + "/blobs/uploads/", "", "");
    if (started.status != 202) fail("starting an upload to " + repository, started);
    Poco::URI location(Poco::URI("http://" + host), started.location);
    location.addQueryParameter("digest", digest);
    auto done = send(host, "PUT", location.getPathAndQuery(), bytes, "application/octet-stream");
    if (done.status != 201) fail("uploading a blob to " + repository, done);
    return digest;
}

std::string push_manifest(const std::string& host, const std::string& repository, const std::string& reference,
                          const std::string& bytes, const std::string& media_type) {
    auto answer = send(host, "PUT", "/v2/" + repository + "/manifests/" + reference, bytes, media_type);
    if (answer.status != 201) fail("pushing manifest " + repository + ":" + reference, answer);
    return digest_of_raw(bytes);
}

bool blob_exists(const std::string& host, const std::string& repository, const std::string& digest) {
    auto answer = send(host, "HEAD", "/v2/" + repository + "/blobs/" + digest, "", "");
    if (answer.status != 200 && answer.status != 404) fail("looking up blob " + digest + " in " + repository, answer);
    return answer.status == 200;
}

std::string push_oci_image(const std::string& host, const std::string& repository, const std::string& tag,
                           const std::vector<std::string>& layers) {
    const std::string config = R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}})";
    std::string layer_list;
    for (const auto& layer : layers)
        layer_list += std::string(layer_list.empty() ? "" : ",") +
                      R"({"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":")" +
                      push_blob(host, repository, layer) + R"(","size":)" + std::to_string(layer.size()) + "}";
    const std::string manifest =
        R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":)"
        R"("application/vnd.oci.image.config.v1+json","digest":")" + push_blob(host, repository, config) +
        R"(","size":)" + std::to_string(config.size()) + R"(},"layers":[)" + layer_list + "]}";
    return push_manifest(host, repository, tag, manifest, "application/vnd.oci.image.manifest.v1+json");
}

}  // namespace digestflow::testsupport
