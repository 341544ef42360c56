// The protocol floor for a same-repository retag, for scripts/bench: exactly the three requests retag makes
// (GET the manifest by digest, HEAD the destination tag, PUT the same bytes to the tag) on one kept-alive
// connection, with the same Poco and OpenSSL libraries, and nothing else: no hashing, no checks, no retries.
// Usage: floor_retag BASE_URL REPO DIGEST TAG [CA_FILE]   (BASE_URL http://127.0.0.1:P or https://...)
// Exit 0 only when the PUT answers 201.
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

using namespace Poco::Net;

int main(int argc, char** argv) try {
    if (argc != 5 && argc != 6) {
        std::cerr << "usage: floor_retag BASE_URL REPO DIGEST TAG [CA_FILE]\n";
        return 2;
    }
    Poco::URI base(argv[1]);
    std::string manifests = "/v2/" + std::string(argv[2]) + "/manifests/";
    std::unique_ptr<HTTPClientSession> session;
    if (base.getScheme() == "https") {
        initializeSSL();
        // Only the given CA, verified strictly (chain and host name), as retag --ca-file would need.
        Context::Ptr context = new Context(Context::TLS_CLIENT_USE, "", "", argc == 6 ? argv[5] : "",
                                           Context::VERIFY_STRICT, 9, false);
        session = std::make_unique<HTTPSClientSession>(base.getHost(), base.getPort(), context);
    } else {
        session = std::make_unique<HTTPClientSession>(base.getHost(), base.getPort());
    }
    session->setKeepAlive(true);

    HTTPRequest get(HTTPRequest::HTTP_GET, manifests + argv[3], HTTPMessage::HTTP_1_1);
    get.set("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, "
                      "application/vnd.docker.distribution.manifest.v2+json, "
                      "application/vnd.docker.distribution.manifest.list.v2+json");
    session->sendRequest(get);
    HTTPResponse got;
    std::ostringstream body;
    Poco::StreamCopier::copyStream(session->receiveResponse(got), body);
    if (got.getStatus() != HTTPResponse::HTTP_OK) return 1;

    HTTPRequest head(HTTPRequest::HTTP_HEAD, manifests + argv[4], HTTPMessage::HTTP_1_1);
    session->sendRequest(head);
    HTTPResponse headed;
    session->receiveResponse(headed);  // no body: the answer to a HEAD

    std::string bytes = body.str();
    HTTPRequest put(HTTPRequest::HTTP_PUT, manifests + argv[4], HTTPMessage::HTTP_1_1);
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
