#pragma once
// Thin RAII over the SQLite C API for the HQ database. storage/ has its own,
// internal to the edge store; HQ keeps its own so the two schemas and their
// connection policies can evolve apart.
#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace postgate::hq {

class Stmt {
 public:
  Stmt() = default;
  explicit Stmt(sqlite3_stmt* s) : s_(s) {}
  Stmt(Stmt&& o) noexcept : s_(o.s_) { o.s_ = nullptr; }
  Stmt& operator=(Stmt&& o) noexcept;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  void bind(int i, std::int64_t v);
  void bind(int i, std::string_view v);
  void bind(int i, const std::string& v) { bind(i, std::string_view(v)); }
  void bind(int i, const std::optional<std::string>& v);
  void bind(int i, const std::optional<std::int64_t>& v);
  void bind_blob(int i, const std::vector<std::uint8_t>& v);
  int step();  // SQLITE_ROW, SQLITE_DONE or an error code
  void reset();

  std::int64_t int64(int col) const;
  std::optional<std::int64_t> int64_or_null(int col) const;
  std::string text(int col) const;
  std::optional<std::string> text_or_null(int col) const;
  std::vector<std::uint8_t> blob(int col) const;

 private:
  sqlite3_stmt* s_ = nullptr;
};

class Db {
 public:
  enum class Mode { create, existing };

  Db() = default;
  Db(Db&& o) noexcept : db_(o.db_) { o.db_ = nullptr; }
  Db& operator=(Db&& o) noexcept;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  static core::Result<Db> open(const std::filesystem::path& path, Mode mode,
                               std::chrono::milliseconds busy_timeout);

  core::Result<Stmt> prepare(std::string_view sql);
  core::Status exec(std::string_view sql, std::string_view what);
  core::Result<std::int64_t> query_int(std::string_view sql);
  core::Error error(int rc, std::string_view what) const;
  void rollback_if_open();

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
};

}  // namespace postgate::hq
