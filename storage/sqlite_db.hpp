#pragma once
// Minimal RAII over the SQLite C API, and the mapping of SQLite result codes
// to postgate error codes. Internal to storage/.
#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace postgate::storage {

// "storage_full", "storage_io", "storage_busy", "storage_corrupt",
// "storage_readonly" or "storage_error", by primary result code.
std::string_view error_code_for(int sqlite_rc);
bool is_corruption(int sqlite_rc);

class Db;

class Stmt {
 public:
  Stmt() = default;
  Stmt(Stmt&& o) noexcept : s_(o.s_) { o.s_ = nullptr; }
  Stmt& operator=(Stmt&& o) noexcept;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  // Binds by 1-based index. Text and blobs are copied (SQLITE_TRANSIENT).
  void bind(int i, std::int64_t v);
  void bind(int i, std::string_view v);
  void bind(int i, const std::optional<std::string>& v);
  void bind_blob(int i, const std::vector<std::uint8_t>& v);
  void bind_null(int i);
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step();
  void reset();  // also clears bindings

  std::int64_t int64(int col) const;
  bool is_null(int col) const;
  std::string text(int col) const;
  std::optional<std::string> text_or_null(int col) const;
  std::vector<std::uint8_t> blob(int col) const;

 private:
  friend class Db;
  explicit Stmt(sqlite3_stmt* s) : s_(s) {}
  sqlite3_stmt* s_ = nullptr;
};

class Db {
 public:
  Db() = default;
  Db(Db&& o) noexcept : db_(o.db_) { o.db_ = nullptr; }
  Db& operator=(Db&& o) noexcept;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  static core::Result<Db> open(const std::filesystem::path& path,
                               std::chrono::milliseconds busy_timeout);
  void close();
  bool is_open() const { return db_ != nullptr; }
  sqlite3* raw() const { return db_; }

  core::Result<Stmt> prepare(std::string_view sql);
  // Runs one or more statements without results; returns the SQLite code.
  int exec(std::string_view sql);
  // An Error for the last failure on this connection, with code from rc.
  core::Error error(int rc, std::string_view what) const;
  bool in_transaction() const { return db_ != nullptr && sqlite3_get_autocommit(db_) == 0; }
  // Rolls back if a transaction is open; safe after any failure.
  void rollback_if_open();

  // Single-value helpers for PRAGMAs and counts.
  core::Result<std::int64_t> query_int(std::string_view sql);
  core::Result<std::string> query_text(std::string_view sql);

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
};

}  // namespace postgate::storage
