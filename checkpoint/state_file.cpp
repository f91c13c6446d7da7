#include "checkpoint/state_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <lz4frame.h>
#include <unistd.h>

namespace weir {

namespace {

constexpr char magic[8] = {'W', 'E', 'I', 'R', 'S', 'T', 'A', 'T'};
constexpr uint32_t current_version = 1;
constexpr size_t header_size = sizeof(magic) + 4;

std::string sys_error(const std::string& what, const std::string& path) {
  return what + " '" + path + "': " + std::strerror(errno);
}

/// Writes all of `data` to `fd`.
bool write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    auto n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

} // namespace

std::string encode_state_file(const std::string& payload) {
  LZ4F_preferences_t prefs;
  std::memset(&prefs, 0, sizeof(prefs));
  prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
  prefs.frameInfo.contentSize = payload.size();
  auto bound = LZ4F_compressFrameBound(payload.size(), &prefs);
  std::string out(header_size + bound, '\0');
  std::memcpy(out.data(), magic, sizeof(magic));
  for (int i = 0; i < 4; ++i)
    out[sizeof(magic) + i]
      = static_cast<char>((current_version >> (8 * i)) & 0xFF);
  auto n = LZ4F_compressFrame(out.data() + header_size, bound, payload.data(),
                              payload.size(), &prefs);
  // Compression into a buffer of the computed bound cannot fail.
  out.resize(header_size + n);
  return out;
}

caf::expected<std::string> decode_state_file(const std::string& image,
                                             const std::string& origin) {
  if (image.size() < header_size
      || std::memcmp(image.data(), magic, sizeof(magic)) != 0)
    return make_error(checkpoint_errc::not_a_state_file,
                      origin
                        + ": not a Weir state file (bad magic or "
                          "shorter than its header)");
  uint32_t version = 0;
  for (int i = 0; i < 4; ++i)
    version |= static_cast<uint32_t>(
                 static_cast<unsigned char>(image[sizeof(magic) + i]))
               << (8 * i);
  if (version != current_version)
    return make_error(checkpoint_errc::unsupported_version,
                      origin + ": state file version " + std::to_string(version)
                        + " is not supported (expected "
                        + std::to_string(current_version) + ")");
  LZ4F_dctx* dctx = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION)))
    return make_error(checkpoint_errc::corrupt,
                      origin + ": cannot create an LZ4 context");
  struct guard {
    LZ4F_dctx* ctx;
    ~guard() {
      LZ4F_freeDecompressionContext(ctx);
    }
  } g{dctx};
  const char* src = image.data() + header_size;
  size_t src_left = image.size() - header_size;
  LZ4F_frameInfo_t info;
  std::memset(&info, 0, sizeof(info));
  size_t consumed = src_left;
  auto hint = LZ4F_getFrameInfo(dctx, &info, src, &consumed);
  if (LZ4F_isError(hint))
    return make_error(checkpoint_errc::corrupt,
                      origin
                        + ": corrupt frame header: " + LZ4F_getErrorName(hint));
  src += consumed;
  src_left -= consumed;
  if (info.contentChecksumFlag != LZ4F_contentChecksumEnabled)
    return make_error(checkpoint_errc::corrupt,
                      origin + ": frame lacks its checksum");
  // Frames written by encode_state_file always record their size; cap it
  // so a corrupt size cannot make us allocate absurd amounts.
  if (info.contentSize > (uint64_t{1} << 34))
    return make_error(checkpoint_errc::corrupt,
                      origin + ": implausible content size");
  std::string out;
  out.reserve(static_cast<size_t>(info.contentSize));
  char buf[64 * 1024];
  while (hint != 0) {
    if (src_left == 0)
      return make_error(checkpoint_errc::corrupt,
                        origin + ": truncated (the frame ends early)");
    size_t dst_size = sizeof(buf);
    size_t src_size = src_left;
    hint = LZ4F_decompress(dctx, buf, &dst_size, src, &src_size, nullptr);
    if (LZ4F_isError(hint))
      return make_error(checkpoint_errc::corrupt,
                        origin + ": corrupt data: " + LZ4F_getErrorName(hint));
    out.append(buf, dst_size);
    src += src_size;
    src_left -= src_size;
  }
  if (src_left != 0)
    return make_error(checkpoint_errc::corrupt,
                      origin + ": " + std::to_string(src_left)
                        + " trailing bytes after the frame");
  if (out.size() != info.contentSize)
    return make_error(checkpoint_errc::corrupt,
                      origin + ": content size mismatch");
  return out;
}

caf::error write_state_file(const std::string& path,
                            const std::string& payload) {
  auto image = encode_state_file(payload);
  auto tmp = path + ".inprogress";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return make_error(checkpoint_errc::io_error,
                      sys_error("cannot create", tmp));
  if (!write_all(fd, image.data(), image.size()) || ::fsync(fd) != 0) {
    auto err
      = make_error(checkpoint_errc::io_error, sys_error("cannot write", tmp));
    ::close(fd);
    ::unlink(tmp.c_str());
    return err;
  }
  if (::close(fd) != 0) {
    auto err
      = make_error(checkpoint_errc::io_error, sys_error("cannot close", tmp));
    ::unlink(tmp.c_str());
    return err;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    auto err = make_error(checkpoint_errc::io_error,
                          sys_error("cannot rename into", path));
    ::unlink(tmp.c_str());
    return err;
  }
  // Make the rename itself durable.
  auto slash = path.find_last_of('/');
  auto dir
    = slash == std::string::npos ? std::string{"."} : path.substr(0, slash + 1);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return caf::none;
}

caf::expected<std::string> read_state_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return make_error(checkpoint_errc::io_error,
                      sys_error("cannot open state file", path));
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad())
    return make_error(checkpoint_errc::io_error,
                      sys_error("cannot read state file", path));
  return decode_state_file(buf.str(), path);
}

} // namespace weir
