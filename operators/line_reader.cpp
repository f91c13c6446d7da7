#include "operators/line_reader.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <sys/stat.h>

namespace weir::builtins {

namespace {

// i * size / p without overflowing for any file size.
uint64_t split_point(uint64_t size, int i, int p) {
  auto ui = static_cast<uint64_t>(i);
  auto up = static_cast<uint64_t>(p);
  return size / up * ui + size % up * ui / up;
}

} // namespace

line_reader::line_reader(std::string path, int subtask, int parallelism,
                         size_t buffer_size)
  : path_(std::move(path)), subtask_(subtask),
    parallelism_(std::max(parallelism, 1)),
    buf_(std::max(buffer_size, size_t{1})) {
  // No I/O here: open() runs on the first poll, where throwing is allowed.
}

void line_reader::fail(const std::string& what) const {
  throw std::runtime_error("file '" + path_ + "': " + what);
}

void line_reader::open() {
  std::FILE* f = std::fopen(path_.c_str(), "rb");
  if (f == nullptr)
    fail(std::string{"cannot open: "} + std::strerror(errno));
  file_.reset(f);
  struct stat st;
  if (::fstat(fileno(f), &st) != 0)
    fail(std::string{"cannot stat: "} + std::strerror(errno));
  if (S_ISDIR(st.st_mode))
    fail("is a directory, not a file");
  auto size = static_cast<uint64_t>(st.st_size);
  auto begin = split_point(size, subtask_, parallelism_);
  end_ = split_point(size, subtask_ + 1, parallelism_);
  if (begin >= end_) {
    pos_ = end_;
  } else if (begin > 0) {
    // The line holding byte begin - 1 belongs to an earlier subtask; if that
    // byte is its '\n', our first line starts exactly at begin.
    if (fseeko(f, static_cast<off_t>(begin - 1), SEEK_SET) != 0)
      fail(std::string{"cannot seek: "} + std::strerror(errno));
    pos_ = begin - 1;
    skip_line();
  }
  first_offset_ = pos_;
  line_offset_ = pos_;
}

void line_reader::resume_at(uint64_t offset, uint64_t lines) {
  if (!is_open())
    open();
  struct stat st;
  if (::fstat(fileno(file_.get()), &st) != 0)
    fail(std::string{"cannot stat: "} + std::strerror(errno));
  if (offset < first_offset_ || offset > static_cast<uint64_t>(st.st_size))
    fail("cannot resume at byte " + std::to_string(offset)
         + ": outside this subtask's part of the file (did the file "
           "change?)");
  if (fseeko(file_.get(), static_cast<off_t>(offset), SEEK_SET) != 0)
    fail(std::string{"cannot seek: "} + std::strerror(errno));
  pos_ = offset;
  buf_pos_ = 0;
  buf_len_ = 0;
  line_offset_ = offset;
  lines_ = lines;
}

bool line_reader::fill() {
  buf_pos_ = 0;
  buf_len_ = std::fread(buf_.data(), 1, buf_.size(), file_.get());
  if (buf_len_ == 0 && std::ferror(file_.get()))
    fail(std::string{"read error: "} + std::strerror(errno));
  return buf_len_ > 0;
}

void line_reader::skip_line() {
  for (;;) {
    if (buf_pos_ == buf_len_ && !fill())
      return;
    auto* start = buf_.data() + buf_pos_;
    auto avail = buf_len_ - buf_pos_;
    auto* nl = static_cast<const char*>(std::memchr(start, '\n', avail));
    auto n = nl != nullptr ? static_cast<size_t>(nl - start) + 1 : avail;
    buf_pos_ += n;
    pos_ += n;
    if (nl != nullptr)
      return;
  }
}

bool line_reader::next(std::string& line) {
  if (!file_ || pos_ >= end_)
    return false;
  line.clear();
  auto start_offset = pos_;
  for (;;) {
    if (buf_pos_ == buf_len_ && !fill())
      break;
    auto* start = buf_.data() + buf_pos_;
    auto avail = buf_len_ - buf_pos_;
    auto* nl = static_cast<const char*>(std::memchr(start, '\n', avail));
    auto n = nl != nullptr ? static_cast<size_t>(nl - start) : avail;
    line.append(start, n);
    auto consumed = nl != nullptr ? n + 1 : n;
    buf_pos_ += consumed;
    pos_ += consumed;
    if (nl != nullptr)
      break;
  }
  if (pos_ == start_offset) {
    // The file shrank since open(): nothing left.
    end_ = pos_;
    return false;
  }
  if (!line.empty() && line.back() == '\r')
    line.pop_back();
  line_offset_ = start_offset;
  ++lines_;
  return true;
}

uint64_t line_reader::line_number() {
  if (first_line_number_ == 0) {
    first_line_number_ = 1;
    std::unique_ptr<std::FILE, file_closer> f{std::fopen(path_.c_str(), "rb")};
    std::vector<char> buf(default_buffer_size);
    uint64_t left = first_offset_;
    while (f && left > 0) {
      auto want = static_cast<size_t>(std::min<uint64_t>(left, buf.size()));
      auto got = std::fread(buf.data(), 1, want, f.get());
      if (got == 0)
        break;
      first_line_number_ += static_cast<uint64_t>(
        std::count(buf.data(), buf.data() + got, '\n'));
      left -= got;
    }
  }
  return first_line_number_ + (lines_ > 0 ? lines_ - 1 : 0);
}

} // namespace weir::builtins
