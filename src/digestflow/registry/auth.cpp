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
    Scopes sorted = scopes;
    std::sort(sorted.begin(), sorted.end());
    std::string key = registry;
    for (const auto& s : sorted) key += " " + s;
    return key;
}

std::optional<Credentials> Authenticator::credentials_for(const std::string& registry,
                                                          const std::string& repository_path) {
    std::string key = registry + "/" + repository_path;
    {
        std::lock_guard lock(m_mutex);
        auto found = m_credential_cache.find(key);
        if (found != m_credential_cache.end()) return found->second;
    }
    auto creds = m_credentials.lookup(registry, repository_path);
    std::lock_guard lock(m_mutex);
    m_credential_cache[key] = creds;
    return creds;
}

std::string Authenticator::credential_source(const std::string& registry, const std::string& repository_path) {
    auto creds = credentials_for(registry, repository_path);
    return creds ? creds->source : "anonymous (no credentials configured for " + registry + ")";
}

std::optional<std::string> Authenticator::authorization(const std::string& registry,
                                                        const std::string& repository_path, const Scopes& scopes) {
    Challenge challenge;
    {
        std::lock_guard lock(m_mutex);
        auto found = m_registries.find(registry);
        if (found == m_registries.end() || found->second.challenge.scheme.empty()) return std::nullopt;
        challenge = found->second.challenge;
        if (challenge.scheme == "bearer") {
            auto token = m_tokens.find(cache_key(registry, scopes));
            if (token != m_tokens.end() && token->second.expires > std::chrono::steady_clock::now())
                return "Bearer " + token->second.value;
        }
    }
    if (challenge.scheme == "basic") {
        auto creds = credentials_for(registry, repository_path);
        if (!creds || creds->username.empty()) return std::nullopt;
        return basic_header(*creds);
    }
    if (challenge.scheme == "bearer") {
        // One fetch at a time, so parallel workers needing the same scope ask the token server once.
        std::lock_guard fetching(m_fetch_mutex);
        {
            std::lock_guard lock(m_mutex);
            auto token = m_tokens.find(cache_key(registry, scopes));
            if (token != m_tokens.end() && token->second.expires > std::chrono::steady_clock::now())
                return "Bearer " + token->second.value;
        }
        Token token;
        try {
            token = fetch_token(registry, repository_path, challenge, scopes);
        } catch (const FinalError&) {
            throw;
        } catch (const Error& e) {
            // The token request has had its retries already: the registry request that needed the token
            // must not run them all again (4 x 4 token requests, each waiting out a Retry-After).
            throw FinalError(e.kind(), e.what());
        }
        std::lock_guard lock(m_mutex);
        m_tokens[cache_key(registry, scopes)] = token;
        return "Bearer " + token.value;
    }
    return std::nullopt;
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
        // The token we sent was refused (expired early, or lacks the scope): drop it, unless another thread
        // already replaced it, and fetch once more.
        auto cached = m_tokens.find(cache_key(registry, scopes));
        if (cached != m_tokens.end() && "Bearer " + cached->second.value == *sent) m_tokens.erase(cached);
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
    auto creds = credentials_for(registry, repository_path);

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
