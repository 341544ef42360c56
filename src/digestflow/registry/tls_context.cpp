#include "digestflow/registry/tls_context.hpp"

#include "digestflow/error.hpp"
#include "digestflow/registry/system_trust.hpp"

#include <Poco/Exception.h>
#include <Poco/Net/RejectCertificateHandler.h>
#include <Poco/Net/SSLManager.h>

#include <csignal>
#include <mutex>
#include <stdexcept>

#include <signal.h>

namespace digestflow::registry {
namespace {

// Poco would otherwise ask its application configuration (or the console) what to do with a bad certificate.
// Done on the first TLS connection only: a run that speaks plain HTTP never initialises OpenSSL's TLS side,
// and no default client context is built (ours are made per transport, when first needed).
void initialise_ssl_once() {
    static std::once_flag once;
    std::call_once(once, [] {
        Poco::Net::initializeSSL();
        Poco::Net::SSLManager::InvalidCertificateHandlerPtr reject(new Poco::Net::RejectCertificateHandler(false));
        Poco::Net::SSLManager::instance().initializeClient(nullptr, reject, Poco::Net::Context::Ptr());
        // OpenSSL writes to the socket without MSG_NOSIGNAL: a registry closing mid-upload must be an error
        // we report, not a SIGPIPE that ends the tool.
        struct sigaction current {};
        if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) std::signal(SIGPIPE, SIG_IGN);
    });
}

}  // namespace

Poco::Net::Context::Ptr make_tls_context(bool verify, const std::string& ca_file) {
    initialise_ssl_once();
    Poco::Net::Context::Params params;
    params.ecdhCurve = tls_key_exchange_groups;
    if (!verify) {
        params.verificationMode = Poco::Net::Context::VERIFY_NONE;
        return new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
    }
    params.caLocation = ca_file;   // --ca-file adds to the system CAs
    params.loadDefaultCAs = false;  // added below, looked up lazily
    params.verificationMode = Poco::Net::Context::VERIFY_STRICT;
    Poco::Net::Context::Ptr context;
    try {
        context = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
    } catch (const Poco::Exception& e) {
        throw_usage("--ca-file " + ca_file + ": cannot load the CA certificates (" + e.displayText() +
                    "); pass a readable PEM file");
    }
    try {
        add_system_trust(context->sslContext());
    } catch (const std::runtime_error& e) {
        throw_registry(std::string(e.what()) + "; check $SSL_CERT_FILE, $SSL_CERT_DIR and the ca-certificates package");
    }
    return context;
}

}  // namespace digestflow::registry
