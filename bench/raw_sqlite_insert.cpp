// The reference figure for storage throughput: how many ~600-byte rows per
// second plain SQLite commits on this disk with the store's fsync policy
// (WAL, synchronous=FULL), one transaction per row. Group commit in the
// store is measured against this.
//
//   bench_raw_sqlite [rows=2000] [file=raw_bench.db]
//
// Prints "raw_insert_rows_per_s <value>" (and the inputs) on stdout.
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace {

bool exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) == SQLITE_OK) return true;
  std::fprintf(stderr, "bench_raw_sqlite: %s: %s\n", sql, err != nullptr ? err : "?");
  sqlite3_free(err);
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  const long rows = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 2000;
  const std::string path = argc > 2 ? argv[2] : "raw_bench.db";
  if (rows <= 0) {
    std::fprintf(stderr, "usage: bench_raw_sqlite [rows>0] [file]\n");
    return 2;
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);

  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    std::fprintf(stderr, "bench_raw_sqlite: cannot open %s\n", path.c_str());
    return 1;
  }
  // The same pragmas as storage/ (storage/sql.hpp).
  if (!exec(db, "PRAGMA journal_mode=WAL") || !exec(db, "PRAGMA synchronous=FULL") ||
      !exec(db, "PRAGMA journal_size_limit=67108864") ||
      !exec(db,
            "CREATE TABLE rows (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, "
            "payload BLOB NOT NULL)"))
    return 1;

  sqlite3_stmt* insert = nullptr;
  if (sqlite3_prepare_v2(db, "INSERT INTO rows (seq, id, payload) VALUES (?1, ?2, ?3)", -1, &insert,
                         nullptr) != SQLITE_OK) {
    std::fprintf(stderr, "bench_raw_sqlite: prepare: %s\n", sqlite3_errmsg(db));
    return 1;
  }
  // 36-character id plus 564 bytes of incompressible payload: about 600 bytes.
  std::mt19937_64 rng(1);
  std::vector<unsigned char> payload(564);
  char id[48];

  const auto start = std::chrono::steady_clock::now();
  for (long i = 1; i <= rows; ++i) {
    for (auto& b : payload) b = static_cast<unsigned char>(rng());
    std::snprintf(id, sizeof id, "00000000-0000-7000-8000-%012ld", i);
    if (!exec(db, "BEGIN IMMEDIATE")) return 1;
    sqlite3_bind_int64(insert, 1, i);
    sqlite3_bind_text(insert, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_blob(insert, 3, payload.data(), static_cast<int>(payload.size()), SQLITE_STATIC);
    if (sqlite3_step(insert) != SQLITE_DONE) {
      std::fprintf(stderr, "bench_raw_sqlite: insert: %s\n", sqlite3_errmsg(db));
      return 1;
    }
    sqlite3_reset(insert);
    if (!exec(db, "COMMIT")) return 1;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  sqlite3_finalize(insert);
  sqlite3_close(db);

  std::printf("raw_insert_rows %ld\n", rows);
  std::printf("raw_insert_seconds %.3f\n", seconds);
  std::printf("raw_insert_rows_per_s %.1f\n",
              seconds > 0 ? static_cast<double>(rows) / seconds : 0.0);
  return 0;
}
