#include "digestflow/ledger/ledger_file.hpp"

#include "digestflow/artifact.hpp"
#include "digestflow/error.hpp"
#include "digestflow/ledger/entry.hpp"
#include "digestflow/quote.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace digestflow::ledger {
namespace {

std::string system_error(const std::string& path, const std::string& what) {
    return "ledger " + quote(path) + ": " + what + ": " + std::strerror(errno);
}

// Closes on every path out, including exceptions; the flock goes with the descriptor.
class FileHandle {
public:
    FileHandle(const std::string& path, int flags) : m_path(path) {
        // O_NONBLOCK: opening a FIFO must not wait; a non-regular file is refused just below.
        m_fd = ::open(path.c_str(), flags | O_CLOEXEC | O_NONBLOCK, 0644);
        if (m_fd < 0) {
            if (errno == ENOENT && (flags & O_CREAT))
                throw_usage("ledger " + quote(path) + ": its folder does not exist; create it or fix the path");
            if (errno == ENOENT)
                throw_usage("no ledger at " + quote(path) +
                            ": record a deployment there first (record --ledger PATH ...) or fix the path");
            throw_usage(system_error(path, "cannot open it"));
        }
        struct stat st {};
        if (::fstat(m_fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            ::close(m_fd);
            throw_usage("ledger " + quote(path) + ": not a regular file; name the ledger's JSON Lines file");
        }
    }
    ~FileHandle() { ::close(m_fd); }
    FileHandle(const FileHandle&) = delete;
    FileHandle& operator=(const FileHandle&) = delete;
    int fd() const { return m_fd; }

    void lock(int operation) {
        while (::flock(m_fd, operation) != 0) {
            if (errno != EINTR) throw_usage(system_error(m_path, "cannot lock it"));
        }
    }
    std::uint64_t size() const {
        struct stat st {};
        if (::fstat(m_fd, &st) != 0) throw_usage(system_error(m_path, "cannot stat it"));
        return static_cast<std::uint64_t>(st.st_size);
    }
    void read_at(std::uint64_t offset, char* into, std::size_t count) const {
        std::size_t done = 0;
        while (done < count) {
            ssize_t n = ::pread(m_fd, into + done, count - done, static_cast<off_t>(offset + done));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) throw_usage(system_error(m_path, "cannot read it"));
            done += static_cast<std::size_t>(n);
        }
    }

private:
    std::string m_path;
    int m_fd = -1;
};

constexpr std::size_t chunk_bytes = 16 * 1024;

// Offset just after the last '\n' before `end` (0 when there is none), reading backwards in chunks.
std::uint64_t start_of_line_ending_at(const FileHandle& file, std::uint64_t end) {
    std::string chunk(chunk_bytes, '\0');
    std::uint64_t position = end;
    while (position > 0) {
        std::size_t count = static_cast<std::size_t>(std::min<std::uint64_t>(chunk_bytes, position));
        position -= count;
        file.read_at(position, chunk.data(), count);
        if (const void* found = ::memrchr(chunk.data(), '\n', count))
            return position + static_cast<std::uint64_t>(static_cast<const char*>(found) - chunk.data()) + 1;
    }
    return 0;
}

std::string read_range(const FileHandle& file, std::uint64_t from, std::uint64_t to) {
    std::string bytes(static_cast<std::size_t>(to - from), '\0');
    file.read_at(from, bytes.data(), bytes.size());
    return bytes;
}

std::string torn_message(const std::string& path, std::uint64_t offset, std::uint64_t bytes) {
    return "ledger " + quote(path) + " ends with a torn line (" + std::to_string(bytes) +
           " bytes after the last complete line, from byte " + std::to_string(offset) +
           "): a writer stopped mid-append; run record repair --ledger " + quote(path) +
           " to move them aside (nothing is deleted)";
}

// The tip of a locked, untorn ledger of `size` bytes. The last line must be a ledger line: a new entry is
// never chained onto something else.
Tip read_tip(const FileHandle& file, const std::string& path, std::uint64_t size) {
    Tip tip;
    tip.prev = std::string(genesis_prev);
    if (size == 0) return tip;
    std::uint64_t start = start_of_line_ending_at(file, size - 1);
    if (size - start > max_line_bytes + 1)
        throw_usage("ledger " + quote(path) + ": the last line is " + std::to_string(size - start) +
                    " bytes, longer than any ledger entry: this is not a ledger (or it is damaged; run record verify)");
    tip.last_line = read_range(file, start, size);
    parse_line(tip.last_line, "ledger " + quote(path) + ", its last line");
    tip.prev = line_hash(tip.last_line);
    return tip;
}

// The newest complete line before `end` for which `wanted` holds, reading backwards in large chunks.
std::optional<std::string> find_last_line(const FileHandle& file, std::uint64_t end,
                                          const std::function<bool(std::string_view)>& wanted) {
    constexpr std::size_t read_bytes = 256 * 1024;
    std::string buffer;          // the bytes [buffer_start, end) of the file
    std::uint64_t buffer_start = end;
    std::size_t line_end = 0;    // offset in buffer just past the line being looked at
    while (end > 0) {
        // Lines in the buffer from the back; a line reaching the buffer's front may start before it.
        std::size_t search_to = line_end >= 2 ? line_end - 2 : 0;
        std::size_t newline = line_end >= 2 ? buffer.rfind('\n', search_to) : std::string::npos;
        if (newline == std::string::npos && buffer_start > 0) {
            std::size_t count = static_cast<std::size_t>(std::min<std::uint64_t>(read_bytes, buffer_start));
            buffer_start -= count;
            std::string before(count, '\0');
            file.read_at(buffer_start, before.data(), count);
            line_end += count;
            buffer.insert(0, before);
            continue;
        }
        std::size_t line_start = newline == std::string::npos ? 0 : newline + 1;
        std::string_view line(buffer.data() + line_start, line_end - line_start);
        if (!line.empty() && wanted(line)) return std::string(line);
        if (line_start == 0) return std::nullopt;
        line_end = line_start;
        // Keep the buffer small: drop what lies after the lines still to look at.
        if (buffer.size() - line_end > 4 * read_bytes) buffer.resize(line_end);
    }
    return std::nullopt;
}

void write_all(const FileHandle& file, std::string_view bytes) {
    while (!bytes.empty()) {
        ssize_t n = ::write(file.fd(), bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw std::runtime_error(std::strerror(errno ? errno : EIO));
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

// Tests stop a writer between the two halves of a line to make a real torn tail (then SIGKILL it):
// DIGESTFLOW_TEST_PAUSE_MID_APPEND names a file created once the first half is on disk.
void write_line(const FileHandle& file, std::string_view line) {
    const char* marker = std::getenv("DIGESTFLOW_TEST_PAUSE_MID_APPEND");
    if (!marker || !*marker) return write_all(file, line);
    write_all(file, line.substr(0, line.size() / 2));
    ::fsync(file.fd());
    int fd = ::open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) ::close(fd);
    for (;;) ::pause();
}

void fsync_folder_of(const std::string& path) {
    std::string folder = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/') + 1);
    int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
}

// "20261202T054332Z": the RFC 3339 time without separators, for file names.
std::string compact_utc_now() {
    std::string text = utc_now_rfc3339();
    std::erase_if(text, [](char c) { return c == '-' || c == ':'; });
    return text;
}

}  // namespace

Appended append_line(const std::string& path, const std::function<std::string(const Tip&)>& make_line) {
    struct stat before {};
    const bool created = ::stat(path.c_str(), &before) != 0;
    if (created) {
        // A first entry that would be refused (e.g. a hold with nothing deployed) must not leave an empty
        // ledger behind: build it once on the empty tip before the file exists.
        Tip empty{"", std::string(genesis_prev), [](const auto&) { return std::nullopt; }};
        make_line(empty);
    }
    // A failed first write unlinks the empty file it created (below), so a writer that opened that file and
    // waited for the lock checks the path still names it, else opens again: no entry goes to an unlinked file.
    std::optional<FileHandle> opened;
    for (;;) {
        opened.emplace(path, O_RDWR | O_CREAT | O_APPEND);
        opened->lock(LOCK_EX);
        struct stat held {}, named {};
        if (::fstat(opened->fd(), &held) == 0 && ::stat(path.c_str(), &named) == 0 && held.st_ino == named.st_ino &&
            held.st_dev == named.st_dev)
            break;
    }
    FileHandle& file = *opened;
    const std::uint64_t size = file.size();
    if (size > 0) {
        char last = 0;
        file.read_at(size - 1, &last, 1);
        if (last != '\n') {
            std::uint64_t start = start_of_line_ending_at(file, size);
            throw_usage(torn_message(path, start, size - start));
        }
    }
    Tip tip = read_tip(file, path, size);
    tip.find_last = [&file, size](const std::function<bool(std::string_view)>& wanted) {
        return find_last_line(file, size, wanted);
    };
    std::string line = make_line(tip);
    if (line.empty() || line.back() != '\n' || line.find('\n') != line.size() - 1 || line.size() > max_line_bytes + 1)
        throw std::logic_error("append_line: make_line must return one \\n-terminated ledger line");
    try {
        write_line(file, line);
        if (::fsync(file.fd()) != 0) throw std::runtime_error(std::strerror(errno));
    } catch (const std::runtime_error& failure) {
        // Nothing half-written: the file goes back to its last complete line.
        if (::ftruncate(file.fd(), static_cast<off_t>(size)) == 0) ::fsync(file.fd());
        // A ledger this append created is removed again (still locked): a failed first entry leaves no file.
        // (Never a symbolic link: that would remove the user's link and keep the file it made.)
        struct stat named {};
        if (created && size == 0 && ::lstat(path.c_str(), &named) == 0 && S_ISREG(named.st_mode)) ::unlink(path.c_str());
        throw_usage("ledger " + quote(path) + ": the entry could not be written (" + failure.what() +
                    "); the ledger is unchanged: free space or fix permissions and run again");
    }
    if (created) fsync_folder_of(path);
    return Appended{line, line_hash(line)};
}

LedgerView::LedgerView(const std::string& path) : m_path(path) {
    FileHandle file(path, O_RDONLY);
    file.lock(LOCK_SH);
    m_size = static_cast<std::size_t>(file.size());
    m_fd = ::dup(file.fd());  // keeps the shared lock (it belongs to the open file) for the view's life
    if (m_fd < 0) throw_usage(system_error(path, "cannot keep it open"));
    if (m_size == 0) return;
    m_map = ::mmap(nullptr, m_size, PROT_READ, MAP_PRIVATE, m_fd, 0);
    if (m_map == MAP_FAILED) {
        m_map = nullptr;
        ::close(m_fd);
        throw_usage(system_error(path, "cannot map it for reading"));
    }
    ::madvise(m_map, m_size, MADV_SEQUENTIAL);
    std::string_view all(static_cast<const char*>(m_map), m_size);
    std::size_t last_newline = all.rfind('\n');
    std::size_t complete = last_newline == std::string_view::npos ? 0 : last_newline + 1;
    m_complete = all.substr(0, complete);
    if (complete < m_size) m_torn = TornTail{complete, std::string(all.substr(complete))};
}

LedgerView::~LedgerView() {
    if (m_map) ::munmap(m_map, m_size);
    if (m_fd >= 0) ::close(m_fd);
}

std::string LedgerView::torn_report() const {
    return m_torn ? torn_message(m_path, m_torn->offset, m_torn->bytes.size()) : std::string();
}

void for_each_line(std::string_view complete, const std::function<void(std::size_t, std::string_view)>& each) {
    std::size_t number = 0;
    while (!complete.empty()) {
        const void* end = std::memchr(complete.data(), '\n', complete.size());
        std::size_t length = end ? static_cast<std::size_t>(static_cast<const char*>(end) - complete.data()) + 1
                                 : complete.size();
        each(++number, complete.substr(0, length));
        complete.remove_prefix(length);
    }
}

std::size_t find_line_backward(std::string_view complete, const std::function<bool(std::string_view)>& stop_here) {
    std::size_t end = complete.size();
    while (end > 0) {
        std::size_t previous_newline = end >= 2 ? complete.rfind('\n', end - 2) : std::string_view::npos;
        std::size_t start = previous_newline == std::string_view::npos ? 0 : previous_newline + 1;
        if (stop_here(complete.substr(start, end - start))) {
            std::size_t number = 1;
            for (const char* p = complete.data(); (p = static_cast<const char*>(std::memchr(p, '\n', start - (p - complete.data())))); ++p)
                ++number;
            return number;
        }
        end = start;
    }
    return 0;
}

std::optional<std::string> repair_torn_tail(const std::string& path) {
    FileHandle file(path, O_RDWR);
    file.lock(LOCK_EX);
    const std::uint64_t size = file.size();
    const std::uint64_t start = size == 0 ? 0 : start_of_line_ending_at(file, size);
    if (start == size) return std::nullopt;
    std::string torn = read_range(file, start, size);
    // Only a ledger is repaired: its last complete line is an entry, or (nothing complete yet) the torn bytes
    // begin like one. Anything else is the wrong file, and is left alone.
    if (start > 0) {
        std::string last = read_range(file, start_of_line_ending_at(file, start - 1), start);
        parse_line(last, "ledger " + quote(path) + ", its last complete line (not repaired: is this a ledger?)");
    } else if (torn.rfind("{\"v\":", 0) != 0) {
        throw_usage("ledger " + quote(path) + ": no complete line, and the bytes do not begin like a ledger entry; "
                    "this is not a ledger: nothing changed");
    }
    std::string aside = path + ".torn-" + compact_utc_now();
    for (int n = 1; ::access(aside.c_str(), F_OK) == 0; ++n) aside = path + ".torn-" + compact_utc_now() + "-" + std::to_string(n);
    write_file_atomically(aside, torn);  // on disk before a byte leaves the ledger
    if (::ftruncate(file.fd(), static_cast<off_t>(start)) != 0 || ::fsync(file.fd()) != 0)
        throw_usage(system_error(path, "the torn bytes were saved to " + aside + " but the ledger could not be truncated"));
    return aside;
}

}  // namespace digestflow::ledger
