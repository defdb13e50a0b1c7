#include "adapters/xray/xray_folder_watcher.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <openssl/evp.h>
#include <boost/asio/post.hpp>

namespace postgate::adapters::xray {

namespace fs = std::filesystem;

namespace {

struct FileStat {
  std::uintmax_t size = 0;
  std::int64_t mtime_ns = 0;
  std::uint64_t inode = 0;
};

// Regular files only: a symlink or a fifo in the folder is not the
// machine's output, and following one could read outside the folder.
std::optional<FileStat> stat_regular(const fs::path& p) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return FileStat{static_cast<std::uintmax_t>(st.st_size),
                  static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
                  static_cast<std::uint64_t>(st.st_ino)};
}

bool same(const FileStat& a, const FileStat& b) {
  return a.size == b.size && a.mtime_ns == b.mtime_ns && a.inode == b.inode;
}

// Reads at most `max` bytes; "too_large" beyond, "unreadable" on an error.
core::Result<std::string> read_capped(const fs::path& p, std::uintmax_t max) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return core::fail("unreadable", "", std::strerror(errno));
  std::string out;
  char buf[64 * 1024];
  for (;;) {
    const auto n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      ::close(fd);
      return core::fail("unreadable", "", std::strerror(e));
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > max) {
      ::close(fd);
      return core::fail("too_large", "", "over " + std::to_string(max) + " bytes");
    }
  }
  ::close(fd);
  return out;
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

bool ends_with_ignoring_case(std::string_view s, std::string_view suffix) {
  if (s.size() <= suffix.size()) return false;  // a bare ".json" is no scan
  const auto tail = s.substr(s.size() - suffix.size());
  for (std::size_t i = 0; i < tail.size(); ++i) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
    if (lower(tail[i]) != lower(suffix[i])) return false;
  }
  return true;
}

}  // namespace

std::string_view to_string(OrphanKind k) {
  return k == OrphanKind::image ? "image" : "result";
}

XrayFolderWatcher::XrayFolderWatcher(boost::asio::io_context& io, XrayFolderSettings settings,
                                     XraySink sink, core::WaybillValidator waybills,
                                     const core::Clock& clock)
    : io_(io),
      settings_(std::move(settings)),
      sink_(std::move(sink)),
      waybills_(std::move(waybills)),
      clock_(clock),
      archive_(settings_.archive_dir.empty() ? settings_.folder / ".postgate"
                                             : settings_.archive_dir),
      watch_(io,
             InotifyCallbacks{
                 [this](std::string_view name, bool finished) { enqueue(name, finished); },
                 [this] { rescan(); }, [this] { detach(DeviceState::absent, "folder removed"); }}),
      deadline_timer_(io),
      retry_timer_(io) {}

XrayFolderWatcher::~XrayFolderWatcher() {
  stop();
}

void XrayFolderWatcher::start() {
  if (started_ || stopped_) return;
  started_ = true;
  attach();
}

void XrayFolderWatcher::stop() {
  if (stopped_) return;
  stopped_ = true;
  life_ = std::make_shared<int>(0);
  deadline_timer_.cancel();
  retry_timer_.cancel();
  watch_.close();
  state_ = DeviceState::absent;
  detail_ = "stopped";
}

void XrayFolderWatcher::set_state(DeviceState s, const std::string& detail) {
  if (reported_ && s == state_ && detail == detail_) return;
  reported_ = true;
  state_ = s;
  detail_ = detail;
  if (active() && sink_.on_state) sink_.on_state(s, detail);
}

void XrayFolderWatcher::attach() {
  if (!active()) return;
  std::error_code ec;
  if (!fs::is_directory(settings_.folder, ec)) {
    set_state(DeviceState::absent, "folder " + settings_.folder.string() + " missing");
    schedule_retry();
    return;
  }
  if (auto p = archive_.prepare(); !p) {
    set_state(DeviceState::failed, p.error().message);
    schedule_retry();
    return;
  }
  if (auto w = watch_.open(settings_.folder); !w) {
    set_state(w.error().code == "absent" ? DeviceState::absent : DeviceState::failed,
              w.error().message);
    schedule_retry();
    return;
  }
  set_state(DeviceState::attached, "watching " + settings_.folder.string());
  if (active()) rescan();
}

void XrayFolderWatcher::detach(DeviceState s, const std::string& detail) {
  watch_.close();
  deadline_timer_.cancel();
  queue_.clear();
  queued_.clear();
  awaited_images_.clear();
  // Handed-over scans stay: the daemon may still confirm them.
  std::erase_if(files_, [](const auto& kv) { return !kv.second.handed; });
  set_state(s, detail);
  schedule_retry();
}

void XrayFolderWatcher::schedule_retry() {
  if (!active()) return;
  retry_timer_.expires_after(settings_.retry);
  retry_timer_.async_wait(
      [this, life = std::weak_ptr<int>(life_)](const boost::system::error_code& ec) {
        if (ec || life.expired() || !active() || watch_.is_open()) return;
        attach();
      });
}

void XrayFolderWatcher::rescan() {
  if (!active() || !watch_.is_open()) return;
  for (const auto& [name, f] : files_) enqueue(name, std::nullopt);
  std::error_code ec;
  for (fs::directory_iterator it(settings_.folder, ec), end; !ec && it != end; it.increment(ec))
    enqueue(it->path().filename().string(), std::nullopt);
  kick();
}

void XrayFolderWatcher::enqueue(std::string_view name, std::optional<bool> finished) {
  if (!kind_of(name)) return;
  auto [it, fresh] = queued_.try_emplace(std::string(name), finished.value_or(false));
  if (fresh) {
    queue_.emplace_back(name);
  } else if (finished) {
    it->second = *finished;  // the latest event says whether a writer is done
  }
  kick();
}

void XrayFolderWatcher::kick() {
  if (work_posted_ || !active()) return;
  work_posted_ = true;
  boost::asio::post(io_, [this, life = std::weak_ptr<int>(life_)] {
    if (life.expired()) return;
    work();
  });
}

void XrayFolderWatcher::work() {
  work_posted_ = false;
  if (!active()) return;
  for (std::size_t n = 0; n < settings_.files_per_turn && !queue_.empty(); ++n) {
    std::string name = std::move(queue_.front());
    queue_.pop_front();
    const auto q = queued_.find(name);
    const bool finished = q != queued_.end() && q->second;
    if (q != queued_.end()) queued_.erase(q);
    examine(name, finished);
    if (!active()) return;
  }
  if (!queue_.empty()) {
    kick();
  } else {
    arm_deadline();
  }
}

void XrayFolderWatcher::arm_deadline() {
  std::optional<core::TimePoint> next;
  for (const auto& [name, f] : files_)
    if (f.deadline && (!next || *f.deadline < *next)) next = f.deadline;
  if (!next) {
    deadline_timer_.cancel();
    return;
  }
  const auto delay = std::max(*next - clock_.now(), core::TimePoint::duration::zero());
  deadline_timer_.expires_after(delay);
  deadline_timer_.async_wait(
      [this, life = std::weak_ptr<int>(life_)](const boost::system::error_code& ec) {
        if (ec || life.expired() || !active()) return;
        deadline_fired();
      });
}

void XrayFolderWatcher::deadline_fired() {
  const auto now = clock_.now();
  for (auto& [name, f] : files_) {
    if (f.deadline && *f.deadline <= now) {
      f.deadline.reset();
      enqueue(name, std::nullopt);
    }
  }
  if (queue_.empty()) arm_deadline();
}

std::optional<XrayFolderWatcher::Kind> XrayFolderWatcher::kind_of(std::string_view name) const {
  if (name.empty() || name[0] == '.') return std::nullopt;
  for (const auto& e : settings_.result_extensions)
    if (ends_with_ignoring_case(name, e)) return Kind::result;
  for (const auto& e : settings_.image_extensions)
    if (ends_with_ignoring_case(name, e)) return Kind::image;
  return std::nullopt;
}

std::size_t XrayFolderWatcher::handed_files() const {
  return static_cast<std::size_t>(
      std::count_if(files_.begin(), files_.end(), [](const auto& kv) { return kv.second.handed; }));
}

bool XrayFolderWatcher::error(std::string code, std::string detail) {
  if (!active()) return false;
  if (sink_.on_error) sink_.on_error(DeviceError{std::move(code), std::move(detail)});
  return active();
}

void XrayFolderWatcher::forget(const std::string& name) {
  const auto it = files_.find(name);
  if (it == files_.end() || it->second.handed) return;
  if (it->second.result) {
    const auto a = awaited_images_.find(it->second.result->image);
    if (a != awaited_images_.end() && a->second == name) awaited_images_.erase(a);
  }
  files_.erase(it);
}

void XrayFolderWatcher::reject(const std::string& name, Bin bin, const core::Error& why) {
  forget(name);
  const auto moved = archive_.to_bin(bin, settings_.folder / name, name);
  std::string detail = name + ": ";
  if (!why.field.empty()) detail += why.field + ": ";
  detail += why.message;
  if (moved) {
    detail += bin == Bin::duplicates ? "; moved to duplicates/" : "; moved to rejected/";
  } else {
    // Left in place; not looked at again until it changes.
    detail += "; not moved: " + moved.error().message;
    const auto st = stat_regular(settings_.folder / name);
    if (auto k = kind_of(name); st && k) {
      File& f = files_[name];
      f.kind = *k;
      f.size = st->size;
      f.mtime_ns = st->mtime_ns;
      f.inode = st->inode;
      f.given_up = true;
    }
  }
  error(why.code, std::move(detail));
}

void XrayFolderWatcher::examine(const std::string& name, bool finished) {
  const auto kind = kind_of(name);
  if (!kind) return;
  const auto st = stat_regular(settings_.folder / name);
  if (!st) {
    forget(name);
    return;
  }
  const auto now = clock_.now();
  auto it = files_.find(name);
  if (it != files_.end() && it->second.handed) return;
  if (it == files_.end() ||
      !same(*st, FileStat{it->second.size, it->second.mtime_ns, it->second.inode})) {
    forget(name);  // a changed result is parsed again, and awaits its image again
    it = files_.try_emplace(name).first;
    File& f = it->second;
    f.kind = *kind;
    f.size = st->size;
    f.mtime_ns = st->mtime_ns;
    f.inode = st->inode;
    f.changed_at = now;
    f.finished = finished;
  } else if (it->second.given_up) {
    return;
  } else if (finished) {
    it->second.finished = true;
  }
  File& g = it->second;
  if (!is_bare_file_name(name)) {
    reject(name, Bin::rejected,
           core::Error{"bad_file_name", "", "not a plain file name the watcher can handle"});
    return;
  }
  if (!g.complete) {
    // An empty file is never complete: writers create, then write, and one
    // paused between the two must not turn into a rejected result or an
    // empty image. Its next write wakes it.
    if (g.size == 0) return;
    if (!g.finished && now - g.changed_at < settings_.settle) {
      g.deadline = g.changed_at + settings_.settle;
      return;
    }
    g.complete = true;
    g.complete_at = now;
  }
  g.deadline.reset();
  if (g.kind == Kind::result) {
    handle_result(name, g);
  } else {
    handle_image(name, g);
  }
}

void XrayFolderWatcher::handle_result(const std::string& name, File& f) {
  if (!f.result) {
    const auto bytes = read_capped(settings_.folder / name, settings_.mapping.max_bytes);
    if (!bytes) {
      reject(name, Bin::rejected, bytes.error());
      return;
    }
    auto parsed = parse_result(*bytes, settings_.mapping, waybills_);
    if (!parsed) {
      reject(name, Bin::rejected, parsed.error());
      return;
    }
    const auto sha = sha256_hex(*bytes);
    if (archive_.in_done(std::string_view(sha).substr(0, 16), name)) {
      const auto image = parsed->image;
      reject(
          name, Bin::duplicates,
          core::Error{"duplicate", "", "handed over and archived before (same name and content)"});
      if (!active()) return;
      // The machine (or someone) copied the pair again: its image goes too,
      // unless another scan is using it.
      const auto img = files_.find(image);
      const bool awaited = awaited_images_.contains(image);
      if (!awaited && (img == files_.end() || !img->second.handed) &&
          stat_regular(settings_.folder / image)) {
        forget(image);
        (void)archive_.to_bin(Bin::duplicates, settings_.folder / image, image);
      }
      return;
    }
    f.sha256 = sha;
    f.result = std::move(*parsed);
    awaited_images_[f.result->image] = name;
  }
  try_pair(name, f);
}

void XrayFolderWatcher::handle_image(const std::string& name, File& f) {
  if (const auto a = awaited_images_.find(name); a != awaited_images_.end()) {
    const auto r = files_.find(a->second);
    if (r != files_.end() && r->second.result && r->second.result->image == name &&
        !r->second.handed) {
      try_pair(r->first, r->second);
      return;
    }
    awaited_images_.erase(a);
  }
  const auto now = clock_.now();
  if (now - f.complete_at < settings_.pair_timeout) {
    f.deadline = f.complete_at + settings_.pair_timeout;
    return;
  }
  if (sink_.on_orphan) sink_.on_orphan(OrphanKind::image, name);
  if (!active()) return;
  forget(name);
  if (auto moved = archive_.to_bin(Bin::orphans, settings_.folder / name, name); !moved) {
    reject(name, Bin::orphans, moved.error());
  }
}

void XrayFolderWatcher::try_pair(const std::string& name, File& f) {
  const std::string image = f.result->image;
  const auto img = files_.find(image);
  // An empty image may never be written: it does not hold the result back.
  if (img != files_.end() && !img->second.handed && !img->second.given_up &&
      (img->second.complete || img->second.size > 0)) {
    if (img->second.complete) {
      deliver(name, f, settings_.folder / image);
    }
    // Else the image is still being written; its completion pairs it.
    return;
  }
  const auto orphan = archive_.dir(Bin::orphans) / image;
  if (stat_regular(orphan)) {
    deliver(name, f, orphan);
    return;
  }
  const auto now = clock_.now();
  if (now - f.complete_at >= settings_.pair_timeout) {
    if (sink_.on_orphan) sink_.on_orphan(OrphanKind::result, name);
    if (!active()) return;
    deliver(name, f, std::nullopt);
    return;
  }
  if (img == files_.end() && kind_of(image) == Kind::image &&
      stat_regular(settings_.folder / image))
    enqueue(image, std::nullopt);  // there, its event not handled yet
  f.deadline = f.complete_at + settings_.pair_timeout;
}

void XrayFolderWatcher::deliver(const std::string& name, File& f,
                                std::optional<fs::path> image_path) {
  const XrayResult& r = *f.result;
  // Not from orphans/ (compared there: the configured folder may be spelled
  // with a trailing '/').
  const bool in_folder = image_path && image_path->parent_path() != archive_.dir(Bin::orphans);
  std::optional<std::vector<std::uint8_t>> image;
  std::string image_sha;
  if (image_path) {
    const auto before = stat_regular(*image_path);
    auto bytes =
        before
            ? read_capped(*image_path, settings_.max_image_bytes)
            : core::Result<std::string>(core::fail("unreadable", "", "no longer a regular file"));
    const auto after = stat_regular(*image_path);
    if (bytes && in_folder && (!after || !same(*before, *after))) {
      // Written to while being read: wait until it settles again.
      File& i = files_[r.image];
      i.complete = false;
      i.finished = false;
      i.changed_at = clock_.now();
      i.deadline = i.changed_at + settings_.settle;
      if (after) i.size = after->size, i.mtime_ns = after->mtime_ns, i.inode = after->inode;
      return;
    }
    if (bytes) {
      image_sha = sha256_hex(*bytes);
      image.emplace(bytes->begin(), bytes->end());
    } else {
      const std::string code = bytes.error().code == "too_large" ? "image_too_large" : "unreadable";
      if (in_folder) {
        reject(r.image, Bin::rejected, core::Error{code, "", "image " + bytes.error().message});
      } else if (!error(code, r.image + ": image " + bytes.error().message)) {
        return;
      }
      if (!active()) return;
      image_path.reset();
    }
  }

  XrayScan s;
  s.machine_id = settings_.machine_id;
  s.result_file = name;
  s.result_sha256 = f.sha256;
  s.scan_id = settings_.machine_id + ":" + name + ":" + f.sha256.substr(0, 16);
  s.lane = r.lane;
  s.time = r.time;
  s.waybill = r.waybill;
  s.waybill_valid = r.waybill_valid;
  s.verdict = r.verdict;
  s.verdict_word = r.verdict_word;
  s.image_file = r.image;
  s.image = std::move(image);
  s.image_sha256 = std::move(image_sha);

  f.handed = true;
  f.deadline.reset();
  if (image_path && in_folder) {
    File& i = files_[r.image];
    i.handed = true;
    i.deadline.reset();
  }
  if (const auto a = awaited_images_.find(r.image); a != awaited_images_.end() && a->second == name)
    awaited_images_.erase(a);
  handed_[s.scan_id] = Handed{name, f.sha256.substr(0, 16), image_path, in_folder, r.image};
  if (active() && sink_.on_scan) sink_.on_scan(std::move(s));
}

core::Status XrayFolderWatcher::confirm(const std::string& scan_id) {
  const auto it = handed_.find(scan_id);
  if (it == handed_.end())
    return core::fail("unknown_scan", "", "no scan handed over awaits confirmation under that id");
  const Handed h = it->second;
  if (auto moved = archive_.to_done(settings_.folder / h.result_file, h.hash16, h.result_file);
      !moved)
    return moved;
  handed_.erase(it);
  files_.erase(h.result_file);
  if (!h.image_path) return {};
  if (h.image_in_folder) files_.erase(h.image_file);
  // The result is archived first: if this move fails (or the process dies
  // here) the image is left behind and reported as an orphan, never lost.
  return archive_.to_done(*h.image_path, h.hash16, h.image_file);
}

}  // namespace postgate::adapters::xray
