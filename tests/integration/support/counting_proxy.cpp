#include "support/counting_proxy.hpp"

#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <poll.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <stdexcept>

namespace digestflow::testsupport {
namespace {

using Poco::Net::StreamSocket;

// How long a blocked read waits before looking at the stop flag again: bounds the destructor.
const Poco::Timespan stop_check_interval(0, 100 * 1000);
// A client (or upstream) that stops reading must not hold the destructor forever.
const Poco::Timespan send_timeout(5, 0);
constexpr std::size_t max_line = 64 * 1024;
constexpr std::size_t io_chunk = 64 * 1024;

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

std::string trim(const std::string& text) {
    auto begin = text.find_first_not_of(" \t\r\n");
    if (begin == std::string::npos) {
        return "";
    }
    return text.substr(begin, text.find_last_not_of(" \t\r\n") - begin + 1);
}

void send_all(StreamSocket& socket, const char* data, std::size_t size) {
    while (size > 0) {
        int sent = socket.sendBytes(data, static_cast<int>(std::min(size, io_chunk)));
        if (sent <= 0) {
            throw std::runtime_error("peer stopped reading");
        }
        data += sent;
        size -= static_cast<std::size_t>(sent);
    }
}

void send_all(StreamSocket& socket, const std::string& text) {
    send_all(socket, text.data(), text.size());
}

// The parts of a message head that decide where the message ends and whether the connection stays.
struct Head {
    std::string raw; // header lines and the blank line, verbatim
    std::optional<std::size_t> content_length;
    bool chunked = false;
    bool close = false;      // Connection: close
    bool keep_alive = false; // Connection: keep-alive (matters for HTTP/1.0)
};

void note_header(Head& head, const std::string& line) {
    auto colon = line.find(':');
    if (colon == std::string::npos) {
        return;
    }
    std::string name = lower(trim(line.substr(0, colon)));
    std::string value = lower(trim(line.substr(colon + 1)));
    if (name == "content-length") {
        head.content_length = std::stoull(value);
    } else if (name == "transfer-encoding") {
        head.chunked = value.find("chunked") != std::string::npos;
    } else if (name == "connection") {
        head.close = head.close || value.find("close") != std::string::npos;
        head.keep_alive = head.keep_alive || value.find("keep-alive") != std::string::npos;
    }
}

// Header lines of a canned response (text after the status line, up to the blank line).
Head head_of_text(const std::string& response) {
    Head head;
    std::size_t start = response.find('\n');
    while (start != std::string::npos && start + 1 < response.size()) {
        std::size_t end = response.find('\n', start + 1);
        std::string line =
            response.substr(start + 1, end == std::string::npos ? std::string::npos : end - start - 1);
        if (trim(line).empty()) {
            break;
        }
        note_header(head, line);
        start = end;
    }
    return head;
}

// "METHOD SP target SP HTTP/1.x" -> method, target.
std::optional<std::pair<std::string, std::string>> parse_request_line(const std::string& line) {
    std::string text = trim(line);
    auto first = text.find(' ');
    auto last = text.rfind(' ');
    if (first == std::string::npos || first == last || text.compare(last + 1, 7, "HTTP/1.") != 0) {
        return std::nullopt;
    }
    std::string method = text.substr(0, first);
    if (method.empty() ||
        !std::all_of(method.begin(), method.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
        return std::nullopt;
    }
    return std::make_pair(method, text.substr(first + 1, last - first - 1));
}

} // namespace

class CountingProxy::Reader {
  public:
    Reader(StreamSocket& socket, const std::atomic<bool>& stopping)
        : m_socket(socket), m_stopping(stopping) {}

    std::size_t buffered() const { return m_buffer.size() - m_pos; }
    char peek() const { return m_buffer[m_pos]; }

    // Waits for more bytes; false at end of stream or when the proxy stops.
    bool fill() {
        while (!m_socket.poll(stop_check_interval,
                              Poco::Net::Socket::SELECT_READ | Poco::Net::Socket::SELECT_ERROR)) {
            if (m_stopping) {
                return false;
            }
        }
        if (m_stopping) {
            return false;
        }
        char chunk[io_chunk];
        int n = m_socket.receiveBytes(chunk, static_cast<int>(sizeof chunk));
        if (n <= 0) {
            return false;
        }
        m_buffer.erase(0, m_pos);
        m_pos = 0;
        m_buffer.append(chunk, static_cast<std::size_t>(n));
        return true;
    }

    // One line with its line ending; nullopt when the stream ends first.
    std::optional<std::string> read_line() {
        while (true) {
            auto end = m_buffer.find('\n', m_pos);
            if (end != std::string::npos) {
                std::string line = m_buffer.substr(m_pos, end + 1 - m_pos);
                m_pos = end + 1;
                return line;
            }
            if (buffered() > max_line || !fill()) {
                return std::nullopt;
            }
        }
    }

    // Header lines up to and including the blank line; nullopt when the stream ends first.
    std::optional<Head> read_head() {
        Head head;
        while (true) {
            auto line = read_line();
            if (!line) {
                return std::nullopt;
            }
            head.raw += *line;
            if (trim(*line).empty()) {
                return head;
            }
            note_header(head, *line);
        }
    }

    // Moves n bytes to `to` (nullptr: drops them); false when the stream ends first.
    bool copy(std::size_t n, StreamSocket* to) {
        while (n > 0) {
            if (buffered() == 0 && !fill()) {
                return false;
            }
            std::size_t take = std::min(n, buffered());
            if (to != nullptr) {
                send_all(*to, m_buffer.data() + m_pos, take);
            }
            m_pos += take;
            n -= take;
        }
        return true;
    }

    // A chunked body including its trailers, verbatim.
    bool copy_chunked(StreamSocket* to) {
        while (true) {
            auto size_line = read_line();
            if (!size_line) {
                return false;
            }
            forward(*size_line, to);
            std::size_t size = std::stoull(trim(size_line->substr(0, size_line->find(';'))), nullptr, 16);
            if (size == 0) {
                break;
            }
            auto end_of_chunk = (copy(size, to) ? read_line() : std::nullopt);
            if (!end_of_chunk) {
                return false;
            }
            forward(*end_of_chunk, to);
        }
        while (true) { // trailers, then the blank line
            auto line = read_line();
            if (!line) {
                return false;
            }
            forward(*line, to);
            if (trim(*line).empty()) {
                return true;
            }
        }
    }

    // The body of a message: chunked, sized, or none.
    bool copy_body(const Head& head, StreamSocket* to) {
        if (head.chunked) {
            return copy_chunked(to);
        }
        return copy(head.content_length.value_or(0), to);
    }

    void copy_to_end(StreamSocket& to) {
        do {
            copy(buffered(), &to);
        } while (fill());
    }

    std::string take_buffered() {
        std::string rest = m_buffer.substr(m_pos);
        m_pos = m_buffer.size();
        return rest;
    }

  private:
    static void forward(const std::string& text, StreamSocket* to) {
        if (to != nullptr) {
            send_all(*to, text);
        }
    }

    StreamSocket& m_socket;
    const std::atomic<bool>& m_stopping;
    std::string m_buffer;
    std::size_t m_pos = 0;
};

CountingProxy::CountingProxy(const std::string& upstream_host)
    : m_upstream(upstream_host), m_listener(Poco::Net::SocketAddress("127.0.0.1", 0)),
      m_port(m_listener.address().port()) {
    m_acceptor = std::thread([this] { accept_loop(); });
}

CountingProxy::~CountingProxy() {
    m_stopping = true;
    m_acceptor.join();
    // The acceptor is gone, so no thread is added any more; each one sees the flag within one interval.
    std::vector<std::thread> threads;
    {
        std::lock_guard lock(m_threads_mutex);
        threads.swap(m_threads);
    }
    for (auto& thread : threads) {
        thread.join();
    }
    m_listener.close();
}

std::string CountingProxy::host() const {
    return "127.0.0.1:" + std::to_string(m_port);
}

std::size_t CountingProxy::connection_count() const {
    std::lock_guard lock(m_mutex);
    return m_accepted;
}

std::size_t CountingProxy::http_connection_count() const {
    std::lock_guard lock(m_mutex);
    std::set<std::size_t> connections;
    for (const auto& request : m_requests) {
        connections.insert(request.connection);
    }
    return connections.size();
}

std::size_t CountingProxy::non_http_connection_count() const {
    std::lock_guard lock(m_mutex);
    return m_non_http.size();
}

std::vector<RequestLine> CountingProxy::requests() const {
    std::lock_guard lock(m_mutex);
    return m_requests;
}

std::size_t CountingProxy::count(const std::string& method, const std::string& path_substring) const {
    std::lock_guard lock(m_mutex);
    return static_cast<std::size_t>(
        std::count_if(m_requests.begin(), m_requests.end(), [&](const RequestLine& r) {
            return (method.empty() || r.method == method) && r.path.find(path_substring) != std::string::npos;
        }));
}

void CountingProxy::reset() {
    std::lock_guard lock(m_mutex);
    m_accepted = 0;
    m_non_http.clear();
    m_requests.clear();
}

void CountingProxy::set_fault(FaultHook hook) {
    std::lock_guard lock(m_mutex);
    m_fault = std::move(hook);
}

void CountingProxy::record_request(const RequestLine& request) {
    std::lock_guard lock(m_mutex);
    m_requests.push_back(request);
}

void CountingProxy::mark_non_http(std::size_t connection) {
    std::lock_guard lock(m_mutex);
    m_non_http.push_back(connection);
}

StreamSocket CountingProxy::connect_upstream() const {
    StreamSocket upstream;
    upstream.connect(Poco::Net::SocketAddress(m_upstream), Poco::Timespan(5, 0));
    upstream.setNoDelay(true);
    upstream.setSendTimeout(send_timeout);
    return upstream;
}

void CountingProxy::accept_loop() {
    while (!m_stopping) {
        try {
            if (!m_listener.poll(stop_check_interval, Poco::Net::Socket::SELECT_READ)) {
                continue;
            }
            StreamSocket client = m_listener.acceptConnection();
            std::size_t connection;
            {
                std::lock_guard lock(m_mutex);
                connection = m_next_connection++;
                ++m_accepted;
            }
            std::lock_guard lock(m_threads_mutex);
            m_threads.emplace_back([this, client, connection] { serve(client, connection); });
        } catch (const std::exception&) {
            // A client that vanished between poll and accept: keep listening.
        }
    }
}

void CountingProxy::serve(StreamSocket client, std::size_t connection) {
    try {
        client.setNoDelay(true);
        client.setSendTimeout(send_timeout);
        Reader client_in(client, m_stopping);
        // A client that closes without sending anything is just counted.
        if (client_in.fill()) {
            // HTTP methods are upper-case tokens; a TLS ClientHello starts with 0x16 and waits for an
            // answer, so it must be recognised from its first byte rather than a whole line.
            if (std::isupper(static_cast<unsigned char>(client_in.peek()))) {
                serve_http(client_in, client, connection);
            } else {
                mark_non_http(connection);
                tunnel(client_in, client);
            }
        }
    } catch (const std::exception&) {
        // Either side reset the connection or sent something unparsable: the connection just ends.
    }
    // Now, not when the thread is joined: the lambda that started it holds a reference to the socket.
    client.close();
}

void CountingProxy::serve_http(Reader& client_in, StreamSocket& client, std::size_t connection) {
    std::optional<StreamSocket> upstream;
    std::optional<Reader> upstream_in;
    while (!m_stopping) {
        auto line = client_in.read_line();
        auto parsed = line ? parse_request_line(*line) : std::nullopt;
        auto request_head = parsed ? client_in.read_head() : std::nullopt;
        if (!request_head) {
            return; // the client closed the connection (or sent no HTTP)
        }
        RequestLine request{parsed->first, parsed->second, connection};
        FaultHook fault;
        {
            std::lock_guard lock(m_mutex);
            fault = m_fault;
        }
        std::optional<std::string> canned = fault ? fault(request) : std::nullopt;
        request.faulted = canned.has_value();
        record_request(request);
        bool client_closes = request_head->close || line->find("HTTP/1.0") != std::string::npos;

        if (canned) {
            if (!client_in.copy_body(*request_head, nullptr)) {
                return;
            }
            send_all(client, *canned);
            if (client_closes || head_of_text(*canned).close) {
                return;
            }
            continue;
        }

        if (!upstream) {
            upstream = connect_upstream();
            upstream_in.emplace(*upstream, m_stopping);
        }
        send_all(*upstream, *line + request_head->raw);
        if (!client_in.copy_body(*request_head, &*upstream)) {
            return;
        }

        // Interim 1xx answers go to the client as they come; the final answer follows.
        std::string status_line;
        std::optional<Head> response_head;
        int status = 0;
        do {
            auto read = upstream_in->read_line();
            response_head = read ? upstream_in->read_head() : std::nullopt;
            if (!response_head || read->size() < 12) {
                return;
            }
            status_line = *read;
            status = std::stoi(status_line.substr(9, 3));
            send_all(client, status_line + response_head->raw);
        } while (status / 100 == 1);

        bool http10 = status_line.compare(0, 8, "HTTP/1.0") == 0;
        bool upstream_closes = response_head->close || (http10 && !response_head->keep_alive);
        if (request.method == "HEAD" || status == 204 || status == 304) {
            // no body, whatever Content-Length says
        } else if (response_head->chunked || response_head->content_length) {
            if (!upstream_in->copy_body(*response_head, &client)) {
                return;
            }
        } else {
            upstream_in->copy_to_end(client); // delimited by the upstream closing
            return;
        }
        if (client_closes || upstream_closes) {
            return;
        }
    }
}

void CountingProxy::tunnel(Reader& client_in, StreamSocket& client) {
    StreamSocket upstream = connect_upstream();
    send_all(upstream, client_in.take_buffered());
    char chunk[io_chunk];
    while (!m_stopping) {
        pollfd fds[2] = {{client.impl()->sockfd(), POLLIN, 0}, {upstream.impl()->sockfd(), POLLIN, 0}};
        int ready = ::poll(fds, 2, static_cast<int>(stop_check_interval.totalMilliseconds()));
        if (ready < 0) {
            return;
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].revents == 0) {
                continue;
            }
            StreamSocket& from = i == 0 ? client : upstream;
            StreamSocket& to = i == 0 ? upstream : client;
            int n = from.receiveBytes(chunk, static_cast<int>(sizeof chunk));
            if (n <= 0) {
                return; // either side closing ends the tunnel: nothing here is kept alive
            }
            send_all(to, chunk, static_cast<std::size_t>(n));
        }
    }
}

} // namespace digestflow::testsupport
