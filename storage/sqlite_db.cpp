#include "storage/sqlite_db.hpp"

#include <utility>

namespace postgate::storage {

std::string_view error_code_for(int rc) {
  switch (rc & 0xff) {
    case SQLITE_FULL:
      return "storage_full";
    case SQLITE_IOERR:
      return "storage_io";
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return "storage_busy";
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return "storage_corrupt";
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_CANTOPEN:
      return "storage_readonly";
    default:
      return "storage_error";
  }
}

bool is_corruption(int rc) {
  const int p = rc & 0xff;
  return p == SQLITE_CORRUPT || p == SQLITE_NOTADB;
}

Stmt& Stmt::operator=(Stmt&& o) noexcept {
  if (this != &o) {
    if (s_ != nullptr) sqlite3_finalize(s_);
    s_ = std::exchange(o.s_, nullptr);
  }
  return *this;
}

Stmt::~Stmt() {
  if (s_ != nullptr) sqlite3_finalize(s_);
}

void Stmt::bind(int i, std::int64_t v) {
  sqlite3_bind_int64(s_, i, v);
}

void Stmt::bind(int i, std::string_view v) {
  sqlite3_bind_text64(s_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}

void Stmt::bind(int i, const std::optional<std::string>& v) {
  if (v)
    bind(i, std::string_view(*v));
  else
    sqlite3_bind_null(s_, i);
}

void Stmt::bind_blob(int i, const std::vector<std::uint8_t>& v) {
  // A zero-length blob must still be a blob, not NULL (NOT NULL columns).
  if (v.empty())
    sqlite3_bind_zeroblob(s_, i, 0);
  else
    sqlite3_bind_blob64(s_, i, v.data(), v.size(), SQLITE_TRANSIENT);
}

void Stmt::bind_null(int i) {
  sqlite3_bind_null(s_, i);
}

int Stmt::step() {
  return sqlite3_step(s_);
}

void Stmt::reset() {
  sqlite3_reset(s_);
  sqlite3_clear_bindings(s_);
}

std::int64_t Stmt::int64(int col) const {
  return sqlite3_column_int64(s_, col);
}

bool Stmt::is_null(int col) const {
  return sqlite3_column_type(s_, col) == SQLITE_NULL;
}

std::string Stmt::text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
  const int n = sqlite3_column_bytes(s_, col);
  return p == nullptr ? std::string() : std::string(p, static_cast<std::size_t>(n));
}

std::optional<std::string> Stmt::text_or_null(int col) const {
  if (sqlite3_column_type(s_, col) == SQLITE_NULL) return std::nullopt;
  return text(col);
}

std::vector<std::uint8_t> Stmt::blob(int col) const {
  const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s_, col));
  const int n = sqlite3_column_bytes(s_, col);
  if (p == nullptr || n <= 0) return {};
  return std::vector<std::uint8_t>(p, p + n);
}

Db& Db::operator=(Db&& o) noexcept {
  if (this != &o) {
    close();
    db_ = std::exchange(o.db_, nullptr);
  }
  return *this;
}

Db::~Db() {
  close();
}

void Db::close() {
  if (db_ != nullptr) {
    // Statements are owned by their Stmt objects, which the store destroys
    // first; close_v2 defers the close should one still be alive.
    sqlite3_close_v2(db_);
    db_ = nullptr;
  }
}

core::Result<Db> Db::open(const std::filesystem::path& path,
                          std::chrono::milliseconds busy_timeout) {
  sqlite3* raw = nullptr;
  // Each connection is used by one thread at a time (the writer, or a reader
  // under the store's mutex), so SQLite's own mutex is not needed.
  const int flags =
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) {
    std::string msg = raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    return core::fail(std::string(error_code_for(rc)), "",
                      "cannot open database " + path.string() + ": " + msg);
  }
  sqlite3_extended_result_codes(raw, 1);
  // A foreign process holding the lock gets this long before SQLITE_BUSY.
  sqlite3_busy_timeout(raw, static_cast<int>(busy_timeout.count()));
  return db;
}

core::Result<Stmt> Db::prepare(std::string_view sql) {
  sqlite3_stmt* s = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &s, nullptr);
  if (rc != SQLITE_OK) return std::unexpected(error(rc, "prepare"));
  return Stmt(s);
}

int Db::exec(std::string_view sql) {
  const std::string s(sql);
  return sqlite3_exec(db_, s.c_str(), nullptr, nullptr, nullptr);
}

core::Error Db::error(int rc, std::string_view what) const {
  std::string msg(what);
  msg += ": ";
  msg += db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  return core::Error{std::string(error_code_for(rc)), "", std::move(msg)};
}

void Db::rollback_if_open() {
  if (in_transaction()) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

core::Result<std::int64_t> Db::query_int(std::string_view sql) {
  auto st = prepare(sql);
  if (!st) return std::unexpected(st.error());
  const int rc = st->step();
  if (rc == SQLITE_ROW) return st->int64(0);
  if (rc == SQLITE_DONE) return std::int64_t{0};
  return std::unexpected(error(rc, sql));
}

core::Result<std::string> Db::query_text(std::string_view sql) {
  auto st = prepare(sql);
  if (!st) return std::unexpected(st.error());
  const int rc = st->step();
  if (rc == SQLITE_ROW) return st->text(0);
  if (rc == SQLITE_DONE) return std::string();
  return std::unexpected(error(rc, sql));
}

}  // namespace postgate::storage
