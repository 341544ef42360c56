#include "digestflow/registry/auth.hpp"

#include "digestflow/error.hpp"
#include "digestflow/json_input.hpp"
#include "digestflow/registry/registry_errors.hpp"

#include <Poco/Base64Encoder.h>
#include <Poco/URI.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <sstream>

namespace digestflow::registry {
namespace {

constexpr int minimum_token_seconds = 60;  // token servers may say less; the protocol says never below 60
constexpr int expiry_margin_seconds = 10;  // renew a little early rather than send a token that just expired

std::string base64(const std::string& text) {
    std::ostringstream out;
    Poco::Base64Encoder encoder(out);
    encoder.rdbuf()->setLineLength(0);
    encoder << text;
    encoder.close();
    return out.str();
}

std::string basic_header(const Credentials& creds) { return "Basic " + base64(creds.username + ":" + creds.password); }

}  // namespace

std::string pull_scope(const std::string& repository_path) { return "repository:" + repository_path + ":pull"; }
std::string push_scope(const std::string& repository_path) {
    return "repository:" + repository_path + ":pull,push";
}

Authenticator::Authenticator(Transport& transport, const CredentialStore& credentials, RetryPolicy retry)
    : m_transport(transport), m_credentials(credentials), m_retry(retry) {}

std::string Authenticator::cache_key(const std::string& registry, const Scopes& scopes) {
    std::string key = registry;
    if (scopes.size() == 1) return key + " " + scopes.front();  // the usual case: nothing to sort
    Scopes sorted = scopes;
    std::sort(sorted.begin(), sorted.end());
    for (const auto& s : sorted) key += " " + s;
    return key;
}

std::vector<Authenticator::ParsedScope> Authenticator::parse_scopes(const Scopes& scopes) {
    std::vector<ParsedScope> parsed;
    for (const auto& scope : scopes) {
        // The actions follow the last ':' ("repository:host:5000/app:pull" names "host:5000/app").
        const std::size_t colon = scope.rfind(':');
        ParsedScope one{scope.substr(0, colon == std::string::npos ? scope.size() : colon), {}};
        for (std::size_t start = colon == std::string::npos ? scope.size() : colon + 1; start < scope.size();) {
            std::size_t comma = std::min(scope.find(',', start), scope.size());
            if (comma > start) one.actions.insert(scope.substr(start, comma - start));
            start = comma + 1;
        }
        parsed.push_back(std::move(one));
    }
    return parsed;
}

bool Authenticator::covers(const std::vector<ParsedScope>& held, const std::vector<ParsedScope>& needed) {
    return std::all_of(needed.begin(), needed.end(), [&](const auto& need) {
        return std::any_of(held.begin(), held.end(), [&](const auto& have) {
            return have.resource == need.resource &&
                   (have.actions.count("*") != 0 ||
                    std::includes(have.actions.begin(), have.actions.end(), need.actions.begin(), need.actions.end()));
        });
    });
}

void Authenticator::expect_push(const std::string& registry, const std::string& repository_path,
                                const std::string& mount_from) {
    constexpr std::size_t max_mount_sources = 4;  // a token asked for every source of a long list helps nobody
    std::lock_guard lock(m_mutex);
    auto& sources = m_registries[registry].pushes[repository_path];
    if (!mount_from.empty() && mount_from != repository_path && sources.size() < max_mount_sources &&
        std::find(sources.begin(), sources.end(), mount_from) == sources.end())
        sources.push_back(mount_from);
}

Scopes Authenticator::wanted_scopes(const RegistryAuth& state, const Scopes& scopes) {
    // The first scope is the repository the request addresses; the others (a mount's source) stay as they are.
    if (state.pushes.empty() || scopes.empty()) return scopes;
    const ParsedScope addressed = parse_scopes({scopes.front()}).front();
    const std::string prefix = "repository:";
    if (addressed.resource.rfind(prefix, 0) != 0) return scopes;
    auto push = state.pushes.find(addressed.resource.substr(prefix.size()));
    if (push == state.pushes.end()) return scopes;

    Scopes wanted = scopes;
    bool widened = false;
    if (addressed.actions == std::set<std::string>{"pull"}) {
        wanted.front() = push_scope(push->first);
        widened = true;
    }
    for (const auto& source : push->second) {
        const std::string resource = prefix + source + ":";
        auto named = [&](const std::string& s) { return s.rfind(resource, 0) == 0; };
        if (std::none_of(wanted.begin(), wanted.end(), named)) {
            wanted.push_back(pull_scope(source));
            widened = true;
        }
    }
    return widened ? wanted : scopes;
}

const Authenticator::CachedCredentials& Authenticator::credentials_for(const std::string& registry,
                                                                       const std::string& repository_path) {
    std::string key = registry + "/" + repository_path;
    {
        std::lock_guard lock(m_mutex);
        auto found = m_credential_cache.find(key);
        if (found != m_credential_cache.end()) return found->second;
    }
    CachedCredentials cached{m_credentials.lookup(registry, repository_path), ""};
    if (cached.credentials && !cached.credentials->username.empty()) cached.basic = basic_header(*cached.credentials);
    std::lock_guard lock(m_mutex);
    return m_credential_cache.emplace(std::move(key), std::move(cached)).first->second;  // the first answer stays
}

std::string Authenticator::credential_source(const std::string& registry, const std::string& repository_path) {
    const auto& creds = credentials_for(registry, repository_path).credentials;
    return creds ? creds->source : "anonymous (no credentials configured for " + registry + ")";
}

std::optional<Authenticator::Authorization> Authenticator::cached_token(const std::string& registry,
                                                                        const RegistryAuth& state,
                                                                        const Scopes& scopes,
                                                                        const std::string& needed_key) {
    const auto now = std::chrono::steady_clock::now();
    const bool exact_only = state.exact_only.count(needed_key) != 0;
    auto found = m_tokens.find(needed_key);
    if (found != m_tokens.end() && found->second.expires > now && (!exact_only || found->second.asked_key == needed_key))
        return Authorization{found->second.header, found->second.asked_key != needed_key};
    if (exact_only) return std::nullopt;
    // Any live token of this registry asked for these scopes or more; filed under the need's key for next time.
    const std::vector<ParsedScope> needed = parse_scopes(scopes);
    if (needed.empty()) return std::nullopt;
    auto candidates = m_tokens_by_resource.find(registry + " " + needed.front().resource);
    if (candidates == m_tokens_by_resource.end()) return std::nullopt;
    for (const std::string& key : candidates->second) {
        auto candidate = m_tokens.find(key);
        if (candidate == m_tokens.end()) continue;  // dropped since
        const Token& token = candidate->second;
        if (token.expires <= now || token.asked_key != key || !covers(token.scopes, needed)) continue;
        Token alias = token;
        m_tokens[needed_key] = std::move(alias);
        return Authorization{token.header, true};
    }
    return std::nullopt;
}

std::optional<Authenticator::Authorization> Authenticator::authorization(const std::string& registry,
                                                                         const std::string& repository_path,
                                                                         const Scopes& scopes) {
    const std::string needed_key = cache_key(registry, scopes);
    Challenge challenge;
    Scopes wanted;
    {
        std::lock_guard lock(m_mutex);
        auto found = m_registries.find(registry);
        if (found == m_registries.end() || found->second.challenge.scheme.empty()) return std::nullopt;
        const RegistryAuth& state = found->second;
        if (state.challenge.scheme == "bearer") {
            if (auto token = cached_token(registry, state, scopes, needed_key)) return token;
            challenge = state.challenge;  // copied only when a token is to be fetched
            wanted = state.exact_only.count(needed_key) ? scopes : wanted_scopes(state, scopes);
        } else {
            challenge.scheme = state.challenge.scheme;
        }
    }
    if (challenge.scheme == "basic") {
        const auto& cached = credentials_for(registry, repository_path);
        if (cached.basic.empty()) return std::nullopt;
        return Authorization{cached.basic, false};
    }
    if (challenge.scheme != "bearer") return std::nullopt;

    // One fetch at a time, so parallel workers needing the same scope ask the token server once.
    std::lock_guard fetching(m_fetch_mutex);
    {
        std::lock_guard lock(m_mutex);
        const RegistryAuth& state = m_registries[registry];
        if (auto token = cached_token(registry, state, scopes, needed_key)) return token;
        if (state.exact_only.count(needed_key)) wanted = scopes;  // narrowed meanwhile
    }
    auto fetch = [&](const Scopes& asked) {
        try {
            return fetch_token(registry, repository_path, challenge, asked);
        } catch (const FinalError&) {
            throw;
        } catch (const Error& e) {
            // The token request has had its retries already: the registry request that needed the token
            // must not run them all again (4 x 4 token requests, each waiting out a Retry-After).
            throw FinalError(e.kind(), e.what());
        }
    };
    Token token;
    std::string asked_key = cache_key(registry, wanted);
    try {
        token = fetch(wanted);
    } catch (const Error& e) {
        // A token server may refuse the wider request outright rather than grant less: ask for what is needed.
        if (asked_key == needed_key || e.kind() != ErrorKind::Auth) throw;
        {
            std::lock_guard lock(m_mutex);
            m_registries[registry].exact_only.insert(needed_key);
        }
        wanted = scopes;
        asked_key = needed_key;
        token = fetch(wanted);
    }
    token.header = "Bearer " + token.value;
    token.asked_key = asked_key;
    token.scopes = parse_scopes(wanted);
    std::lock_guard lock(m_mutex);
    for (const auto& scope : token.scopes) m_tokens_by_resource[registry + " " + scope.resource].insert(asked_key);
    m_tokens[asked_key] = token;
    if (asked_key != needed_key) m_tokens[needed_key] = token;
    return Authorization{token.header, asked_key != needed_key};
}

void Authenticator::narrow(const std::string& registry, const Scopes& scopes, const std::string& sent) {
    const std::string needed_key = cache_key(registry, scopes);
    std::lock_guard lock(m_mutex);
    m_registries[registry].exact_only.insert(needed_key);
    auto found = m_tokens.find(needed_key);
    if (found != m_tokens.end() && found->second.asked_key != needed_key && found->second.header == sent)
        m_tokens.erase(found);
}

bool Authenticator::on_unauthorized(const std::string& registry, const std::string& /*repository_path*/,
                                    const Scopes& scopes, const HttpResponse& response,
                                    const std::optional<std::string>& sent) {
    auto challenges = parse_challenges(find_headers(response.headers, "WWW-Authenticate"));
    // Prefer Bearer when a registry offers both.
    auto chosen = std::find_if(challenges.begin(), challenges.end(), [](const Challenge& c) { return c.scheme == "bearer"; });
    if (chosen == challenges.end())
        chosen = std::find_if(challenges.begin(), challenges.end(), [](const Challenge& c) { return c.scheme == "basic"; });
    if (chosen == challenges.end()) return false;

    std::lock_guard lock(m_mutex);
    auto& state = m_registries[registry];
    state.challenge = *chosen;
    if (!sent) return true;  // we sent nothing: now that the challenge is known, credentials can go along
    if (chosen->scheme == "bearer") {
        // The token we sent was refused (expired early, or lacks the scope): drop it wherever it is filed,
        // unless another thread already replaced it, and fetch once more.
        auto cached = m_tokens.find(cache_key(registry, scopes));
        if (cached != m_tokens.end() && cached->second.header == *sent) {
            const std::string asked_key = cached->second.asked_key;
            m_tokens.erase(cached);
            auto asked = m_tokens.find(asked_key);
            if (asked != m_tokens.end() && asked->second.header == *sent) m_tokens.erase(asked);
        }
        return true;
    }
    return false;  // Basic credentials were refused: sending them again changes nothing
}

Authenticator::Token Authenticator::fetch_token(const std::string& registry, const std::string& repository_path,
                                                const Challenge& challenge, const Scopes& scopes) {
    auto realm = challenge.params.find("realm");
    if (realm == challenge.params.end() || realm->second.empty())
        throw_auth(registry + " asked for a bearer token but named no realm to get it from");
    std::string realm_url = realm->second;
    UrlParts realm_parts = split_url(realm_url);
    const auto& creds = credentials_for(registry, repository_path).credentials;

    // Credentials never travel in clear text, except to loopback or a host the user named insecure.
    if (creds && realm_parts.scheme == "http" && !is_loopback_host(realm_parts.host) &&
        !m_transport.is_insecure_host(realm_parts.authority()))
        throw_auth("the token realm " + redact_url(realm_url) + " of " + registry +
                   " is plain HTTP; refusing to send credentials there (name it with --insecure-registry " +
                   realm_parts.authority() + " if that is intended)");

    if (creds && !creds->registry_token.empty())
        return Token{creds->registry_token, std::chrono::steady_clock::now() + std::chrono::seconds(minimum_token_seconds)};

    HttpRequest request;
    std::string service = challenge.params.count("service") ? challenge.params.at("service") : "";
    if (creds && !creds->identity_token.empty()) {
        // OAuth2 refresh-token grant: how docker's identity tokens are exchanged.
        request.method = "POST";
        request.url = realm_url;
        set_header(request.headers, "Content-Type", "application/x-www-form-urlencoded");
        std::string scope_text;
        for (const auto& s : scopes) scope_text += (scope_text.empty() ? "" : " ") + s;
        std::string encoded;
        auto add = [&](const std::string& k, const std::string& v) {
            std::string e;
            Poco::URI::encode(v, "!#$&'()*+,/:;=?@[] ", e);
            encoded += (encoded.empty() ? "" : "&") + k + "=" + e;
        };
        add("grant_type", "refresh_token");
        add("refresh_token", creds->identity_token);
        add("service", service);
        add("client_id", "digestflow");
        add("scope", scope_text);
        request.body = encoded;
    } else {
        Poco::URI uri(realm_url);
        if (!service.empty()) uri.addQueryParameter("service", service);
        for (const auto& s : scopes) uri.addQueryParameter("scope", s);
        if (creds && !creds->username.empty()) {
            uri.addQueryParameter("account", creds->username);
            set_header(request.headers, "Authorization", basic_header(*creds));
        }
        request.method = "GET";
        request.url = uri.toString();
    }
    request.max_response_body = 1024 * 1024;
    // A token request changes nothing on the server: repeat it like any idempotent request.
    HttpResponse response =
        send_with_retries(m_retry, RetryMode::Repeatable, true, [&] { return m_transport.send(request); });
    std::string who = creds ? "the credentials from " + creds->source : "anonymous access";
    if (response.status == 401 || response.status == 403)
        throw_auth("token server " + realm_parts.authority() + " refused " + who + " for " + registry + " (" +
                   describe_registry_answer(response) + ")");
    if (response.status != 200) throw_for_response(response, "requesting a token for " + registry + " from " + realm_parts.authority());

    auto parsed = try_parse_json(response.body);
    if (!parsed || !parsed->is_object())
        throw_registry("token server " + realm_parts.authority() + " answered with something that is not JSON");
    const nlohmann::json& doc = *parsed;
    std::string value;
    if (doc.contains("access_token") && doc["access_token"].is_string()) value = doc["access_token"];
    if (value.empty() && doc.contains("token") && doc["token"].is_string()) value = doc["token"];
    if (value.empty()) throw_registry("token server " + realm_parts.authority() + " answered without a token");
    int lifetime = minimum_token_seconds;
    if (doc.contains("expires_in") && doc["expires_in"].is_number_integer())
        lifetime = std::max(minimum_token_seconds, doc["expires_in"].get<int>());
    return Token{value, std::chrono::steady_clock::now() + std::chrono::seconds(lifetime - expiry_margin_seconds)};
}

}  // namespace digestflow::registry
