#include "digestflow/digest.hpp"

#include "digestflow/error.hpp"
#include "digestflow/quote.hpp"

#include <openssl/evp.h>

#include <new>
#include <stdexcept>

namespace digestflow {
namespace {

struct AlgorithmInfo {
    std::string_view name;
    std::size_t hex_length;
    const EVP_MD* (*md)();
};

// The algorithms go-digest makes available by default; everything else that fits the grammar is
// "unsupported", not malformed.
constexpr AlgorithmInfo k_algorithms[] = {
    {"sha256", 64, &EVP_sha256},
    {"sha512", 128, &EVP_sha512},
};

const AlgorithmInfo* find_algorithm(std::string_view name) {
    for (const auto& info : k_algorithms)
        if (info.name == name) return &info;
    return nullptr;
}

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// [a-z0-9]+([+._-][a-z0-9]+)*
bool is_algorithm_grammar(std::string_view s) {
    std::size_t i = 0;
    while (true) {
        std::size_t start = i;
        while (i < s.size() && is_lower_alnum(s[i])) ++i;
        if (i == start) return false;
        if (i == s.size()) return true;
        char sep = s[i];
        if (sep != '+' && sep != '.' && sep != '_' && sep != '-') return false;
        ++i;
    }
}

// [a-zA-Z0-9=_-]+
bool is_encoded_grammar(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s) {
        bool ok = is_lower_alnum(c) || (c >= 'A' && c <= 'Z') || c == '=' || c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

constexpr char k_hex_digits[] = "0123456789abcdef";

std::string supported_list() {
    std::string out;
    for (const auto& info : k_algorithms) {
        if (!out.empty()) out += ", ";
        out += info.name;
    }
    return out;
}

}  // namespace

namespace detail {


std::optional<std::string> digest_problem(std::string_view text) {
    auto colon = text.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size())
        return "invalid checksum digest format: expected <algorithm>:<hex>, e.g. sha256:<64 lowercase hex "
               "digits>";

    auto algorithm = text.substr(0, colon);
    auto encoded = text.substr(colon + 1);
    const AlgorithmInfo* info = find_algorithm(algorithm);
    if (!info) {
        // Same order as go-digest: an algorithm we cannot compute is only "unsupported" when the
        // whole digest is otherwise well formed.
        if (!is_algorithm_grammar(algorithm))
            return "invalid checksum digest format: algorithm " + quote(algorithm, 300) +
                   " must be lowercase letters and digits joined by '+', '.', '_' or '-'";
        if (!is_encoded_grammar(encoded))
            return "invalid checksum digest format: the part after ':' may only contain letters, digits, "
                   "'=', '_' and '-'";
        return "unsupported digest algorithm " + quote(algorithm, 300) + " (supported: " +
               supported_list() + ")";
    }
    // Length before characters, as go-digest does.
    if (encoded.size() != info->hex_length)
        return "invalid checksum digest length: " + std::string(info->name) + " needs " +
               std::to_string(info->hex_length) + " hex digits, got " + std::to_string(encoded.size());
    for (char c : encoded) {
        if (!is_lower_hex(c))
            return "invalid checksum digest format: " + std::string(info->name) +
                   " must be lowercase hex [0-9a-f], found " + quote(std::string_view(&c, 1));
    }
    return std::nullopt;
}

}  // namespace detail

Digest Digest::parse(std::string_view text) {
    if (auto problem = validation_error(text)) throw_usage(*problem);
    return Digest(std::string(text));
}

std::optional<std::string> Digest::validation_error(std::string_view text) {
    auto problem = detail::digest_problem(text);
    if (!problem) return std::nullopt;
    return "invalid digest " + quote(text, 300) + ": " + *problem;
}

namespace {

// SHA-256 of a whole string with one context per thread and one fetch of the algorithm: record verify hashes
// every line of a ledger, and a fresh context per line costs more than hashing the line. nullopt when OpenSSL
// fails (the caller falls back to DigestHasher, which reports the error).
std::optional<std::string> sha256_text(std::string_view bytes) {
    struct Context {
        EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
        EVP_MD_CTX* ctx = EVP_MD_CTX_new();
        ~Context() {
            EVP_MD_CTX_free(ctx);
            EVP_MD_free(md);
        }
    };
    thread_local Context context;
    unsigned char hash[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (!context.md || !context.ctx || EVP_DigestInit_ex2(context.ctx, context.md, nullptr) != 1 ||
        EVP_DigestUpdate(context.ctx, bytes.data(), bytes.size()) != 1 ||
        EVP_DigestFinal_ex(context.ctx, hash, &size) != 1)
        return std::nullopt;
    static constexpr char hex[] = "0123456789abcdef";
    std::string out = "sha256:";
    out.reserve(7 + 2 * size);
    for (unsigned int i = 0; i < size; ++i) {
        out += hex[hash[i] >> 4];
        out += hex[hash[i] & 15];
    }
    return out;
}

}  // namespace

Digest Digest::of(std::string_view bytes, std::string_view algorithm) {
    if (algorithm == "sha256")
        if (auto text = sha256_text(bytes)) return Digest(std::move(*text));
    DigestHasher hasher(algorithm);
    hasher.update(bytes);
    return hasher.finish();
}

std::string Digest::algorithm() const { return m_text.substr(0, m_text.find(':')); }

std::string Digest::encoded() const {
    auto colon = m_text.find(':');
    return colon == std::string::npos ? std::string() : m_text.substr(colon + 1);
}

struct DigestHasher::State {
    EVP_MD_CTX* ctx = nullptr;
    bool finished = false;

    State() = default;
    State(const State&) = delete;
    State& operator=(const State&) = delete;
    ~State() { EVP_MD_CTX_free(ctx); }
};

DigestHasher::DigestHasher(std::string_view algorithm) : m_algorithm(algorithm) {
    const AlgorithmInfo* info = find_algorithm(algorithm);
    if (!info)
        throw_usage("unsupported digest algorithm " + quote(algorithm, 300) + " (supported: " +
                    supported_list() + ")");
    m_state = std::make_unique<State>();
    m_state->ctx = EVP_MD_CTX_new();
    if (!m_state->ctx) throw std::bad_alloc();
    if (EVP_DigestInit_ex(m_state->ctx, info->md(), nullptr) != 1)
        throw std::runtime_error("OpenSSL could not initialise " + m_algorithm + " hashing");
}

DigestHasher::~DigestHasher() = default;
DigestHasher::DigestHasher(DigestHasher&&) noexcept = default;
DigestHasher& DigestHasher::operator=(DigestHasher&&) noexcept = default;

void DigestHasher::update(const void* data, std::size_t size) {
    if (!m_state || m_state->finished) throw std::logic_error("DigestHasher::update after finish()");
    if (size == 0) return;
    if (EVP_DigestUpdate(m_state->ctx, data, size) != 1)
        throw std::runtime_error("OpenSSL " + m_algorithm + " hashing failed");
}

Digest DigestHasher::finish() {
    if (!m_state || m_state->finished) throw std::logic_error("DigestHasher::finish called twice");
    m_state->finished = true;
    unsigned char raw[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(m_state->ctx, raw, &length) != 1)
        throw std::runtime_error("OpenSSL " + m_algorithm + " hashing failed");
    std::string text = m_algorithm + ":";
    text.reserve(text.size() + 2 * length);
    for (unsigned int i = 0; i < length; ++i) {
        text += k_hex_digits[raw[i] >> 4];
        text += k_hex_digits[raw[i] & 0xf];
    }
    // Goes through parse so a hasher can never hand out a digest the parser would refuse.
    return Digest::parse(text);
}

}  // namespace digestflow
