// Image::write — replace a file atomically: write a temporary file next to it, fsync (unless
// Durability::kUnsynced), rename.
//
// rename(2) within one file system is atomic: a reader (or a crash) sees the old file or the new
// one, never a mix. The temporary file is named `.NAME.tinyelf-XXXXXX` so a leftover one (after a
// power cut or SIGKILL) is easy to spot and safe to delete.
#include <cerrno>
#include <cstring>
#include <random>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <tinyelf/error.hpp>
#include <tinyelf/image.hpp>

namespace tinyelf {

namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(const fs::path& path, std::string_view what, int err) {
  throw Error(ErrorCode::kWriteFailed,
              fmt::format("cannot write {}: {}: {} ({})", path.string(), what, std::strerror(err), strerrorname_np(err)));
}

// Refuses targets that rename() would replace in surprising ways. A symbolic link is replaced
// itself, like `mv` does; its target is left alone.
void check_target(const fs::path& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return;
    fail(path, "cannot inspect the destination", errno);
  }
  if (S_ISDIR(st.st_mode)) fail(path, "the destination is a folder", EISDIR);
  if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
    fail(path, "the destination is a device, fifo or socket, not replaced", EEXIST);
}

// The temporary file until it is renamed: removed again on every way out that does not rename it.
struct TemporaryFile {
  fs::path path;
  int fd = -1;

  TemporaryFile() = default;
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;
  ~TemporaryFile() {
    if (fd >= 0) ::close(fd);
    if (!path.empty()) ::unlink(path.c_str());
  }
};

// Creates the temporary file with O_EXCL. Mode 0755 is reduced by the umask, like any new file.
void create_temporary(const fs::path& path, TemporaryFile& temporary) {
  const fs::path folder = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::random_device entropy;
  for (int attempt = 0; attempt < 100; ++attempt) {
    fs::path name = folder / fmt::format(".{}.tinyelf-{:06x}", path.filename().string(), entropy() & 0xffffff);
    const int fd = ::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
    if (fd >= 0) {
      temporary.path = std::move(name);
      temporary.fd = fd;
      return;
    }
    if (errno != EEXIST) fail(path, fmt::format("cannot create a temporary file in {}", folder.string()), errno);
  }
  fail(path, fmt::format("cannot find a free temporary file name in {}", folder.string()), EEXIST);
}

void write_all(int fd, std::span<const std::uint8_t> bytes, const fs::path& path) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      fail(path, "write failed", errno);
    }
    bytes = bytes.subspan(static_cast<std::size_t>(written));
  }
}

// Makes the rename itself durable; a failure here changes nothing the caller can act on.
void sync_folder(const fs::path& path) {
  const fs::path folder = path.has_parent_path() ? path.parent_path() : fs::path(".");
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

void Image::write(const std::filesystem::path& path, Durability durability) const {
  if (path.empty() || !path.has_filename()) fail(path, "the destination names no file", EINVAL);
  if (durability != Durability::kSynced && durability != Durability::kUnsynced)
    fail(path, fmt::format("Durability {} is not a tinyelf::Durability", static_cast<int>(durability)), EINVAL);
  const bool synced = durability == Durability::kSynced;
  check_target(path);
  TemporaryFile temporary;
  create_temporary(path, temporary);
  write_all(temporary.fd, bytes_, path);
  if (synced && ::fsync(temporary.fd) != 0) fail(path, "fsync failed", errno);
  if (::close(std::exchange(temporary.fd, -1)) != 0) fail(path, "close failed", errno);
  if (::rename(temporary.path.c_str(), path.c_str()) != 0) fail(path, "cannot rename the temporary file over it", errno);
  temporary.path.clear();  // renamed: nothing left to remove
  if (synced) sync_folder(path);
}

}  // namespace tinyelf
