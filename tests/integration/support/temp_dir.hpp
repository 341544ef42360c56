#pragma once

#include <string>

namespace digestflow::testsupport {

// A fresh directory under /tmp (mkdtemp), removed with everything in it on destruction.
// Set DIGESTFLOW_KEEP_TEMP=1 to keep it for post-mortem debugging of a failed test.
class TempDir {
  public:
    explicit TempDir(const std::string& prefix = "digestflow-test");
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::string& path() const { return m_path; }
    // path() + "/" + name
    std::string file(const std::string& name) const;

  private:
    std::string m_path;
};

// Small file helpers that throw std::runtime_error naming the path on failure.
void write_text_file(const std::string& path, const std::string& content);
std::string read_text_file(const std::string& path);

} // namespace digestflow::testsupport
