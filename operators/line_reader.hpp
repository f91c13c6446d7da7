#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace weir::builtins {

/// Reads the lines one subtask owns in a text file split by byte ranges.
///
/// Subtask i of p owns the bytes [i * size / p, (i + 1) * size / p) and with
/// them every line whose first byte lies in that range, read to its end even
/// past the range. A subtask whose range starts mid-line skips to the next
/// line start, since that line belongs to the subtask where it starts.
/// Together the subtasks read every line exactly once.
///
/// Lines come without their '\n' and without a trailing '\r'; a final line
/// without '\n' counts, an empty file has no lines. Owned by file_source's
/// state; used from one thread at a time.
class line_reader {
public:
  static constexpr size_t default_buffer_size = 64 * 1024;

  line_reader(std::string path, int subtask, int parallelism,
              size_t buffer_size = default_buffer_size);

  line_reader(const line_reader&) = delete;
  line_reader& operator=(const line_reader&) = delete;

  /// Opens the file and positions at the subtask's first line. Throws
  /// std::runtime_error naming the path when it cannot.
  void open();

  bool is_open() const {
    return file_ != nullptr;
  }

  /// Reads the subtask's next line into `line`; false once the subtask's
  /// lines are exhausted. Throws std::runtime_error on read errors.
  bool next(std::string& line);

  /// Byte offset in the file of the line last returned by next().
  uint64_t line_offset() const {
    return line_offset_;
  }

  /// Offset of the next unread byte: where reading resumes after a
  /// restore (see resume_at).
  uint64_t position() const {
    return pos_;
  }

  /// Lines returned so far.
  uint64_t lines_read() const {
    return lines_;
  }

  /// Continues at `offset`, a value position() returned, with `lines`
  /// lines already read; opens the file first if needed. Throws
  /// std::runtime_error naming the path for an offset outside this
  /// subtask's part of the file.
  void resume_at(uint64_t offset, uint64_t lines);

  /// 1-based number in the whole file of the line last returned by next().
  /// The first call scans the part of the file before this subtask's range,
  /// so it is meant for error messages only.
  uint64_t line_number();

  const std::string& path() const {
    return path_;
  }

private:
  struct file_closer {
    void operator()(std::FILE* f) const {
      std::fclose(f);
    }
  };

  /// Reads the next chunk into the buffer; false at the end of the file.
  bool fill();

  /// Consumes bytes up to and including the next '\n'.
  void skip_line();

  [[noreturn]] void fail(const std::string& what) const;

  std::string path_;
  int subtask_;
  int parallelism_;
  std::unique_ptr<std::FILE, file_closer> file_;
  std::vector<char> buf_;
  size_t buf_pos_ = 0;
  size_t buf_len_ = 0;
  /// File offset of buf_[buf_pos_], i.e. of the next unread byte.
  uint64_t pos_ = 0;
  /// End of the owned byte range.
  uint64_t end_ = 0;
  /// Offset of this subtask's first line.
  uint64_t first_offset_ = 0;
  uint64_t line_offset_ = 0;
  /// Lines returned so far.
  uint64_t lines_ = 0;
  /// Number of the first owned line in the file; 0 until computed.
  uint64_t first_line_number_ = 0;
};

} // namespace weir::builtins
