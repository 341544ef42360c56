// The protocol floor for a same-repository retag, for scripts/bench: exactly the three requests retag makes
// (GET the manifest by digest, HEAD the destination tag, PUT the same bytes to the tag) on one kept-alive
// connection, with the same Poco and OpenSSL libraries, and nothing else: no hashing, no checks, no retries.
// With --head, only the HEAD of the tag: the floor of `verify-digest --ref` with the same libraries.
// Usage: floor_retag BASE_URL REPO DIGEST TAG [CA_FILE]   (BASE_URL http://127.0.0.1:P or https://...)
//        floor_retag --head BASE_URL REPO TAG [CA_FILE]
// Exit 0 only when the PUT answers 201 (with --head: when the HEAD answers 200).
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

using namespace Poco::Net;

const char* const accept_manifests =
    "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json";

int main(int argc, char** argv) try {
    std::vector<std::string> args(argv + 1, argv + argc);
    const bool head_only = !args.empty() && args[0] == "--head";
    if (head_only) args.erase(args.begin());
    const std::size_t needed = head_only ? 3 : 4;
    if (args.size() != needed && args.size() != needed + 1) {
        std::cerr << "usage: floor_retag BASE_URL REPO DIGEST TAG [CA_FILE] | --head BASE_URL REPO TAG [CA_FILE]\n";
        return 2;
    }
    Poco::URI base(args[0]);
    const std::string manifests = "/v2/" + args[1] + "/manifests/";
    const std::string digest = head_only ? "" : args[2];
    const std::string tag = args[needed - 1];
    const std::string ca_file = args.size() > needed ? args[needed] : "";
    std::unique_ptr<HTTPClientSession> session;
    if (base.getScheme() == "https") {
        initializeSSL();
        // Only the given CA, verified strictly (chain and host name), as retag --ca-file would need; X25519
        // offered first, as the tools do (Poco's default order costs Go servers a HelloRetryRequest).
        Context::Params params;
        params.caLocation = ca_file;
        params.verificationMode = Context::VERIFY_STRICT;
        params.ecdhCurve = "X25519:P-256:P-384:P-521:X448";
        Context::Ptr context = new Context(Context::TLS_CLIENT_USE, params);
        session = std::make_unique<HTTPSClientSession>(base.getHost(), base.getPort(), context);
    } else {
        session = std::make_unique<HTTPClientSession>(base.getHost(), base.getPort());
    }
    session->setKeepAlive(true);

    if (head_only) {
        HTTPRequest head(HTTPRequest::HTTP_HEAD, manifests + tag, HTTPMessage::HTTP_1_1);
        head.set("Accept", accept_manifests);
        session->sendRequest(head);
        HTTPResponse headed;
        session->receiveResponse(headed);
        return headed.getStatus() == HTTPResponse::HTTP_OK ? 0 : 1;
    }

    HTTPRequest get(HTTPRequest::HTTP_GET, manifests + digest, HTTPMessage::HTTP_1_1);
    get.set("Accept", accept_manifests);
    session->sendRequest(get);
    HTTPResponse got;
    std::ostringstream body;
    Poco::StreamCopier::copyStream(session->receiveResponse(got), body);
    if (got.getStatus() != HTTPResponse::HTTP_OK) return 1;

    HTTPRequest head(HTTPRequest::HTTP_HEAD, manifests + tag, HTTPMessage::HTTP_1_1);
    session->sendRequest(head);
    HTTPResponse headed;
    session->receiveResponse(headed);  // no body: the answer to a HEAD

    std::string bytes = body.str();
    HTTPRequest put(HTTPRequest::HTTP_PUT, manifests + tag, HTTPMessage::HTTP_1_1);
    put.setContentType(got.getContentType());
    put.setContentLength(static_cast<std::streamsize>(bytes.size()));
    session->sendRequest(put) << bytes;
    HTTPResponse answer;
    std::ostringstream ignored;
    Poco::StreamCopier::copyStream(session->receiveResponse(answer), ignored);
    return answer.getStatus() == HTTPResponse::HTTP_CREATED ? 0 : 1;
} catch (const Poco::Exception& e) {
    std::cerr << "floor_retag: " << e.displayText() << "\n";
    return 3;
}
