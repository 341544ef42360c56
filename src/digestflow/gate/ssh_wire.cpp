#include "digestflow/gate/ssh_wire.hpp"

namespace digestflow::gate {

std::string_view SshReader::raw(std::size_t count, const char* what) {
    if (m_bytes.size() - m_at < count) throw SshFormatError(std::string("truncated ") + what);
    const std::string_view out = m_bytes.substr(m_at, count);
    m_at += count;
    return out;
}

std::uint8_t SshReader::byte(const char* what) { return static_cast<std::uint8_t>(raw(1, what)[0]); }

std::uint32_t SshReader::u32(const char* what) {
    const std::string_view b = raw(4, what);
    return (std::uint32_t{static_cast<std::uint8_t>(b[0])} << 24) | (std::uint32_t{static_cast<std::uint8_t>(b[1])} << 16) |
           (std::uint32_t{static_cast<std::uint8_t>(b[2])} << 8) | std::uint32_t{static_cast<std::uint8_t>(b[3])};
}

std::string_view SshReader::string(const char* what) { return raw(u32(what), what); }

std::string_view SshReader::positive_mpint(const char* what) {
    std::string_view value = string(what);
    if (!value.empty() && (static_cast<std::uint8_t>(value[0]) & 0x80) != 0)
        throw SshFormatError(std::string("negative ") + what);
    while (!value.empty() && value[0] == '\0') value.remove_prefix(1);
    return value;
}

void SshReader::expect_end(const char* what) const {
    if (!at_end()) throw SshFormatError(std::string("trailing bytes after ") + what);
}

void put_u32(std::string& out, std::uint32_t value) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((value >> shift) & 0xff));
}

void put_string(std::string& out, std::string_view bytes) {
    put_u32(out, static_cast<std::uint32_t>(bytes.size()));
    out.append(bytes);
}

}  // namespace digestflow::gate
