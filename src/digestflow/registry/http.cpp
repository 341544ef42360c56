#include "digestflow/registry/http.hpp"

#include "digestflow/error.hpp"

#include <Poco/Exception.h>
#include <Poco/URI.h>

#include <algorithm>
#include <cctype>

namespace digestflow::registry {
namespace {

bool iequals(const std::string& a, const std::string& b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

}  // namespace

std::optional<std::string> find_header(const HeaderList& headers, const std::string& name) {
    for (const auto& [key, value] : headers)
        if (iequals(key, name)) return value;
    return std::nullopt;
}

std::vector<std::string> find_headers(const HeaderList& headers, const std::string& name) {
    std::vector<std::string> out;
    for (const auto& [key, value] : headers)
        if (iequals(key, name)) out.push_back(value);
    return out;
}

void remove_header(HeaderList& headers, const std::string& name) {
    std::erase_if(headers, [&](const auto& entry) { return iequals(entry.first, name); });
}

void set_header(HeaderList& headers, const std::string& name, const std::string& value) {
    remove_header(headers, name);
    headers.emplace_back(name, value);
}

std::string UrlParts::authority() const {
    std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    bool default_port = (scheme == "https" && port == 443) || (scheme == "http" && port == 80);
    return default_port ? h : h + ":" + std::to_string(port);
}

UrlParts split_url(const std::string& url) {
    try {
        Poco::URI uri(url);
        if (uri.getScheme() != "http" && uri.getScheme() != "https")
            throw_usage("URL " + url + " is not http or https");
        // The request target is path?query: a fragment is never sent, and an empty path is "/".
        UrlParts parts{uri.getScheme(), uri.getHost(), uri.getPort(), uri.getPathAndQuery()};
        if (parts.target.empty() || parts.target.front() == '?') parts.target.insert(0, "/");
        if (parts.host.empty()) throw_usage("URL " + url + " has no host");
        return parts;
    } catch (const Poco::Exception& e) {
        throw_usage("malformed URL " + url + ": " + e.message());
    }
}

std::string resolve_location(const std::string& request_url, const std::string& location) {
    try {
        Poco::URI base(request_url);
        // Poco takes "//host/path" for a path; RFC 3986 makes it a new authority under the request's scheme.
        base.resolve(location.rfind("//", 0) == 0 ? base.getScheme() + ":" + location : location);
        return base.toString();
    } catch (const Poco::Exception& e) {
        throw_registry("the registry sent a malformed Location header \"" + location + "\": " + e.message());
    }
}

}  // namespace digestflow::registry
