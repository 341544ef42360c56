#include "digestflow/registry/client.hpp"

#include "digestflow/error.hpp"
#include "digestflow/json_input.hpp"
#include "digestflow/media_types.hpp"
#include "digestflow/referrers.hpp"
#include "digestflow/registry/registry_errors.hpp"

#include <nlohmann/json.hpp>

namespace digestflow::registry {
namespace {

bool is_success(int status) { return status >= 200 && status < 300; }

// A non-negative decimal header value; nullopt for anything else (absent, a date, garbage, too large).
std::optional<std::int64_t> header_number(const HttpResponse& response, const std::string& name) {
    auto value = response.header(name);
    if (!value || value->empty() || value->size() > 15 || value->find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
    return std::stoll(*value);
}

std::optional<Digest> header_digest(const HttpResponse& response) {
    auto value = response.header("Docker-Content-Digest");
    if (!value || !Digest::is_valid(*value)) return std::nullopt;
    return Digest::parse(*value);
}

// A blob answer whose Docker-Content-Digest names another blob (same algorithm) is refused before its
// bytes are used: the header must match the body (distribution spec, GET blob).
void refuse_contradicting_digest(const HttpResponse& response, const Digest& asked, const std::string& action) {
    auto announced = header_digest(response);
    if (announced && announced->algorithm() == asked.algorithm() && *announced != asked)
        throw FinalError(ErrorKind::CheckFailed, action + ": the registry says the bytes are " + announced->str() +
                                                     " (Docker-Content-Digest); refusing them");
}

}  // namespace

std::string manifest_reference_part(const Reference& ref) {
    if (ref.digest) return ref.digest->str();
    if (ref.tag) return *ref.tag;
    return "latest";
}

RegistryClient::RegistryClient(ClientOptions options)
    : m_options(std::move(options)), m_transport(m_options.transport), m_credentials(m_options.registry_config),
      m_auth(m_transport, m_credentials, m_options.retry) {}

RegistryClient::~RegistryClient() = default;

int RegistryClient::request_count() const { return m_transport.request_count(); }

RegistryClient::RateLimit RegistryClient::rate_limit() const {
    std::lock_guard lock(m_rate_mutex);
    return m_rate_limit;
}

void RegistryClient::note_rate_limit(const HttpResponse& response) {
    std::lock_guard lock(m_rate_mutex);
    if (response.status == 429) ++m_rate_limit.throttled;
    for (const auto& [name, value] : response.headers) {
        std::string lower = name;
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (lower.rfind("ratelimit-", 0) == 0 || lower.rfind("x-ratelimit-", 0) == 0) m_rate_limit.headers[lower] = value;
    }
}

std::string RegistryClient::manifest_path(const Reference& ref) {
    return "/v2/" + ref.path + "/manifests/" + manifest_reference_part(ref);
}

namespace {

std::string origin_of(const std::string& url) {
    UrlParts parts = split_url(url);
    return parts.scheme + "://" + parts.authority();
}

}  // namespace

HttpResponse RegistryClient::send_authorized(const Reference& ref, const Scopes& scopes, HttpRequest request,
                                             const std::string& action) {
    // A path is joined to the base each time: the first answer may have switched a loopback registry to
    // plain HTTP.
    const std::string path = request.url;
    const bool absolute = path.rfind("http://", 0) == 0 || path.rfind("https://", 0) == 0;
    for (bool renewed = false;;) {
        const std::string base = m_transport.registry_base_url(ref.api_host());
        request.url = absolute ? path : base + path;
        // Credentials go only where the registry itself is: an upload location elsewhere gets none.
        const bool ours = origin_of(request.url) == base;
        auto authorization = ours ? m_auth.authorization(ref.domain, ref.path, scopes) : std::nullopt;
        if (authorization) set_header(request.headers, "Authorization", authorization->header);
        else remove_header(request.headers, "Authorization");
        HttpResponse response = m_transport.send(request);
        if (response.status != 401 && response.status != 403) return response;

        const std::string answered_by = origin_of(response.url);
        const bool from_registry = answered_by == m_transport.registry_base_url(ref.api_host());
        std::optional<std::string> sent;
        if (authorization) sent = authorization->header;
        // A token asked for more than this request needs may have been granted less than asked: refused, it
        // gives way to a token for exactly these scopes (once: the need asks exactly from now on).
        if (from_registry && authorization && authorization->broader && !request.body_source) {
            if (response.status == 401) m_auth.on_unauthorized(ref.domain, ref.path, scopes, response, sent);
            m_auth.narrow(ref.domain, scopes, authorization->header);
            continue;
        }
        if (response.status != 401) return response;
        if (!from_registry)
            throw_auth(action + " failed: " + split_url(response.url).authority() + " (reached through " +
                       (absolute ? "an upload location" : "a redirect") + " from " + ref.domain +
                       ") asked for credentials; digestflow sends credentials only to the registry itself");
        // Learn the challenge; retry once when we sent no credentials yet (another thread may have learnt it
        // meanwhile) or the ones we sent were refused and new ones can be had. A streamed body cannot be sent
        // twice.
        bool renewable = m_auth.on_unauthorized(ref.domain, ref.path, scopes, response, sent);
        if (renewed || request.body_source || !renewable)
            throw_auth(action + " failed: " + ref.domain + " refused " + m_auth.credential_source(ref.domain, ref.path) +
                       " (" + describe_registry_answer(response) + ")");
        renewed = true;
    }
}

void RegistryClient::expect_push(const std::vector<Reference>& destinations, const Reference& source) {
    // Blobs are mounted within one registry: from the source, or from a destination that got them first.
    for (const auto& to : destinations) {
        m_auth.expect_push(to.domain, to.path, source.domain == to.domain ? source.path : "");
        for (const auto& other : destinations)
            if (other.domain == to.domain) m_auth.expect_push(to.domain, to.path, other.path);
    }
}

HttpResponse RegistryClient::execute(const Reference& ref, const Scopes& scopes, HttpRequest request,
                                     const std::string& action, RetryMode mode, bool retry_server_errors) {
    return send_with_retries(
        m_options.retry, mode, retry_server_errors, [&] { return send_authorized(ref, scopes, request, action); },
        [&](const HttpResponse& response) { note_rate_limit(response); });
}

std::optional<ManifestHead> RegistryClient::head_manifest(const Reference& ref) {
    HttpRequest request{"HEAD", manifest_path(ref)};
    set_header(request.headers, "Accept", media_types::manifest_accept_header());
    auto response = execute(ref, {pull_scope(ref.path)}, request, "looking up " + ref.str(), RetryMode::Repeatable);
    if (response.status == 404) return std::nullopt;
    if (!is_success(response.status)) throw_for_response(response, "looking up " + ref.str());

    std::string media_type = media_types::strip_parameters(response.header("Content-Type").value_or(""));
    if (media_types::is_schema1(media_type))
        throw_usage(ref.str() + " is a Docker schema1 manifest (" + media_type +
                    "), which is deprecated and not supported: push the image again with a current client");
    auto digest = header_digest(response);
    bool trustworthy = digest && media_types::is_known_manifest(media_type) &&
                       (!ref.digest || *digest == *ref.digest);
    if (!trustworthy) {
        // No usable header: fetch the bytes and hash them ourselves.
        auto fetched = get_manifest(ref);
        if (!fetched) return std::nullopt;
        return ManifestHead{fetched->digest, fetched->media_type, static_cast<std::int64_t>(fetched->bytes.size())};
    }
    return ManifestHead{*digest, media_type, header_number(response, "Content-Length").value_or(-1)};
}

std::optional<FetchedManifest> RegistryClient::get_manifest(const Reference& ref, bool retry_server_errors) {
    HttpRequest request{"GET", manifest_path(ref)};
    set_header(request.headers, "Accept", media_types::manifest_accept_header());
    auto response =
        execute(ref, {pull_scope(ref.path)}, request, "fetching " + ref.str(), RetryMode::Repeatable, retry_server_errors);
    if (response.status == 404) return std::nullopt;
    if (!is_success(response.status)) throw_for_response(response, "fetching " + ref.str());

    std::string content_type = response.header("Content-Type").value_or("");
    auto announced = header_digest(response);
    std::string algorithm = ref.digest ? ref.digest->algorithm() : announced ? announced->algorithm() : "sha256";
    Digest actual = Digest::of(response.body, algorithm);
    if (ref.digest && actual != *ref.digest)
        throw_check_failed("the registry served content for " + ref.str() + " that hashes to " + actual.str() +
                       "; refusing it (corrupted or tampered manifest)");
    // By digest the bytes decide, but a registry whose header names other content is not to be trusted with
    // a promotion either.
    if (ref.digest && announced && announced->algorithm() == algorithm && *announced != actual)
        throw_check_failed("the registry says " + ref.str() + " is " + announced->str() +
                           " (Docker-Content-Digest) while serving content that hashes to " + actual.str() +
                           "; refusing it");
    if (!ref.digest && announced && announced->algorithm() == algorithm && *announced != actual)
        throw_check_failed("the registry says " + ref.str() + " is " + announced->str() + " but the bytes it served hash to " +
                       actual.str() + "; refusing it");
    Manifest parsed = parse_manifest(response.body, content_type, ref.str());
    return FetchedManifest{std::move(response.body), parsed.media_type, actual, std::move(parsed)};
}

RegistryClient::PutResult RegistryClient::put_manifest(const Reference& ref, const std::string& bytes, const std::string& media_type) {
    HttpRequest request{"PUT", manifest_path(ref)};
    set_header(request.headers, "Content-Type", media_type);
    request.body = bytes;
    std::string action = "pushing manifest " + ref.str();
    // Safe to repeat: the same bytes under the same name.
    auto response = execute(ref, {push_scope(ref.path)}, request, action, RetryMode::Repeatable);
    if (!is_success(response.status)) throw_for_response(response, action);
    Digest expected = Digest::of(bytes, ref.digest ? ref.digest->algorithm() : "sha256");
    auto reported = header_digest(response);
    if (reported && *reported != expected)
        throw_registry(action + ": the registry stored it as " + reported->str() + " but the bytes are " +
                       expected.str());
    return PutResult{expected, reported.has_value(), response.header("OCI-Subject").has_value()};
}

std::optional<std::int64_t> RegistryClient::head_blob(const Reference& ref, const Digest& digest) {
    HttpRequest request{"HEAD", "/v2/" + ref.path + "/blobs/" + digest.str()};
    std::string action = "looking up blob " + digest.str() + " in " + ref.repository();
    auto response = execute(ref, {pull_scope(ref.path)}, request, action, RetryMode::Repeatable);
    if (response.status == 404) return std::nullopt;
    if (!is_success(response.status)) throw_for_response(response, action);
    return header_number(response, "Content-Length").value_or(-1);
}


std::optional<RegistryClient::Referrers> RegistryClient::get_referrers(const Reference& ref) {
    constexpr int max_pages = 100;  // a registry that keeps sending "next" is cut off, not followed forever
    // All pages together are bounded like one manifest: the merged list may have to be written as one
    // fallback index, and 100 full pages parsed and merged took over a gigabyte of memory.
    constexpr std::size_t max_total_bytes = 4 * 1024 * 1024;
    std::size_t total_bytes = 0;
    std::string action = "listing referrers of " + ref.str();
    std::string path = "/v2/" + ref.path + "/referrers/" + ref.digest->str();
    nlohmann::ordered_json combined;
    std::string first_page;
    for (int page = 1;; ++page) {
        HttpRequest request{"GET", path};
        set_header(request.headers, "Accept", std::string(media_types::oci_index));
        auto response = execute(ref, {pull_scope(ref.path)}, request, action, RetryMode::Repeatable);
        if (page == 1 && (response.status == 404 || response.status == 400 || response.status == 405)) {
            // No referrers API (404; 400 or 405 from registries that route the path elsewhere): the fallback
            // tag holds the list, if anyone wrote one.
            auto fallback = get_manifest(ref.with_tag(referrers_fallback_tag(*ref.digest)));
            if (!fallback || !fallback->parsed.is_index()) return std::nullopt;
            return Referrers{std::move(fallback->bytes), false};
        }
        if (!is_success(response.status)) throw_for_response(response, action);
        total_bytes += response.body.size();
        if (total_bytes > max_total_bytes)
            throw_registry(action + ": the referrers pages add up to more than " + std::to_string(max_total_bytes) +
                           " bytes (page " + std::to_string(page) + ")");
        auto parsed = try_parse_ordered_json(response.body);
        if (!parsed || !parsed->is_object() || !parsed->contains("manifests") || !(*parsed)["manifests"].is_array())
            throw_registry(action + ": page " + std::to_string(page) + " of the referrers API is not an image index");
        nlohmann::ordered_json& doc = *parsed;
        auto next = next_page_url(response.url, response.headers);
        if (page == 1 && !next) return Referrers{std::move(response.body), true};
        if (page == 1) combined = doc;
        else
            for (auto& descriptor : doc["manifests"]) combined["manifests"].push_back(std::move(descriptor));
        if (!next) break;
        if (page >= max_pages)
            throw_registry(action + ": the registry sent more than " + std::to_string(max_pages) + " pages");
        // Pages stay on the registry: a Link elsewhere would carry our credentials nowhere, so it is refused.
        if (origin_of(*next) != origin_of(response.url))
            throw_registry(action + ": the next page is on another host (" + redact_url(*next) + ")");
        path = split_url(*next).target;
    }
    return Referrers{combined.dump(), true};
}

std::optional<std::string> RegistryClient::get_small_blob(const Reference& ref, const Digest& digest,
                                                         std::size_t max_bytes) {
    HttpRequest request{"GET", "/v2/" + ref.path + "/blobs/" + digest.str()};
    request.max_response_body = max_bytes;
    std::string action = "fetching blob " + digest.str() + " from " + ref.repository();
    auto response = execute(ref, {pull_scope(ref.path)}, request, action, RetryMode::Repeatable);
    if (response.status == 404) return std::nullopt;
    if (!is_success(response.status)) throw_for_response(response, action);
    refuse_contradicting_digest(response, digest, action);
    Digest actual = Digest::of(response.body, digest.algorithm());
    if (actual != digest)
        throw_check_failed(action + ": the bytes served hash to " + actual.str() + "; refusing them");
    return std::move(response.body);
}

std::optional<std::int64_t> RegistryClient::stream_blob(const Reference& ref, const Digest& digest,
                                                        std::int64_t expected_size, const std::function<void()>& begin,
                                                        const BodySink& sink) {
    HttpRequest request{"GET", "/v2/" + ref.path + "/blobs/" + digest.str()};
    std::int64_t size = 0;
    bool began = false;
    request.body_begin = [&](const HttpResponse& head) {
        refuse_contradicting_digest(head, digest, "fetching blob " + digest.str() + " from " + ref.repository());
        began = true;
        size = 0;
        if (begin) begin();
    };
    request.body_sink = [&](const char* data, std::size_t n) {
        size += static_cast<std::int64_t>(n);
        // Every read is bounded: a blob larger than its descriptor says is not the blob.
        if (expected_size >= 0 && size > expected_size)
            throw FinalError(ErrorKind::CheckFailed, "blob " + digest.str() + " in " + ref.repository() +
                                                         " is larger than the " + std::to_string(expected_size) +
                                                         " bytes its descriptor declares; refusing it");
        sink(data, n);
    };
    std::string action = "fetching blob " + digest.str() + " from " + ref.repository();
    auto response = execute(ref, {pull_scope(ref.path)}, request, action, RetryMode::Repeatable);
    if (response.status == 404) return std::nullopt;
    if (!is_success(response.status) || !began) throw_for_response(response, action);
    return size;
}

std::optional<RegistryClient::BlobHash> RegistryClient::hash_blob(const Reference& ref, const Digest& digest,
                                                                 std::int64_t expected_size) {
    std::optional<DigestHasher> hasher;
    auto size = stream_blob(
        ref, digest, expected_size, [&] { hasher.emplace(digest.algorithm()); },
        [&](const char* data, std::size_t n) { hasher->update(data, n); });
    if (!size) return std::nullopt;
    return BlobHash{hasher->finish(), *size};
}

RegistryClient::MountResult RegistryClient::mount_blob(const Reference& ref, const Digest& digest,
                                                       const std::string& source_path) {
    std::string query = "?mount=" + digest.str() + "&from=" + source_path;
    HttpRequest request{"POST", "/v2/" + ref.path + "/blobs/uploads/" + query};
    std::string action = "mounting blob " + digest.str() + " into " + ref.repository() + " from " + source_path;
    // One token must carry both scopes, or the registry refuses the mount. Repeatable: a mount is
    // idempotent, and an upload session a lost answer may have opened expires unused on the registry.
    auto response =
        execute(ref, {push_scope(ref.path), pull_scope(source_path)}, request, action, RetryMode::Repeatable);
    auto location = response.header("Location");
    if (response.status == 201) return MountResult{true, ""};
    if (response.status == 202 && location) return MountResult{false, resolve_location(response.url, *location)};
    throw_for_response(response, action);
}

std::string RegistryClient::start_upload(const Reference& ref) {
    HttpRequest request{"POST", "/v2/" + ref.path + "/blobs/uploads/"};
    std::string action = "starting a blob upload to " + ref.repository();
    // Repeatable: an error answer opened no session, and one a lost answer may have opened expires unused.
    auto response = execute(ref, {push_scope(ref.path)}, request, action, RetryMode::Repeatable);
    auto location = response.header("Location");
    if (response.status != 202 || !location) throw_for_response(response, action);
    return resolve_location(response.url, *location);
}

void RegistryClient::finish_upload(const Reference& ref, const std::string& location, const Digest& digest,
                                   std::int64_t size, const BodySource& source) {
    HttpRequest request;
    request.body_source = source;
    request.content_length = size;
    send_upload_put(ref, location, digest, std::move(request));
}

void RegistryClient::finish_upload(const Reference& ref, const std::string& location, const Digest& digest,
                                   std::shared_ptr<const std::string> bytes) {
    HttpRequest request;
    request.shared_body = std::move(bytes);
    send_upload_put(ref, location, digest, std::move(request));
}

void RegistryClient::send_upload_put(const Reference& ref, const std::string& location, const Digest& digest,
                                     HttpRequest request) {
    // The location may carry query parameters the registry needs (its upload state): keep them, add ours.
    request.method = "PUT";
    request.url = location + (location.find('?') == std::string::npos ? "?" : "&") + "digest=" + digest.str();
    set_header(request.headers, "Content-Type", "application/octet-stream");
    std::string action = "uploading blob " + digest.str() + " to " + ref.repository();
    // Once: a PUT whose answer was lost may have completed the session, and a repeat would be refused.
    auto response = execute(ref, {push_scope(ref.path)}, request, action, RetryMode::Once);
    if (response.status != 201) throw_for_response(response, action);
    auto stored = header_digest(response);
    if (stored && *stored != digest)
        throw_registry(action + ": the registry stored it as " + stored->str());
}

void RegistryClient::cancel_upload(const Reference& ref, const std::string& location) noexcept {
    try {
        HttpRequest request{"DELETE", location};
        execute(ref, {push_scope(ref.path)}, request, "cancelling a blob upload to " + ref.repository(),
                RetryMode::Once);
    } catch (...) {
        // Cancelling is a courtesy; the copy's own outcome is what gets reported.
    }
}

}  // namespace digestflow::registry
