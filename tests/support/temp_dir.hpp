#pragma once

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace weir::test {

/// A fresh directory under /tmp, removed with everything in it on
/// destruction.
class temp_dir {
public:
  temp_dir() {
    std::string tmpl = "/tmp/weir-test-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr)
      throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }

  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }

  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::filesystem::path& path() const {
    return path_;
  }

  /// Path of `name` inside the directory.
  std::string operator/(const std::string& name) const {
    return (path_ / name).string();
  }

  /// Writes `content` to `name` inside the directory; returns its path.
  std::string write(const std::string& name, const std::string& content) {
    auto p = path_ / name;
    std::ofstream out{p, std::ios::binary};
    out << content;
    return p.string();
  }

private:
  std::filesystem::path path_;
};

/// Every line of every visible regular file in `dir` (hidden ones, such as
/// a sink's uncommitted files, are not output), files in name order.
inline std::vector<std::string> read_lines(const std::string& dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator{dir})
    if (e.is_regular_file() && e.path().filename().string()[0] != '.')
      files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<std::string> out;
  for (const auto& f : files) {
    std::ifstream in{f};
    std::string line;
    while (std::getline(in, line))
      out.push_back(line);
  }
  return out;
}

} // namespace weir::test
