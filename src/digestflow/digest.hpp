// Content digests (`algorithm:encoded`) per the OCI descriptor rules and go-digest's validation order,
// and streaming SHA-256/SHA-512 over OpenSSL EVP.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace digestflow {

class Digest {
public:
    // Validates in go-digest's order: format (':' present, not first or last) -> algorithm grammar and
    // availability (only sha256 and sha512 are available) -> length -> lowercase hex.
    // Throws Error(Usage) naming the input and what is wrong.
    static Digest parse(std::string_view text);
    // Same checks; returns the reason instead of throwing. nullopt = valid.
    static std::optional<std::string> validation_error(std::string_view text);
    static bool is_valid(std::string_view text) { return !validation_error(text); }

    // Digest of a complete byte string.
    static Digest of(std::string_view bytes, std::string_view algorithm = "sha256");

    const std::string& str() const { return m_text; }
    std::string algorithm() const;  // "sha256"
    std::string encoded() const;    // the hex part
    bool operator==(const Digest& other) const = default;

private:
    explicit Digest(std::string text) : m_text(std::move(text)) {}
    std::string m_text;
};

// Incremental hashing for streamed content (blob copies, bounded manifest reads).
class DigestHasher {
public:
    explicit DigestHasher(std::string_view algorithm = "sha256");  // throws Error(Usage) for others
    ~DigestHasher();
    DigestHasher(DigestHasher&&) noexcept;
    DigestHasher& operator=(DigestHasher&&) noexcept;
    DigestHasher(const DigestHasher&) = delete;
    DigestHasher& operator=(const DigestHasher&) = delete;

    void update(const void* data, std::size_t size);
    void update(std::string_view bytes) { update(bytes.data(), bytes.size()); }
    Digest finish();  // once; further use throws std::logic_error

private:
    struct State;
    std::unique_ptr<State> m_state;
    std::string m_algorithm;
};

namespace detail {

// Why `text` is not a valid digest, starting with go-digest's phrase ("invalid checksum digest format",
// "invalid checksum digest length", "unsupported digest algorithm") and not naming the input, so callers
// can put their own context in front. nullopt = valid.
std::optional<std::string> digest_problem(std::string_view text);

}  // namespace detail

}  // namespace digestflow
