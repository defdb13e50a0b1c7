#include "process_peer.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <istream>
#include <thread>

#include <boost/asio/read_until.hpp>

extern char** environ;

namespace postgate::test {

ProcessPeer::ProcessPeer(boost::asio::io_context& io, const std::string& link)
    : reports_(std::make_shared<Reports>(io)) {
  int in[2];
  int out[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return;
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ::close(in[0]);
    ::close(in[1]);
    return;
  }
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  ::posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  std::string python = POSTGATE_PYTHON3;
  std::string script = POSTGATE_SERIAL_PEER;
  std::string flag = "--link";
  std::string path = link;
  char* argv[] = {python.data(), script.data(), flag.data(), path.data(), nullptr};
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, python.c_str(), &actions, nullptr, argv, environ);
  ::posix_spawn_file_actions_destroy(&actions);
  ::close(in[0]);
  ::close(out[1]);
  if (rc != 0) {
    ::close(in[1]);
    ::close(out[0]);
    return;
  }
  pid_ = pid;
  to_peer_ = in[1];
  reports_->from_peer.assign(out[0]);
  read_reports(reports_);
}

ProcessPeer::~ProcessPeer() {
  if (pid_ <= 0) return;
  control("quit");
  ::close(to_peer_);
  // The peer exits on "quit" or EOF; give it a moment, then insist. Its
  // reports pipe stays open until then, so its last words do not fail.
  bool exited = false;
  for (int i = 0; i < 200 && !exited; ++i) {
    exited = ::waitpid(pid_, nullptr, WNOHANG) == pid_;
    if (!exited) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (!exited) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  boost::system::error_code ignored;
  reports_->from_peer.close(ignored);
}

void ProcessPeer::control(const std::string& line) {
  if (to_peer_ < 0) return;
  const std::string l = line + "\n";
  std::size_t off = 0;
  while (off < l.size()) {
    const ssize_t n = ::write(to_peer_, l.data() + off, l.size() - off);
    if (n <= 0) return;
    off += static_cast<std::size_t>(n);
  }
}

int ProcessPeer::count(std::string_view what) const {
  int n = 0;
  for (const auto& r : reports_->lines) n += r == what;
  return n;
}

void ProcessPeer::read_reports(std::shared_ptr<Reports> r) {
  auto& from = r->from_peer;
  auto& buf = r->buf;
  boost::asio::async_read_until(
      from, buf, '\n', [r = std::move(r)](const boost::system::error_code& ec, std::size_t) {
        if (ec) return;
        std::istream in(&r->buf);
        std::string line;
        std::getline(in, line);
        r->lines.push_back(line);
        read_reports(r);
      });
}

}  // namespace postgate::test
