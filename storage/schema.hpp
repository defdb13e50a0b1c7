#pragma once
// Opening a database file safely: integrity check with quarantine, pragmas,
// and schema migrations. Internal to storage/.
#include <filesystem>

#include "core/result.hpp"
#include "core/time.hpp"
#include "storage/record_store.hpp"
#include "storage/sqlite_db.hpp"

namespace postgate::storage {

// Opens the write connection: runs PRAGMA quick_check (a corrupt file is
// moved to the quarantine directory and "storage_corrupt" returned), sets WAL
// and the sync level, refuses a schema newer than this code
// ("schema_too_new") and applies pending migrations in one transaction.
core::Result<Db> open_write_connection(const StoreOptions& options, const core::Clock& clock);

// A second connection for readers, after the writer has set up the file.
core::Result<Db> open_read_connection(const StoreOptions& options);

// Moves `db` and its -wal/-shm companions into `dir` under a name stamped
// with `now` ("records.20261123T191500Z.db"); returns the new database path.
core::Result<std::filesystem::path> quarantine_files(const std::filesystem::path& db,
                                                     const std::filesystem::path& dir,
                                                     core::TimePoint now);

// Applies migrations user_version+1 .. kSchemaVersion in one transaction.
core::Status migrate(Db& db, const std::filesystem::path& path);

}  // namespace postgate::storage
