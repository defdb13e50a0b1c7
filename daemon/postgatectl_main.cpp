// postgatectl: talks to postgated over its local API socket (docs/api.md).
//   postgatectl [--config FILE | --socket PATH] [--json] status
//   postgatectl ... records [--pending] [--limit N]
//   postgatectl ... submit [--file F]
// Exit: 0 ok, 1 a request failed (or some submitted record did), 2 the
// daemon could not be reached or hung up.
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "daemon/ctl_connection.hpp"
#include "daemon/ctl_format.hpp"

namespace {

using postgate::daemon::CtlConnection;
using json = nlohmann::json;

constexpr int kOk = 0;
constexpr int kFailed = 1;
constexpr int kUnreachable = 2;
constexpr const char* kDefaultSocket = "/run/postgate/postgate.sock";

int connection_lost(const std::string& socket) {
  std::cerr << "postgatectl: " << socket
            << ": connection closed by the daemon before it answered\n";
  return kUnreachable;
}

// One request, one answer.
int request(CtlConnection& conn, const std::string& socket, const json& req, json& answer,
            std::string& raw) {
  if (!conn.write_all(req.dump() + "\n")) return connection_lost(socket);
  auto line = conn.read_line();
  if (!line) return connection_lost(socket);
  raw = *line;
  answer = json::parse(raw, nullptr, false);
  if (answer.is_discarded() || !answer.is_object()) {
    std::cerr << "postgatectl: " << socket << ": the daemon sent something that is not JSON\n";
    return kUnreachable;
  }
  return kOk;
}

int print_error(const json& answer) {
  const auto e = answer.value("error", json::object());
  std::cerr << "postgatectl: " << e.value("code", std::string("error"));
  if (const auto f = e.value("field", std::string()); !f.empty()) std::cerr << " (" << f << ")";
  std::cerr << ": " << e.value("message", std::string()) << "\n";
  return kFailed;
}

// Pipelined: a writer thread sends every record without waiting; this thread
// prints the answers in input order as they arrive, with local errors for
// lines that are not JSON slotted in at their place.
int submit(CtlConnection& conn, const std::string& socket, std::istream& in) {
  struct Entry {
    bool local = false;
    std::string error_line;
  };
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Entry> expected;
  bool input_done = false;
  bool write_failed = false;

  std::thread writer([&] {
    std::string line;
    std::size_t line_no = 0;
    while (std::getline(in, line)) {
      ++line_no;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;  // blank
      std::string local_error;
      auto req = postgate::daemon::submit_request(line, line_no, local_error);
      {
        std::lock_guard lock(mu);
        expected.push_back(req ? Entry{} : Entry{true, std::move(local_error)});
      }
      cv.notify_one();
      if (req && !conn.write_all(*req)) {
        std::lock_guard lock(mu);
        write_failed = true;
        break;
      }
    }
    conn.shutdown_write();
    {
      std::lock_guard lock(mu);
      input_done = true;
    }
    cv.notify_one();
  });

  int failed = 0;
  bool lost = false;
  for (;;) {
    Entry e;
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return !expected.empty() || input_done; });
      if (expected.empty()) break;
      e = std::move(expected.front());
      expected.pop_front();
    }
    if (e.local) {
      std::cout << e.error_line << std::endl;
      ++failed;
      continue;
    }
    auto answer = conn.read_line();
    if (!answer) {
      lost = true;
      break;
    }
    std::cout << *answer << std::endl;
    if (!postgate::daemon::answer_ok(*answer)) ++failed;
  }
  if (lost) {
    // The writer may be blocked on input (a terminal) or on the dead socket;
    // nothing it could still do matters, so leave without waiting for it.
    std::cout.flush();
    std::cerr << "postgatectl: " << socket << ": connection lost; remaining records not answered\n";
    std::_Exit(kUnreachable);
  }
  writer.join();
  if (write_failed) {
    std::cerr << "postgatectl: " << socket << ": connection lost; remaining records not answered\n";
    return kUnreachable;
  }
  return failed ? kFailed : kOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"postgatectl: query and feed postgated over its local socket"};
  std::string config_file, socket;
  bool as_json = false;
  auto* cfg_opt =
      app.add_option("-c,--config", config_file, "read api.socket from this config file");
  app.add_option("-s,--socket", socket, std::string("API socket (default ") + kDefaultSocket + ")")
      ->excludes(cfg_opt);
  app.add_flag("--json", as_json, "print the daemon's JSON answer as is");
  app.require_subcommand(1);

  auto* status_cmd = app.add_subcommand("status", "daemon, storage, counters and devices");
  bool pending = false;
  std::size_t limit = 20;
  auto* records_cmd = app.add_subcommand("records", "recent records, newest first (masked)");
  records_cmd->add_flag("--pending", pending, "records not yet delivered to HQ, oldest first");
  records_cmd->add_option("--limit", limit, "how many (1-1000)")->check(CLI::Range(1, 1000));
  auto* devices_cmd =
      app.add_subcommand("devices", "devices: state, counter bound to, reads, errors, last event");
  std::string input_file;
  auto* submit_cmd =
      app.add_subcommand("submit", "submit records: one JSON record per line (stdin or --file)");
  submit_cmd->add_option("-f,--file", input_file, "read records from this file")
      ->check(CLI::ExistingFile);
  CLI11_PARSE(app, argc, argv);

  if (socket.empty() && !config_file.empty()) {
    auto cfg = postgate::config::load_file(config_file);
    if (!cfg) {
      for (const auto& p : cfg.error()) std::cerr << p.str() << "\n";
      std::cerr << "postgatectl: cannot read the socket path from " << config_file << "\n";
      return kUnreachable;
    }
    socket = cfg->api.socket.string();
  }
  if (socket.empty()) socket = kDefaultSocket;

  auto conn = CtlConnection::connect(socket);
  if (!conn) {
    std::cerr << "postgatectl: " << conn.error().message << "\n";
    return kUnreachable;
  }

  if (*submit_cmd) {
    if (input_file.empty()) return submit(*conn, socket, std::cin);
    std::ifstream in(input_file);
    if (!in) {
      std::cerr << "postgatectl: cannot read " << input_file << "\n";
      return kFailed;
    }
    return submit(*conn, socket, in);
  }

  json req;
  if (*status_cmd) req = {{"op", "status"}};
  if (*records_cmd) req = {{"op", "records"}, {"pending", pending}, {"limit", limit}};
  if (*devices_cmd) req = {{"op", "devices"}};
  json answer;
  std::string raw;
  if (int rc = request(*conn, socket, req, answer, raw); rc != kOk) return rc;
  if (as_json) {
    std::cout << raw << "\n";
    return postgate::daemon::answer_ok(raw) ? kOk : kFailed;
  }
  if (!postgate::daemon::answer_ok(raw)) return print_error(answer);
  if (*status_cmd)
    std::cout << postgate::daemon::format_status(answer.value("status", json::object()));
  if (*records_cmd)
    std::cout << postgate::daemon::format_records(answer.value("records", json::array()));
  if (*devices_cmd)
    std::cout << postgate::daemon::format_devices(answer.value("devices", json::array()));
  return kOk;
}
