// Plain data for one HTTP exchange, shared by the transport and the registry client.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace digestflow::registry {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// Case-insensitive header lookups over a HeaderList.
std::optional<std::string> find_header(const HeaderList& headers, const std::string& name);
std::vector<std::string> find_headers(const HeaderList& headers, const std::string& name);
void set_header(HeaderList& headers, const std::string& name, const std::string& value);
void remove_header(HeaderList& headers, const std::string& name);

// Produces request body bytes on demand (streamed uploads). Returns bytes written into buf, 0 at the end.
using BodySource = std::function<std::size_t(char* buf, std::size_t capacity)>;
// Receives response body bytes as they arrive (streamed downloads).
using BodySink = std::function<void(const char* data, std::size_t size)>;

struct HttpRequest {
    std::string method;   // "GET", "HEAD", "PUT", "POST", "PATCH", "DELETE"
    std::string url;      // absolute: scheme://host[:port]/path?query
    HeaderList headers;
    std::string body;                     // small bodies
    // A larger body in memory (a small blob, up to 1 MiB), sent instead of `body`: shared, so the copies a
    // request goes through on its way to the socket (retries, credentials, redirects) do not copy the bytes.
    std::shared_ptr<const std::string> shared_body;
    BodySource body_source;               // streamed body; then content_length must be set
    std::int64_t content_length = -1;
    std::size_t max_response_body = 4 * 1024 * 1024;  // bounded reads; larger is an error
    BodySink body_sink;                   // when set, a 2xx body goes here instead of HttpResponse::body
    // Called with the answer's status and headers before a 2xx body streams into body_sink (each attempt);
    // it may throw to refuse the body.
    std::function<void(const struct HttpResponse& head)> body_begin;
};

struct HttpResponse {
    int status = 0;
    std::string reason;
    HeaderList headers;
    std::string body;
    std::string url;  // the URL that answered (after redirects)

    std::optional<std::string> header(const std::string& name) const { return find_header(headers, name); }
};

// Parsed absolute URL pieces.
struct UrlParts {
    std::string scheme;  // "http" or "https"
    std::string host;    // without brackets for IPv6
    std::uint16_t port = 0;
    std::string target;  // path?query, at least "/"
    std::string authority() const;  // host[:port] as written in URLs (IPv6 bracketed)
};
UrlParts split_url(const std::string& url);  // throws FinalError(Registry) on a malformed URL

// A URL or request target fit for a message: the query string (signed URLs carry credentials there),
// the fragment and any userinfo are replaced by "..." / dropped.
std::string redact_url(const std::string& url_or_target);

// The target of a `Link: <...>; rel="next"` header (RFC 8288) resolved against the request URL, or
// nullopt when there is no next page.
std::optional<std::string> next_page_url(const std::string& request_url, const HeaderList& headers);

// Resolves a Location header (absolute, or relative to the request URL).
std::string resolve_location(const std::string& request_url, const std::string& location);

}  // namespace digestflow::registry
