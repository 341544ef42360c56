// The registry client: manifests (HEAD, verified GET, PUT) and blob existence, over the transport, with auth
// and retries. Every by-digest read is hashed and compared before anyone sees it.
#pragma once

#include "digestflow/digest.hpp"
#include "digestflow/manifest.hpp"
#include "digestflow/reference.hpp"
#include "digestflow/registry/auth.hpp"
#include "digestflow/registry/credentials.hpp"
#include "digestflow/registry/retry.hpp"
#include "digestflow/registry/transport.hpp"

#include <chrono>
#include <map>
#include <mutex>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace digestflow::registry {

struct ClientOptions {
    TransportOptions transport;
    std::optional<std::string> registry_config;  // --registry-config
    RetryPolicy retry;
};

struct ManifestHead {
    Digest digest;
    std::string media_type;
    std::int64_t size = -1;
};

struct FetchedManifest {
    std::string bytes;       // exactly as served
    std::string media_type;  // Content-Type without parameters (or the document's mediaType)
    Digest digest;           // of the bytes
    Manifest parsed;
};

class RegistryClient {
public:
    explicit RegistryClient(ClientOptions options);
    ~RegistryClient();

    // HEAD a tag or digest with every manifest type in Accept. nullopt = the registry says it does not exist.
    // Without a usable Docker-Content-Digest the manifest is fetched and hashed instead.
    std::optional<ManifestHead> head_manifest(const Reference& ref);

    // GET a tag or digest. By digest the bytes must hash to it (Error(Registry) otherwise: the registry served
    // other content). By tag, a Docker-Content-Digest header must agree with the bytes.
    // retry_server_errors=false reports a 5xx at once (capture uses it: distribution answers 500 for a
    // config blob's digest asked for as a manifest, which retrying cannot change).
    std::optional<FetchedManifest> get_manifest(const Reference& ref, bool retry_server_errors = true);

    // The referrers of ref's digest as an image index: from the referrers API (every page, following
    // Link: rel="next"), or where the registry lacks it (404, 400, 405), from the fallback tag. nullopt =
    // none found.
    struct Referrers {
        std::string index;      // image index bytes
        bool from_api = false;  // false: the fallback tag
    };
    std::optional<Referrers> get_referrers(const Reference& ref);

    // GETs a small blob (configs, at most max_bytes) and checks its digest. nullopt = absent.
    std::optional<std::string> get_small_blob(const Reference& ref, const Digest& digest,
                                              std::size_t max_bytes = 4 * 1024 * 1024);

    // PUT the exact bytes under ref's tag (or digest) with the given Content-Type. The digest the registry
    // reports must be the bytes' own; confirmed=false when it reported none.
    struct PutResult {
        Digest digest;
        bool confirmed = false;         // the registry reported the digest (Docker-Content-Digest)
        bool subject_indexed = false;   // the registry indexed the manifest's subject (OCI-Subject)
    };
    PutResult put_manifest(const Reference& ref, const std::string& bytes, const std::string& media_type);

    // HEAD a blob in ref's repository. nullopt = absent; otherwise its size.
    std::optional<std::int64_t> head_blob(const Reference& ref, const Digest& digest);

    // GETs a blob into `sink` as it arrives (constant memory). `begin` is called before the bytes of each
    // attempt start (a retry starts over). nullopt = absent; otherwise the number of bytes received.
    // expected_size >= 0 bounds the read: more bytes than that is an error.
    std::optional<std::int64_t> stream_blob(const Reference& ref, const Digest& digest, std::int64_t expected_size,
                                            const std::function<void()>& begin, const BodySink& sink);

    // Cross-repository mount into ref's repository from source_path on the same registry. mounted=false means
    // the registry opened an upload session instead (202), to be finished with finish_upload.
    struct MountResult {
        bool mounted = false;
        std::string upload_location;
    };
    MountResult mount_blob(const Reference& ref, const Digest& digest, const std::string& source_path);

    // Opens an upload session in ref's repository; returns its location.
    std::string start_upload(const Reference& ref);

    // One streamed PUT of `size` bytes from `source` to the session; the registry must store `digest`.
    void finish_upload(const Reference& ref, const std::string& location, const Digest& digest, std::int64_t size,
                       const BodySource& source);
    // The same with the whole blob in memory (a small blob): a 401 can be answered by sending it again.
    // Shared, not copied, by the request's retries.
    void finish_upload(const Reference& ref, const std::string& location, const Digest& digest,
                       std::shared_ptr<const std::string> bytes);

    // GETs a blob, hashing it while it streams (constant memory). nullopt = absent; otherwise the digest of
    // the bytes received (compare it with `digest`) and their count.
    struct BlobHash {
        Digest digest;
        std::int64_t size = 0;
    };
    std::optional<BlobHash> hash_blob(const Reference& ref, const Digest& digest, std::int64_t expected_size);

    // What the registry said about rate limits: the latest RateLimit-* headers seen, and how many 429 answers
    // were waited out.
    struct RateLimit {
        std::map<std::string, std::string> headers;
        int throttled = 0;
    };
    RateLimit rate_limit() const;

    // The run will push source's content to these destinations: their tokens are asked for pull,push (and
    // the pull of the repositories their blobs may be mounted from) from the first request on, so one token
    // serves a destination's lookups, mounts and writes. Optional; without it a destination gets a pull
    // token first and a push token later.
    void expect_push(const std::vector<Reference>& destinations, const Reference& source);

    int request_count() const;
    Transport& transport() { return m_transport; }
    const RetryPolicy& retry_policy() const { return m_options.retry; }

    // Best effort: DELETEs an upload session that will not be finished (a copy that starts over or failed),
    // so the registry can drop its partial data. Never throws: a registry that keeps it cleans up itself.
    void cancel_upload(const Reference& ref, const std::string& location) noexcept;

private:
    // Sends a request for a path on ref's registry with auth, retrying transient failures as `mode` allows.
    // request.url is a path on ref's registry, or an absolute URL the registry handed out (upload locations).
    HttpResponse execute(const Reference& ref, const Scopes& scopes, HttpRequest request, const std::string& action,
                         RetryMode mode, bool retry_server_errors = true);
    // One attempt, with credentials where the registry asked for them. A 401 from the registry's own origin
    // teaches its challenge and is answered once with fresh credentials; a 401 from any other host (a
    // redirect target, an upload location elsewhere) is refused: credentials go only to the registry.
    HttpResponse send_authorized(const Reference& ref, const Scopes& scopes, HttpRequest request,
                                 const std::string& action);
    static std::string manifest_path(const Reference& ref);
    // The PUT that completes an upload session, its body set by the caller; checks the digest stored.
    void send_upload_put(const Reference& ref, const std::string& location, const Digest& digest, HttpRequest request);

    void note_rate_limit(const HttpResponse& response);

    ClientOptions m_options;
    mutable std::mutex m_rate_mutex;
    RateLimit m_rate_limit;
    Transport m_transport;
    CredentialStore m_credentials;
    Authenticator m_auth;
};

// The tag or digest part a manifest request uses: the digest when present, else the tag, else "latest".
std::string manifest_reference_part(const Reference& ref);

}  // namespace digestflow::registry
