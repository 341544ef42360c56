#include "digestflow/registry/response_reader.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string_view>

namespace digestflow::registry {
namespace {

constexpr std::size_t buffer_size = 64 * 1024;
constexpr std::size_t max_line = 16 * 1024;     // one status or header line
constexpr std::size_t max_head = 64 * 1024;     // all of them
constexpr std::size_t max_headers = 256;
constexpr std::size_t max_chunk_line = 4096;    // a chunk size with extensions

std::string lower(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

std::string trim(const std::string& text) {
    auto first = text.find_first_not_of(" \t");
    if (first == std::string::npos) return "";
    return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

bool is_token_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

// Comma-separated list elements of every header with this name, trimmed and lower-cased.
std::vector<std::string> list_elements(const HeaderList& headers, const std::string& name) {
    std::vector<std::string> out;
    for (const auto& value : find_headers(headers, name)) {
        std::size_t start = 0;
        while (start <= value.size()) {
            auto comma = value.find(',', start);
            if (comma == std::string::npos) comma = value.size();
            std::string element = lower(trim(value.substr(start, comma - start)));
            if (!element.empty()) out.push_back(element);
            start = comma + 1;
        }
    }
    return out;
}

std::int64_t parse_length(const std::string& text) {
    if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos)
        throw FramingError("invalid Content-Length \"" + text.substr(0, 40) + "\"", false);
    return std::stoll(text);
}

}  // namespace

ResponseReader::ResponseReader(ByteSource source) : m_source(std::move(source)), m_buffer(buffer_size) {}

void ResponseReader::reset() {
    m_begin = m_end = 0;
    m_received_any = false;
    m_close_requested = false;
    m_framing = Framing::None;
    m_remaining = 0;
    m_chunk_state = ChunkState::Size;
    m_body_done = false;
    m_body_bytes = 0;
}

bool ResponseReader::fill() {
    if (m_begin == m_end) m_begin = m_end = 0;
    if (m_end == m_buffer.size()) {
        std::memmove(m_buffer.data(), m_buffer.data() + m_begin, m_end - m_begin);
        m_end -= m_begin;
        m_begin = 0;
    }
    std::size_t n = m_source(m_buffer.data() + m_end, m_buffer.size() - m_end);
    if (n == 0) return false;
    m_end += n;
    m_received_any = true;
    return true;
}

std::optional<std::string> ResponseReader::next_line(std::size_t limit, const char* what) {
    for (std::size_t scanned = 0;;) {
        const char* start = m_buffer.data() + m_begin;
        const char* newline =
            static_cast<const char*>(std::memchr(start + scanned, '\n', m_end - m_begin - scanned));
        if (newline) {
            std::string line(start, newline);
            m_begin += line.size() + 1;
            if (!line.empty() && line.back() == '\r') line.pop_back();
            return line;
        }
        scanned = m_end - m_begin;
        if (scanned > limit) throw FramingError(std::string(what) + " longer than " + std::to_string(limit) + " bytes", false);
        if (!fill()) return std::nullopt;
    }
}

std::string ResponseReader::read_line(std::size_t limit, const char* what) {
    auto line = next_line(limit, what);
    if (!line) throw FramingError(std::string("the connection closed in the middle of the ") + what, !m_received_any);
    return *line;
}

ResponseHead ResponseReader::read_head(bool no_body) {
    for (;;) {
        ResponseHead head;
        std::string status_line = read_line(max_line, "status line");
        // "HTTP/1.1 200 OK": version, a three-digit code, an optional reason.
        if (status_line.size() < 12 || status_line.compare(0, 7, "HTTP/1.") != 0 || status_line[8] != ' ' ||
            !std::isdigit(static_cast<unsigned char>(status_line[9])) ||
            !std::isdigit(static_cast<unsigned char>(status_line[10])) ||
            !std::isdigit(static_cast<unsigned char>(status_line[11])) ||
            (status_line.size() > 12 && status_line[12] != ' '))
            throw FramingError("not an HTTP/1.x status line: \"" + status_line.substr(0, 60) + "\"", false);
        bool http10 = status_line[7] == '0';
        head.status = std::stoi(status_line.substr(9, 3));
        head.reason = status_line.size() > 13 ? status_line.substr(13) : "";
        std::size_t head_bytes = status_line.size();
        for (;;) {
            std::string line = read_line(max_line, "response headers");
            if (line.empty()) break;
            head_bytes += line.size();
            if (head_bytes > max_head || head.headers.size() >= max_headers)
                throw FramingError("response headers larger than " + std::to_string(max_head) + " bytes", false);
            if (line.front() == ' ' || line.front() == '\t')
                throw FramingError("folded header line (obsolete and refused)", false);
            auto colon = line.find(':');
            if (colon == std::string::npos || colon == 0 ||
                !std::all_of(line.begin(), line.begin() + static_cast<std::ptrdiff_t>(colon), is_token_char))
                throw FramingError("malformed header line \"" + line.substr(0, 60) + "\"", false);
            head.headers.emplace_back(line.substr(0, colon), trim(line.substr(colon + 1)));
        }
        if (head.status >= 100 && head.status < 200 && head.status != 101) continue;  // interim answer
        auto connection = list_elements(head.headers, "Connection");
        bool keep_alive = std::find(connection.begin(), connection.end(), "keep-alive") != connection.end();
        m_close_requested = std::find(connection.begin(), connection.end(), "close") != connection.end() ||
                            (http10 && !keep_alive) || head.status == 101;
        set_framing(head, no_body);
        return head;
    }
}

bool ResponseReader::drop_buffered_interim() {
    while (m_begin < m_end) {
        std::string_view buffered(m_buffer.data() + m_begin, m_end - m_begin);
        // "HTTP/1.1 1xx", not 101 (a protocol switch is a final answer to us), with its whole head here.
        if (buffered.size() < 12 || buffered.compare(0, 7, "HTTP/1.") != 0 || buffered[9] != '1' ||
            buffered.compare(9, 3, "101") == 0)
            return false;
        auto end = buffered.find("\r\n\r\n");
        if (end == std::string_view::npos) return false;
        m_begin += end + 4;
    }
    return true;
}

void ResponseReader::set_framing(const ResponseHead& head, bool no_body) {
    m_body_bytes = 0;
    m_body_done = false;
    if (no_body || head.status == 204 || head.status == 304 || head.status < 200) {
        m_framing = Framing::None;
        m_body_done = true;
        return;
    }
    auto codings = list_elements(head.headers, "Transfer-Encoding");
    if (!codings.empty()) {
        // Chunked must be the last coding to frame the body; any other ends with the connection.
        m_framing = codings.back() == "chunked" ? Framing::Chunked : Framing::UntilClose;
        // Both framings at once is how request smuggling starts: read it as chunked, then close (RFC 9112 §6.3).
        if (!list_elements(head.headers, "Content-Length").empty()) m_close_requested = true;
        m_chunk_state = ChunkState::Size;
        m_remaining = 0;
        return;
    }
    auto lengths = list_elements(head.headers, "Content-Length");
    if (!lengths.empty()) {
        std::int64_t length = parse_length(lengths.front());
        for (const auto& other : lengths)
            if (parse_length(other) != length) throw FramingError("conflicting Content-Length headers", false);
        m_framing = Framing::Length;
        m_remaining = length;
        m_body_done = length == 0;
        return;
    }
    m_framing = Framing::UntilClose;
}

std::size_t ResponseReader::take(char* buffer, std::size_t capacity) {
    if (m_begin < m_end) {
        std::size_t n = std::min(capacity, m_end - m_begin);
        std::memcpy(buffer, m_buffer.data() + m_begin, n);
        m_begin += n;
        return n;
    }
    std::size_t n = m_source(buffer, capacity);  // large bodies skip the copy through our buffer
    m_received_any = m_received_any || n > 0;
    return n;
}

std::size_t ResponseReader::read_body(char* buffer, std::size_t capacity) {
    if (m_body_done || capacity == 0) return 0;
    std::size_t n = 0;
    switch (m_framing) {
    case Framing::None: return 0;
    case Framing::UntilClose:
        n = take(buffer, capacity);
        if (n == 0) m_body_done = true;
        break;
    case Framing::Length:
        n = take(buffer, static_cast<std::size_t>(std::min<std::int64_t>(m_remaining, static_cast<std::int64_t>(capacity))));
        if (n == 0)
            throw FramingError("the body broke off after " + std::to_string(m_body_bytes) + " of " +
                                   std::to_string(m_body_bytes + m_remaining) + " bytes",
                               false);
        m_remaining -= static_cast<std::int64_t>(n);
        m_body_done = m_remaining == 0;
        break;
    case Framing::Chunked: n = read_chunked(buffer, capacity); break;
    }
    m_body_bytes += static_cast<std::int64_t>(n);
    return n;
}

std::size_t ResponseReader::read_chunked(char* buffer, std::size_t capacity) {
    auto broke_off = [&](const std::string& where) {
        return FramingError("the chunked body broke off " + where + " after " + std::to_string(m_body_bytes) +
                                " bytes (no last chunk)",
                            false);
    };
    for (;;) {
        switch (m_chunk_state) {
        case ChunkState::Size: {
            auto line = next_line(max_chunk_line, "chunk size line");
            if (!line) throw broke_off("at a chunk boundary");
            std::string size_text = trim(line->substr(0, line->find(';')));
            if (size_text.empty() || size_text.size() > 15 ||
                size_text.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
                throw FramingError("malformed chunk size \"" + line->substr(0, 40) + "\"", false);
            m_remaining = std::stoll(size_text, nullptr, 16);
            m_chunk_state = m_remaining == 0 ? ChunkState::Trailers : ChunkState::Data;
            m_trailer_bytes = 0;
            break;
        }
        case ChunkState::Data: {
            std::size_t want = static_cast<std::size_t>(std::min<std::int64_t>(m_remaining, static_cast<std::int64_t>(capacity)));
            std::size_t n = take(buffer, want);
            if (n == 0) throw broke_off("inside a chunk");
            m_remaining -= static_cast<std::int64_t>(n);
            if (m_remaining == 0) m_chunk_state = ChunkState::DataEnd;
            return n;
        }
        case ChunkState::DataEnd: {
            auto rest = next_line(max_chunk_line, "chunk end");
            if (!rest) throw broke_off("after a chunk");
            if (!rest->empty()) throw FramingError("a chunk is longer than its size line says", false);
            m_chunk_state = ChunkState::Size;
            break;
        }
        case ChunkState::Trailers: {
            auto trailer = next_line(max_line, "chunked trailer");
            if (!trailer) throw broke_off("in the trailer");
            if (trailer->empty()) {
                m_chunk_state = ChunkState::Done;
                m_body_done = true;
                return 0;
            }
            // Bounded like a head: endless trailer lines would keep a streamed download (limited only by
            // idle time) alive forever.
            m_trailer_bytes += trailer->size();
            if (m_trailer_bytes > max_head)
                throw FramingError("chunked trailer larger than " + std::to_string(max_head) + " bytes", false);
            break;
        }
        case ChunkState::Done: return 0;
        }
    }
}

bool ResponseReader::reusable() const {
    return m_body_done && m_framing != Framing::UntilClose && !m_close_requested && m_begin == m_end;
}

}  // namespace digestflow::registry
