#include "storage/schema.hpp"

#include <chrono>
#include <cstdio>
#include <string>
#include <system_error>

#include "storage/sql.hpp"

namespace postgate::storage {

namespace {

namespace fs = std::filesystem;

std::string stamp(core::TimePoint now) {
  using namespace std::chrono;
  const auto day = floor<days>(now);
  const year_month_day ymd{day};
  const hh_mm_ss<seconds> hms{floor<seconds>(now - day)};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02u%02uT%02ld%02ld%02ldZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()),
                static_cast<long>(hms.seconds().count()));
  return buf;
}

// rename(2), or copy and remove when the quarantine is on another file system.
std::error_code move_file(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::rename(from, to, ec);
  if (!ec || ec != std::errc::cross_device_link) return ec;
  ec.clear();
  fs::copy_file(from, to, fs::copy_options::none, ec);
  if (ec) return ec;
  fs::remove(from, ec);
  return ec;
}

core::Error corrupt_error(const fs::path& path, const core::Result<fs::path>& moved,
                          const std::string& detail) {
  if (moved)
    return core::Error{"storage_corrupt", "",
                       "database " + path.string() + " failed its integrity check (" + detail +
                           "); it was moved to " + moved->string() +
                           " for inspection, and a fresh database will be created at the next "
                           "start"};
  return core::Error{"storage_corrupt", "",
                     "database " + path.string() + " failed its integrity check (" + detail +
                         ") and could not be moved to quarantine: " + moved.error().message};
}

core::Status set_pragmas(Db& db, const StoreOptions& options) {
  auto mode = db.query_text(sql::kJournalWal);
  if (!mode) return std::unexpected(mode.error());
  if (*mode != "wal")
    return core::fail("storage_wal", "",
                      "database " + options.path.string() + " cannot use WAL mode (journal mode '" +
                          *mode + "'); put it on a local file system");
  const auto sync = options.sync == SyncPolicy::extra ? sql::kSyncExtra : sql::kSyncFull;
  for (std::string_view p : {sync, sql::kJournalSizeLimit}) {
    if (const int rc = db.exec(p); rc != SQLITE_OK) return std::unexpected(db.error(rc, p));
  }
  if (options.max_page_count) {
    const std::string p =
        std::string(sql::kMaxPageCountPrefix) + std::to_string(*options.max_page_count);
    auto r = db.query_int(p);
    if (!r) return std::unexpected(r.error());
  }
  return {};
}

}  // namespace

core::Result<fs::path> quarantine_files(const fs::path& db, const fs::path& dir,
                                        core::TimePoint now) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    return core::fail("quarantine_failed", "",
                      "cannot create quarantine directory " + dir.string() + ": " + ec.message());
  const std::string base = db.stem().string() + "." + stamp(now);
  const std::string ext = db.extension().string();
  fs::path target;
  for (int n = 1;; ++n) {
    target = dir / (base + (n == 1 ? "" : "-" + std::to_string(n)) + ext);
    if (!fs::exists(target, ec) && !fs::exists(target.string() + "-wal", ec)) break;
  }
  // Companions first: a database moved without its WAL would lose the
  // committed transactions that live only in the WAL.
  for (const char* suffix : {"-wal", "-shm"}) {
    const fs::path from = db.string() + suffix;
    if (!fs::exists(from, ec)) continue;
    if (auto err = move_file(from, target.string() + suffix))
      return core::fail(
          "quarantine_failed", "",
          "cannot move " + from.string() + " to " + dir.string() + ": " + err.message());
  }
  if (auto err = move_file(db, target))
    return core::fail("quarantine_failed", "",
                      "cannot move " + db.string() + " to " + dir.string() + ": " + err.message());
  return target;
}

core::Status migrate(Db& db, const fs::path& path) {
  auto version = db.query_int(sql::kUserVersion);
  if (!version) return std::unexpected(version.error());
  if (*version > sql::kSchemaVersion)
    return core::fail("schema_too_new", "",
                      "database " + path.string() + " has schema version " +
                          std::to_string(*version) + ", but this postgate knows versions up to " +
                          std::to_string(sql::kSchemaVersion) +
                          "; run the newer postgate that wrote it, or restore a backup");
  if (*version == sql::kSchemaVersion) return {};
  if (const int rc = db.exec(sql::kBeginImmediate); rc != SQLITE_OK)
    return std::unexpected(db.error(rc, "begin migration"));
  for (int v = static_cast<int>(*version) + 1; v <= sql::kSchemaVersion; ++v) {
    const std::string step = std::string(sql::kMigrations[static_cast<std::size_t>(v - 1)]) +
                             ";\nPRAGMA user_version = " + std::to_string(v) + ";";
    if (const int rc = db.exec(step); rc != SQLITE_OK) {
      core::Error e = db.error(rc, "schema migration to version " + std::to_string(v));
      db.rollback_if_open();
      return std::unexpected(std::move(e));
    }
  }
  if (const int rc = db.exec(sql::kCommit); rc != SQLITE_OK) {
    core::Error e = db.error(rc, "commit migration");
    db.rollback_if_open();
    return std::unexpected(std::move(e));
  }
  return {};
}

core::Result<Db> open_write_connection(const StoreOptions& options, const core::Clock& clock) {
  const fs::path& path = options.path;
  if (path.empty()) return core::fail("storage_open", "path", "no database path given");
  std::error_code ec;
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
  const fs::path qdir =
      options.quarantine_dir.empty()
          ? (path.has_parent_path() ? path.parent_path() : fs::path(".")) / "quarantine"
          : options.quarantine_dir;

  auto db = Db::open(path, options.busy_timeout);
  if (!db) return std::unexpected(db.error());

  // quick_check reads every page but skips the index cross-checks of
  // integrity_check, so it stays fast enough for every start.
  std::string detail;
  int check_rc = SQLITE_OK;
  {
    auto st = db->prepare(sql::kQuickCheck);
    if (!st) {
      check_rc = sqlite3_errcode(db->raw());
      if (!is_corruption(check_rc)) return std::unexpected(st.error());
      detail = st.error().message;
    } else {
      check_rc = st->step();
      if (check_rc == SQLITE_ROW) {
        const std::string first = st->text(0);
        if (first != "ok") {
          detail = "quick_check: " + first;
          check_rc = SQLITE_CORRUPT;
        } else {
          check_rc = SQLITE_OK;
        }
      } else if (is_corruption(check_rc)) {
        detail = db->error(check_rc, "quick_check").message;
      } else if (check_rc != SQLITE_DONE) {
        return std::unexpected(db->error(check_rc, "quick_check"));
      }
    }
  }
  if (is_corruption(check_rc)) {
    // Closing the last connection would checkpoint the WAL into the damaged
    // file and delete it; quarantine keeps both as they were found.
    sqlite3_db_config(db->raw(), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
    db->close();
    return std::unexpected(corrupt_error(path, quarantine_files(path, qdir, clock.now()), detail));
  }

  if (auto s = set_pragmas(*db, options); !s) {
    if (s.error().code == "storage_corrupt") {
      sqlite3_db_config(db->raw(), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
      db->close();
      return std::unexpected(
          corrupt_error(path, quarantine_files(path, qdir, clock.now()), s.error().message));
    }
    return std::unexpected(s.error());
  }
  if (auto s = migrate(*db, path); !s) return std::unexpected(s.error());
  return db;
}

core::Result<Db> open_read_connection(const StoreOptions& options) {
  auto db = Db::open(options.path, options.busy_timeout);
  if (!db) return std::unexpected(db.error());
  if (const int rc = db->exec(sql::kQueryOnly); rc != SQLITE_OK)
    return std::unexpected(db->error(rc, "query_only"));
  return db;
}

}  // namespace postgate::storage
