// SSH wire encoding (RFC 4251 §5): uint32 big-endian, "string" = uint32 length + bytes, "mpint" = a string
// holding a two's-complement big-endian integer. What SSH keys and SSHSIG signatures are made of.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace digestflow::gate {

// A blob that does not parse: the message says which field (e.g. "truncated string (namespace)").
class SshFormatError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class SshReader {
public:
    explicit SshReader(std::string_view bytes) : m_bytes(bytes) {}
    std::uint8_t byte(const char* what);
    std::uint32_t u32(const char* what);
    std::string_view string(const char* what);
    std::string_view raw(std::size_t count, const char* what);
    // An mpint that must be non-negative: its magnitude, big-endian, without leading zero bytes.
    std::string_view positive_mpint(const char* what);
    bool at_end() const { return m_at == m_bytes.size(); }
    void expect_end(const char* what) const;  // throws when bytes are left after `what`

private:
    std::string_view m_bytes;
    std::size_t m_at = 0;
};

void put_u32(std::string& out, std::uint32_t value);
void put_string(std::string& out, std::string_view bytes);

}  // namespace digestflow::gate
