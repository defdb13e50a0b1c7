#pragma once
// A pass-through SQLite VFS that can make writes or syncs of the WAL fail,
// to test the store's I/O-error path without a broken disk. While a
// FaultVfs object lives it is the default VFS for new connections.
#include <sqlite3.h>

#include <atomic>
#include <cstring>

namespace postgate::storage::testing {

class FaultVfs {
 public:
  static inline std::atomic<bool> fail_wal_sync{false};
  static inline std::atomic<bool> fail_wal_write{false};

  FaultVfs() {
    real_ = sqlite3_vfs_find(nullptr);
    std::memcpy(&vfs_, real_, sizeof vfs_);
    vfs_.zName = "postgate-fault";
    vfs_.pNext = nullptr;
    vfs_.szOsFile = static_cast<int>(sizeof(File)) + real_->szOsFile;
    vfs_.pAppData = real_;
    vfs_.xOpen = &FaultVfs::open;
    sqlite3_vfs_register(&vfs_, 1);
  }
  ~FaultVfs() {
    fail_wal_sync = false;
    fail_wal_write = false;
    sqlite3_vfs_register(real_, 1);
    sqlite3_vfs_unregister(&vfs_);
  }
  FaultVfs(const FaultVfs&) = delete;
  FaultVfs& operator=(const FaultVfs&) = delete;

 private:
  struct File {
    sqlite3_file base;
    bool wal;
    sqlite3_file* real() { return reinterpret_cast<sqlite3_file*>(this + 1); }
  };
  static File* self(sqlite3_file* f) { return reinterpret_cast<File*>(f); }
  static sqlite3_file* real(sqlite3_file* f) { return self(f)->real(); }

  static int open(sqlite3_vfs* vfs, const char* name, sqlite3_file* f, int flags, int* out) {
    auto* underlying = static_cast<sqlite3_vfs*>(vfs->pAppData);
    File* file = self(f);
    file->base.pMethods = nullptr;
    file->wal = (flags & SQLITE_OPEN_WAL) != 0;
    const int rc = underlying->xOpen(underlying, name, file->real(), flags, out);
    if (rc == SQLITE_OK && file->real()->pMethods != nullptr) file->base.pMethods = &kMethods;
    return rc;
  }

  static int close(sqlite3_file* f) { return real(f)->pMethods->xClose(real(f)); }
  static int read(sqlite3_file* f, void* buf, int n, sqlite3_int64 off) {
    return real(f)->pMethods->xRead(real(f), buf, n, off);
  }
  static int write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
    if (self(f)->wal && fail_wal_write) return SQLITE_IOERR_WRITE;
    return real(f)->pMethods->xWrite(real(f), buf, n, off);
  }
  static int truncate(sqlite3_file* f, sqlite3_int64 size) {
    return real(f)->pMethods->xTruncate(real(f), size);
  }
  static int sync(sqlite3_file* f, int flags) {
    if (self(f)->wal && fail_wal_sync) return SQLITE_IOERR_FSYNC;
    return real(f)->pMethods->xSync(real(f), flags);
  }
  static int file_size(sqlite3_file* f, sqlite3_int64* size) {
    return real(f)->pMethods->xFileSize(real(f), size);
  }
  static int lock(sqlite3_file* f, int l) { return real(f)->pMethods->xLock(real(f), l); }
  static int unlock(sqlite3_file* f, int l) { return real(f)->pMethods->xUnlock(real(f), l); }
  static int check_reserved(sqlite3_file* f, int* out) {
    return real(f)->pMethods->xCheckReservedLock(real(f), out);
  }
  static int file_control(sqlite3_file* f, int op, void* arg) {
    return real(f)->pMethods->xFileControl(real(f), op, arg);
  }
  static int sector_size(sqlite3_file* f) { return real(f)->pMethods->xSectorSize(real(f)); }
  static int device_characteristics(sqlite3_file* f) {
    return real(f)->pMethods->xDeviceCharacteristics(real(f));
  }
  static int shm_map(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
    return real(f)->pMethods->xShmMap(real(f), region, size, extend, out);
  }
  static int shm_lock(sqlite3_file* f, int offset, int n, int flags) {
    return real(f)->pMethods->xShmLock(real(f), offset, n, flags);
  }
  static void shm_barrier(sqlite3_file* f) { real(f)->pMethods->xShmBarrier(real(f)); }
  static int shm_unmap(sqlite3_file* f, int del) {
    return real(f)->pMethods->xShmUnmap(real(f), del);
  }
  // No memory-mapped I/O: every read goes through xRead.
  static int fetch(sqlite3_file*, sqlite3_int64, int, void** out) {
    *out = nullptr;
    return SQLITE_OK;
  }
  static int unfetch(sqlite3_file*, sqlite3_int64, void*) { return SQLITE_OK; }

  static constexpr sqlite3_io_methods kMethods = {
      3,
      &close,
      &read,
      &write,
      &truncate,
      &sync,
      &file_size,
      &lock,
      &unlock,
      &check_reserved,
      &file_control,
      &sector_size,
      &device_characteristics,
      &shm_map,
      &shm_lock,
      &shm_barrier,
      &shm_unmap,
      &fetch,
      &unfetch,
  };

  sqlite3_vfs* real_ = nullptr;
  sqlite3_vfs vfs_{};
};

}  // namespace postgate::storage::testing
