#include "digestflow/registry/http.hpp"

#include "digestflow/error.hpp"
#include "digestflow/quote.hpp"

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
    // Every URL split here is one a registry handed out (a Location, a token realm, a Link) or built from an
    // already validated reference: an unusable one is the registry's answer, not bad input (exit 2), and no
    // retry makes it usable.
    auto refuse = [&](const std::string& why) {
        throw FinalError(ErrorKind::Registry, "the registry handed out the URL " + quote(redact_url(url)) + ", which " + why);
    };
    try {
        Poco::URI uri(url);
        if (uri.getScheme() != "http" && uri.getScheme() != "https") refuse("is not http or https");
        // The request target is path?query: a fragment is never sent, and an empty path is "/".
        UrlParts parts{uri.getScheme(), uri.getHost(), uri.getPort(), uri.getPathAndQuery()};
        if (parts.target.empty() || parts.target.front() == '?') parts.target.insert(0, "/");
        if (parts.host.empty()) refuse("has no host");
        return parts;
    } catch (const Poco::Exception& e) {
        refuse("is a malformed URL: " + e.message());
    }
    return {};  // not reached
}

std::string redact_url(const std::string& url_or_target) {
    std::string out = url_or_target;
    auto cut = out.find_first_of("?#");
    if (cut != std::string::npos) out = out.substr(0, cut) + (out[cut] == '?' ? "?..." : "");
    // scheme://user:password@host/... -> scheme://host/...
    auto scheme_end = out.find("://");
    if (scheme_end != std::string::npos) {
        auto authority_start = scheme_end + 3;
        auto authority_end = out.find('/', authority_start);
        auto at = out.rfind('@', authority_end == std::string::npos ? std::string::npos : authority_end);
        if (at != std::string::npos && at >= authority_start) out.erase(authority_start, at + 1 - authority_start);
    }
    return out;
}

namespace {

// Whether one link's parameters (`; rel="next last"; title=x`) name the relation type "next".
bool relation_is_next(const std::string& params) {
    std::size_t start = 0;
    while (start < params.size()) {
        auto semicolon = params.find(';', start);
        std::string param = params.substr(start, semicolon == std::string::npos ? std::string::npos : semicolon - start);
        start = semicolon == std::string::npos ? params.size() : semicolon + 1;
        auto eq = param.find('=');
        if (eq == std::string::npos) continue;
        std::string name, value;
        for (char c : param.substr(0, eq))
            if (c != ' ' && c != '\t') name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (name != "rel") continue;
        for (char c : param.substr(eq + 1))
            value += c == '"' || c == '\t' ? ' ' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::size_t pos = 0;
        while ((pos = value.find_first_not_of(' ', pos)) != std::string::npos) {
            auto end = value.find(' ', pos);
            if (value.substr(pos, end - pos) == "next") return true;
            pos = end;
        }
        return false;  // only the first rel parameter counts (RFC 8288 §3.3)
    }
    return false;
}

}  // namespace

std::optional<std::string> next_page_url(const std::string& request_url, const HeaderList& headers) {
    for (const auto& value : find_headers(headers, "Link")) {
        // One header may carry several links: <a>; rel="prev", <b>; rel=next
        std::size_t pos = 0;
        while ((pos = value.find('<', pos)) != std::string::npos) {
            auto close = value.find('>', pos);
            if (close == std::string::npos) break;
            auto following = value.find('<', close);
            std::string params = value.substr(close + 1, following == std::string::npos ? std::string::npos
                                                                                        : following - close - 1);
            if (auto comma = params.rfind(','); comma != std::string::npos && following != std::string::npos)
                params = params.substr(0, comma);
            if (relation_is_next(params)) return resolve_location(request_url, value.substr(pos + 1, close - pos - 1));
            pos = close;
        }
    }
    return std::nullopt;
}

std::string resolve_location(const std::string& request_url, const std::string& location) {
    try {
        Poco::URI base(request_url);
        // Poco takes "//host/path" for a path; RFC 3986 makes it a new authority under the request's scheme.
        base.resolve(location.rfind("//", 0) == 0 ? base.getScheme() + ":" + location : location);
        return base.toString();
    } catch (const Poco::Exception& e) {
        throw_registry("the registry sent a malformed Location header " + quote(redact_url(location)) + ": " +
                       e.message());
    }
}

}  // namespace digestflow::registry
