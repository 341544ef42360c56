// SHA-256 of a file through digestflow's own hasher, for scripts/bench's hashing row: the file is read in the
// same 64 KiB pieces the registry layer hands blob bytes to the hasher in (transport.cpp's io_chunk).
// Usage: hash_file FILE   -> prints sha256:<hex>
#include "digestflow/digest.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: hash_file FILE\n");
        return 2;
    }
    int fd = ::open(argv[1], O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        std::fprintf(stderr, "hash_file: cannot open %s: %s\n", argv[1], std::strerror(errno));
        return 2;
    }
    constexpr std::size_t chunk = 64 * 1024;
    std::vector<char> buffer(chunk);
    digestflow::DigestHasher hasher("sha256");
    for (;;) {
        ssize_t n = ::read(fd, buffer.data(), buffer.size());
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR) continue;
            std::fprintf(stderr, "hash_file: cannot read %s: %s\n", argv[1], std::strerror(errno));
            return 3;
        }
        hasher.update(buffer.data(), static_cast<std::size_t>(n));
    }
    ::close(fd);
    std::printf("%s\n", hasher.finish().str().c_str());
}
