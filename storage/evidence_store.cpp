#include "storage/evidence_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>

#include <openssl/evp.h>
#include <nlohmann/json.hpp>

#include "storage/row_codec.hpp"
#include "storage/sql.hpp"

namespace postgate::storage {

namespace fs = std::filesystem;
using core::fail;
using core::Result;
using core::Status;

namespace {

constexpr std::string_view kItemColumns =
    "id, kind, source, content_type, captured_at, size, sha256, record_id, record_seq, binding, "
    "meta, acked, mismatches, state, file";

std::string hex(const unsigned char* p, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s;
  s.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    s += digits[p[i] >> 4];
    s += digits[p[i] & 15];
  }
  return s;
}

std::string sha256_hex(const std::vector<std::uint8_t>& bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  return hex(md, len);
}

core::Error io_error(std::string_view what, const fs::path& p, int err) {
  return core::Error{err == ENOSPC ? "storage_full" : "evidence_io", "storage.evidence_dir",
                     std::string(what) + " " + p.string() + ": " + std::strerror(err)};
}

// Writes the whole file and makes it durable (file and directory entry).
Status write_durably(const fs::path& path, const std::vector<std::uint8_t>& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return std::unexpected(io_error("cannot create", path, errno));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      ::unlink(path.c_str());
      return std::unexpected(io_error("cannot write", path, err));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    ::unlink(path.c_str());
    return std::unexpected(io_error("cannot sync", path, err));
  }
  ::close(fd);
  const int dfd = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

Result<std::vector<std::uint8_t>> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::unexpected(io_error("cannot open", path, errno ? errno : ENOENT));
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
  if (in.bad()) return std::unexpected(io_error("cannot read", path, EIO));
  return bytes;
}

core::EvidenceItem item_from(const Stmt& st) {
  core::EvidenceItem it;
  it.id = core::Uuid::parse(st.text(0)).value_or(core::Uuid{});
  it.kind = st.text(1);
  it.source = st.text(2);
  it.content_type = st.text(3);
  it.captured_at = from_unix_ms(st.int64(4));
  it.size = static_cast<std::uint64_t>(st.int64(5));
  it.sha256 = st.text(6);
  if (const auto r = st.text_or_null(7)) it.record_id = core::Uuid::parse(*r);
  if (!st.is_null(8)) it.record_seq = static_cast<std::uint64_t>(st.int64(8));
  it.binding =
      core::evidence_binding_from_string(st.text(9)).value_or(core::EvidenceBinding::unbound);
  const auto meta = nlohmann::json::parse(st.text(10), nullptr, false);
  if (meta.is_object())
    for (const auto& [k, v] : meta.items())
      if (v.is_string()) it.meta[k] = v.get<std::string>();
  it.acked = static_cast<std::uint64_t>(st.int64(11));
  it.mismatches = static_cast<int>(st.int64(12));
  return it;
}

}  // namespace

SqliteEvidenceStore::SqliteEvidenceStore(EvidenceOptions options, const core::Clock& clock,
                                         core::RandomSource& random)
    : options_(std::move(options)), clock_(clock), random_(random) {}

Result<std::unique_ptr<SqliteEvidenceStore>> SqliteEvidenceStore::open(EvidenceOptions options,
                                                                       const core::Clock& clock,
                                                                       core::RandomSource& random) {
  std::error_code ec;
  fs::create_directories(options.dir, ec);
  if (ec)
    return fail("evidence_io", "storage.evidence_dir",
                "cannot create " + options.dir.string() + ": " + ec.message());
  fs::permissions(options.dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  auto db = Db::open(options.db_path, options.busy_timeout);
  if (!db) return std::unexpected(db.error());
  auto version = db->query_int(sql::kUserVersion);
  if (!version) return std::unexpected(version.error());
  if (*version < 3)
    return fail("schema_old", "storage.path",
                "the database has no evidence table yet (schema " + std::to_string(*version) +
                    "); open the record store first");
  std::unique_ptr<SqliteEvidenceStore> s(
      new SqliteEvidenceStore(std::move(options), clock, random));
  s->db_ = std::move(*db);
  if (auto r = s->reconcile_held(); !r) return std::unexpected(r.error());
  return s;
}

Status SqliteEvidenceStore::reconcile_held() {
  // Held items outlived their parcel (the daemon stopped before the commit).
  auto held = query_items(std::string("SELECT ") + std::string(kItemColumns) +
                              " FROM evidence WHERE state = 'held' AND ?1 = ?1",
                          "");
  if (!held) return std::unexpected(held.error());
  for (const auto& it : *held) {
    if (it.kind == "xray") {
      if (auto s = exec_update("UPDATE evidence SET state = 'pending', binding = 'unbound' "
                               "WHERE id = ?1",
                               it.id.str());
          !s)
        return s;
    } else if (auto s = discard_held(it.id); !s) {
      return s;
    }
  }
  // Files without a row: a crash between the file and its row.
  std::set<std::string> known;
  {
    auto st = db_.prepare("SELECT file FROM evidence WHERE file IS NOT NULL");
    if (!st) return std::unexpected(st.error());
    int rc;
    while ((rc = st->step()) == SQLITE_ROW) known.insert(st->text(0));
    if (rc != SQLITE_DONE) return std::unexpected(db_.error(rc, "evidence files"));
  }
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(options_.dir, ec)) {
    const auto name = e.path().filename().string();
    if (e.is_regular_file() && name.ends_with(".pge") && !known.contains(name))
      fs::remove(e.path(), ec);
  }
  return {};
}

Status SqliteEvidenceStore::make_room(std::uint64_t incoming) {
  for (;;) {
    auto total =
        db_.query_int("SELECT COALESCE(SUM(stored_bytes), 0) FROM evidence WHERE file IS NOT NULL");
    if (!total) return std::unexpected(total.error());
    if (static_cast<std::uint64_t>(*total) + incoming <= options_.max_total_bytes) return {};
    auto st = db_.prepare(
        "SELECT id, file FROM evidence WHERE state = 'delivered' AND file IS NOT NULL "
        "ORDER BY delivered_at LIMIT 1");
    if (!st) return std::unexpected(st.error());
    const int rc = st->step();
    if (rc == SQLITE_DONE)
      return fail("evidence_full", "storage.evidence_max_total_bytes",
                  "evidence storage is full (" + std::to_string(*total) +
                      " bytes held, nothing delivered to evict); the item was not stored");
    if (rc != SQLITE_ROW) return std::unexpected(db_.error(rc, "evict"));
    const std::string id = st->text(0);
    const std::string file = st->text(1);
    std::error_code ec;
    fs::remove(options_.dir / file, ec);
    if (auto s =
            exec_update("UPDATE evidence SET state = 'evicted', file = NULL WHERE id = ?1", id);
        !s)
      return s;
    if (cached_id_ == id) cached_id_.clear();
  }
}

Result<core::EvidenceRef> SqliteEvidenceStore::put(NewEvidence e) {
  if (e.bytes.size() > options_.max_item_bytes)
    return fail("evidence_too_large", "storage.evidence_max_item_bytes",
                e.kind + " of " + std::to_string(e.bytes.size()) + " bytes exceeds the cap of " +
                    std::to_string(options_.max_item_bytes));
  const auto now = clock_.now();
  const core::Uuid id = core::make_uuid_v7(now, random_);
  const std::string ids = id.str();
  const std::string sha = sha256_hex(e.bytes);
  auto sealed =
      seal(options_.keys.current,
           std::string_view(reinterpret_cast<const char*>(e.bytes.data()), e.bytes.size()), ids);
  if (!sealed) return std::unexpected(sealed.error());
  if (auto s = make_room(sealed->size()); !s) return std::unexpected(s.error());
  const std::string file = ids + ".pge";
  const fs::path path = options_.dir / file;
  if (auto s = write_durably(path, *sealed); !s) return std::unexpected(s.error());

  nlohmann::json meta = nlohmann::json::object();
  for (const auto& [k, v] : e.meta) meta[k] = v;
  auto st = db_.prepare(
      "INSERT INTO evidence (id, kind, source, content_type, captured_at, created_at, size, "
      "sha256, file, stored_bytes, record_id, record_seq, binding, meta, state) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)");
  if (!st) return std::unexpected(st.error());
  st->bind(1, std::string_view(ids));
  st->bind(2, std::string_view(e.kind));
  st->bind(3, std::string_view(e.source));
  st->bind(4, std::string_view(e.content_type));
  st->bind(5, to_unix_ms(e.captured_at));
  st->bind(6, to_unix_ms(now));
  st->bind(7, static_cast<std::int64_t>(e.bytes.size()));
  st->bind(8, std::string_view(sha));
  st->bind(9, std::string_view(file));
  st->bind(10, static_cast<std::int64_t>(sealed->size()));
  if (e.record_id)
    st->bind(11, std::string_view(e.record_id->str()));
  else
    st->bind_null(11);
  if (e.record_seq)
    st->bind(12, static_cast<std::int64_t>(*e.record_seq));
  else
    st->bind_null(12);
  st->bind(13, to_string(e.binding));
  st->bind(14, std::string_view(meta.dump()));
  st->bind(15, std::string_view(e.held ? "held" : "pending"));
  if (const int rc = st->step(); rc != SQLITE_DONE) {
    auto err = db_.error(rc, "evidence insert");
    std::error_code ec;
    fs::remove(path, ec);
    return std::unexpected(err);
  }
  core::EvidenceRef ref;
  ref.id = ids;
  ref.kind = e.kind;
  ref.source = e.source;
  ref.path = path.string();
  ref.sha256 = sha;
  ref.size = e.bytes.size();
  ref.captured_at = e.captured_at;
  return ref;
}

Status SqliteEvidenceStore::discard_held(const core::Uuid& id) {
  const std::string ids = id.str();
  auto st = db_.prepare("SELECT file FROM evidence WHERE id = ?1 AND state = 'held'");
  if (!st) return std::unexpected(st.error());
  st->bind(1, std::string_view(ids));
  const int rc = st->step();
  if (rc == SQLITE_DONE) return {};  // bound meanwhile, or gone
  if (rc != SQLITE_ROW) return std::unexpected(db_.error(rc, "evidence discard"));
  const auto file = st->text_or_null(0);
  st->reset();
  if (auto s = exec_update("DELETE FROM evidence WHERE id = ?1 AND state = 'held'", ids); !s)
    return s;
  if (file) {
    std::error_code ec;
    fs::remove(options_.dir / *file, ec);
  }
  if (cached_id_ == ids) cached_id_.clear();
  return {};
}

Status SqliteEvidenceStore::bind(const core::Uuid& id, const core::Uuid& record_id,
                                 std::uint64_t record_seq, core::EvidenceBinding how) {
  auto st = db_.prepare(
      "UPDATE evidence SET record_id = ?2, record_seq = ?3, binding = ?4, "
      "state = CASE state WHEN 'held' THEN 'pending' ELSE state END "
      "WHERE id = ?1 AND record_id IS NULL");
  if (!st) return std::unexpected(st.error());
  const std::string ids = id.str();
  st->bind(1, std::string_view(ids));
  st->bind(2, std::string_view(record_id.str()));
  st->bind(3, static_cast<std::int64_t>(record_seq));
  st->bind(4, to_string(how));
  if (const int rc = st->step(); rc != SQLITE_DONE)
    return std::unexpected(db_.error(rc, "evidence bind"));
  if (sqlite3_changes(db_.raw()) == 0)
    return fail("evidence_bound", "id", "evidence " + ids + " is unknown or already bound");
  return {};
}

Status SqliteEvidenceStore::release_unbound(const core::Uuid& id) {
  return exec_update(
      "UPDATE evidence SET state = 'pending', binding = 'unbound' "
      "WHERE id = ?1 AND state = 'held' AND record_id IS NULL",
      id.str());
}

Result<std::optional<core::EvidenceItem>> SqliteEvidenceStore::find_by_meta(
    const std::string& source, const std::string& key, const std::string& value) const {
  auto st = db_.prepare(std::string("SELECT ") + std::string(kItemColumns) +
                        " FROM evidence WHERE source = ?1 AND json_extract(meta, ?2) = ?3 LIMIT 1");
  if (!st) return std::unexpected(st.error());
  st->bind(1, std::string_view(source));
  st->bind(2, std::string_view("$.\"" + key + "\""));
  st->bind(3, std::string_view(value));
  const int rc = st->step();
  if (rc == SQLITE_DONE) return std::optional<core::EvidenceItem>();
  if (rc != SQLITE_ROW) return std::unexpected(db_.error(rc, "evidence find"));
  return std::optional<core::EvidenceItem>(item_from(*st));
}

Result<EvidenceStats> SqliteEvidenceStore::stats() const {
  auto st = db_.prepare(
      "SELECT state, COUNT(*), COALESCE(SUM(size - acked), 0), "
      "COALESCE(SUM(CASE WHEN file IS NOT NULL THEN stored_bytes ELSE 0 END), 0) "
      "FROM evidence GROUP BY state");
  if (!st) return std::unexpected(st.error());
  EvidenceStats out;
  int rc;
  while ((rc = st->step()) == SQLITE_ROW) {
    const auto state = st->text(0);
    const auto n = static_cast<std::uint64_t>(st->int64(1));
    out.stored_bytes += static_cast<std::uint64_t>(st->int64(3));
    if (state == "held") out.held = n;
    if (state == "pending") {
      out.pending = n;
      out.pending_bytes = static_cast<std::uint64_t>(st->int64(2));
    }
    if (state == "delivered") out.delivered = n;
    if (state == "failed") out.failed = n;
    if (state == "evicted") out.evicted = n;
  }
  if (rc != SQLITE_DONE) return std::unexpected(db_.error(rc, "evidence stats"));
  return out;
}

Result<std::vector<core::EvidenceItem>> SqliteEvidenceStore::query_items(
    std::string_view sql, const std::string& arg) const {
  auto st = db_.prepare(sql);
  if (!st) return std::unexpected(st.error());
  st->bind(1, std::string_view(arg));
  std::vector<core::EvidenceItem> out;
  int rc;
  while ((rc = st->step()) == SQLITE_ROW) out.push_back(item_from(*st));
  if (rc != SQLITE_DONE) return std::unexpected(db_.error(rc, "evidence query"));
  return out;
}

Result<std::vector<core::EvidenceItem>> SqliteEvidenceStore::for_record(
    std::uint64_t record_seq) const {
  return query_items(
      std::string("SELECT ") + std::string(kItemColumns) +
          " FROM evidence WHERE record_seq = CAST(?1 AS INTEGER) ORDER BY created_at",
      std::to_string(record_seq));
}

Result<std::optional<core::EvidenceItem>> SqliteEvidenceStore::item(const core::Uuid& id) const {
  auto items = query_items(
      std::string("SELECT ") + std::string(kItemColumns) + " FROM evidence WHERE id = ?1",
      id.str());
  if (!items) return std::unexpected(items.error());
  if (items->empty()) return std::optional<core::EvidenceItem>();
  return std::optional<core::EvidenceItem>(std::move(items->front()));
}

Result<std::optional<core::EvidenceItem>> SqliteEvidenceStore::next_evidence() const {
  // Requested first; otherwise, unless uploads wait for requests, oldest first.
  const std::string where = options_.upload_on_request ? "AND requested = 1 " : "";
  auto items = query_items(std::string("SELECT ") + std::string(kItemColumns) +
                               " FROM evidence WHERE state = 'pending' AND file IS NOT NULL " +
                               where + "AND ?1 = ?1 ORDER BY requested DESC, created_at LIMIT 1",
                           "");
  if (!items) return std::unexpected(items.error());
  if (items->empty()) return std::optional<core::EvidenceItem>();
  return std::optional<core::EvidenceItem>(std::move(items->front()));
}

Result<std::vector<std::uint8_t>> SqliteEvidenceStore::read_all(const core::Uuid& id) const {
  auto plain = cached(id);
  if (!plain) return std::unexpected(plain.error());
  return **plain;
}

// Decrypts an item once and keeps it: the uplink reads it chunk by chunk.
Result<const std::vector<std::uint8_t>*> SqliteEvidenceStore::cached(const core::Uuid& id) const {
  const std::string ids = id.str();
  if (cached_id_ == ids) return &cached_plain_;
  auto st = db_.prepare("SELECT file, sha256 FROM evidence WHERE id = ?1");
  if (!st) return std::unexpected(st.error());
  st->bind(1, std::string_view(ids));
  const int rc = st->step();
  if (rc == SQLITE_DONE) return fail("evidence_unknown", "id", "no evidence " + ids);
  if (rc != SQLITE_ROW) return std::unexpected(db_.error(rc, "evidence read"));
  const auto file = st->text_or_null(0);
  const std::string sha = st->text(1);
  if (!file) return fail("evidence_evicted", "id", "evidence " + ids + " was evicted");
  auto sealed = read_file(options_.dir / *file);
  if (!sealed) return std::unexpected(sealed.error());
  auto plain = open_sealed(options_.keys, *sealed, ids);
  if (!plain) return std::unexpected(plain.error());
  std::vector<std::uint8_t> bytes(plain->begin(), plain->end());
  if (sha256_hex(bytes) != sha)
    return fail("evidence_corrupt", "id", "evidence " + ids + " does not match its SHA-256");
  cached_id_ = ids;
  cached_plain_ = std::move(bytes);
  return &cached_plain_;
}

Result<std::vector<std::uint8_t>> SqliteEvidenceStore::read_evidence(const core::Uuid& id,
                                                                     std::uint64_t offset,
                                                                     std::size_t len) const {
  auto plain = cached(id);
  if (!plain) return std::unexpected(plain.error());
  const std::vector<std::uint8_t>* all = *plain;
  if (offset > all->size())
    return fail("bad_offset", "offset", "offset beyond the end of evidence " + id.str());
  const auto n = std::min<std::uint64_t>(len, all->size() - offset);
  return std::vector<std::uint8_t>(all->begin() + static_cast<std::ptrdiff_t>(offset),
                                   all->begin() + static_cast<std::ptrdiff_t>(offset + n));
}

Status SqliteEvidenceStore::exec_update(std::string_view sql, const std::string& id,
                                        std::optional<std::int64_t> a,
                                        std::optional<std::string> b) {
  auto st = db_.prepare(sql);
  if (!st) return std::unexpected(st.error());
  st->bind(1, std::string_view(id));
  if (a) st->bind(2, *a);
  if (b) st->bind(3, std::string_view(*b));
  if (const int rc = st->step(); rc != SQLITE_DONE)
    return std::unexpected(db_.error(rc, "evidence update"));
  return {};
}

Status SqliteEvidenceStore::evidence_progress(const core::Uuid& id, std::uint64_t acked,
                                              int mismatches) {
  auto st = db_.prepare("UPDATE evidence SET acked = ?2, mismatches = ?3 WHERE id = ?1");
  if (!st) return std::unexpected(st.error());
  st->bind(1, std::string_view(id.str()));
  st->bind(2, static_cast<std::int64_t>(acked));
  st->bind(3, std::int64_t{mismatches});
  if (const int rc = st->step(); rc != SQLITE_DONE)
    return std::unexpected(db_.error(rc, "evidence progress"));
  return {};
}

Status SqliteEvidenceStore::evidence_delivered(const core::Uuid& id) {
  return exec_update(
      "UPDATE evidence SET state = 'delivered', acked = size, requested = 0, delivered_at = ?2 "
      "WHERE id = ?1 AND state = 'pending'",
      id.str(), to_unix_ms(clock_.now()));
}

Status SqliteEvidenceStore::evidence_failed(const core::Uuid& id, const std::string& reason) {
  auto st = db_.prepare(
      "UPDATE evidence SET state = 'failed', requested = 0, reason = ?2 "
      "WHERE id = ?1 AND state = 'pending'");
  if (!st) return std::unexpected(st.error());
  st->bind(1, std::string_view(id.str()));
  st->bind(2, std::string_view(reason.substr(0, 256)));
  if (const int rc = st->step(); rc != SQLITE_DONE)
    return std::unexpected(db_.error(rc, "evidence failed"));
  return {};
}

Result<std::size_t> SqliteEvidenceStore::request_evidence(std::optional<core::Uuid> record_id,
                                                          std::optional<std::uint64_t> record_seq) {
  if (!record_id && !record_seq) return fail("bad_request", "", "name a record id or seq");
  // A delivered item still on disk is sent again from the start: HQ asking
  // for it means HQ no longer has it.
  auto st = db_.prepare(
      "UPDATE evidence SET requested = 1, "
      "acked = CASE state WHEN 'delivered' THEN 0 ELSE acked END, state = 'pending' "
      "WHERE state IN ('pending', 'delivered') AND file IS NOT NULL AND "
      "((?1 IS NOT NULL AND record_id = ?1) OR (?2 IS NOT NULL AND record_seq = ?2))");
  if (!st) return std::unexpected(st.error());
  if (record_id)
    st->bind(1, std::string_view(record_id->str()));
  else
    st->bind_null(1);
  if (record_seq)
    st->bind(2, static_cast<std::int64_t>(*record_seq));
  else
    st->bind_null(2);
  if (const int rc = st->step(); rc != SQLITE_DONE)
    return std::unexpected(db_.error(rc, "evidence request"));
  return static_cast<std::size_t>(sqlite3_changes(db_.raw()));
}

}  // namespace postgate::storage
