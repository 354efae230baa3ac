#include "engine/kv/kv_tier.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace cj {

const char* kv_tier_name(KVTier t) {
  switch (t) {
    case KVTier::Host: return "host";
    case KVTier::Disk: return "disk";
    case KVTier::Device: return "device";
    case KVTier::None: break;
  }
  return "none";
}

KVArena::KVArena(size_t page_bytes, int slots) : page_bytes_(page_bytes), slots_(slots) {
  free_.reserve(size_t(slots));
  for (int i = slots - 1; i >= 0; --i) free_.push_back(i);
}

int KVArena::allocate() {
  if (free_.empty()) return -1;
  const int s = free_.back();
  free_.pop_back();
  return s;
}

void KVArena::release(int slot) { free_.push_back(slot); }

namespace {

class HostArena final : public KVArena {
 public:
  HostArena(size_t pb, int slots, uint8_t* base) : KVArena(pb, slots), base_(base) {}
  ~HostArena() override { std::free(base_); }
  KVTier kind() const override { return KVTier::Host; }
  uint8_t* host_ptr(int slot) override { return base_ + size_t(slot) * page_bytes(); }
  bool read(int slot, size_t off, size_t n, uint8_t* dst) const override {
    std::memcpy(dst, base_ + size_t(slot) * page_bytes() + off, n);
    return true;
  }
  bool write(int slot, size_t off, const uint8_t* src, size_t n) override {
    std::memcpy(base_ + size_t(slot) * page_bytes() + off, src, n);
    return true;
  }
  std::string describe() const override { return "KV host tier"; }

 private:
  uint8_t* base_;
};

class DiskArena final : public KVArena {
 public:
  DiskArena(size_t pb, int slots, int fd, std::string path) : KVArena(pb, slots), fd_(fd), path_(std::move(path)) {}
  ~DiskArena() override {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  KVTier kind() const override { return KVTier::Disk; }
  bool read(int slot, size_t off, size_t n, uint8_t* dst) const override {
    return ::pread(fd_, dst, n, off_t(size_t(slot) * page_bytes() + off)) == ssize_t(n);
  }
  bool write(int slot, size_t off, const uint8_t* src, size_t n) override {
    return ::pwrite(fd_, src, n, off_t(size_t(slot) * page_bytes() + off)) == ssize_t(n);
  }
  std::string describe() const override { return "KV spill file " + path_; }

 private:
  int fd_;
  std::string path_;
};

}  // namespace

Result<std::unique_ptr<KVArena>> make_host_arena(size_t page_bytes, int slots) {
  uint8_t* base = nullptr;
  if (slots > 0) {
    void* mem = std::aligned_alloc(64, size_t(slots) * page_bytes);
    if (!mem)
      return make_error("out of memory for the KV host tier (" + std::to_string((size_t(slots) * page_bytes) >> 20) +
                        " MiB); lower --kv-host-mb");
    std::memset(mem, 0, size_t(slots) * page_bytes);
    base = static_cast<uint8_t*>(mem);
  }
  return std::unique_ptr<KVArena>(new HostArena(page_bytes, slots, base));
}

Result<std::unique_ptr<KVArena>> make_disk_arena(size_t page_bytes, int slots, const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return make_error("cannot create the KV spill file " + path + ": " + std::strerror(errno));
  if (::ftruncate(fd, off_t(size_t(slots) * page_bytes)) != 0) {
    const std::string e = std::strerror(errno);
    ::close(fd);
    ::unlink(path.c_str());
    return make_error("cannot size the KV spill file " + path + ": " + e);
  }
  return std::unique_ptr<KVArena>(new DiskArena(page_bytes, slots, fd, path));
}

bool kv_copy(const KVArena& from, int from_slot, KVArena& to, int to_slot, uint8_t* staging) {
  const size_t pb = from.page_bytes();
  if (uint8_t* dst = to.host_ptr(to_slot)) return from.read(from_slot, 0, pb, dst);
  if (uint8_t* src = const_cast<KVArena&>(from).host_ptr(from_slot)) return to.write(to_slot, 0, src, pb);
  return from.read(from_slot, 0, pb, staging) && to.write(to_slot, 0, staging, pb);
}

}  // namespace cj
