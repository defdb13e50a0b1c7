// postgated: the postgate edge gateway daemon.
//   postgated --config FILE         serve
//   postgated --check-config FILE   validate FILE and exit (0 ok, 1 problems)
#include <csignal>
#include <iostream>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <boost/asio/io_context.hpp>

#include "config/config.hpp"
#include "daemon/daemon.hpp"
#include "daemon/evidence_wiring.hpp"
#include "daemon/logging.hpp"
#include "daemon/wiring.hpp"

namespace {

int check_config(const std::string& file) {
  auto cfg = postgate::config::load_file(file);
  if (!cfg) {
    for (const auto& p : cfg.error()) std::cerr << p.str() << '\n';
    return 1;
  }
  // What the daemon would refuse at start beyond the file's own checks.
  if (auto s = postgate::daemon::check_evidence_config(
          *cfg, postgate::daemon::make_workflow_settings(*cfg).utc_offset);
      !s) {
    std::cerr << file << ": " << s.error().field << ": " << s.error().message << '\n';
    return 1;
  }
  if (cfg->uplink) {
    if (auto u = postgate::daemon::make_uplink_config(*cfg, POSTGATE_VERSION); !u) {
      std::cerr << file << ": " << u.error().field << ": " << u.error().message << '\n';
      return 1;
    }
  }
  std::cout << file << ": ok\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace postgate;
  CLI::App app{"postgated: edge gateway for real-name parcel acceptance"};
  std::string config_file;
  std::string check_file;
  auto* run_opt = app.add_option("-c,--config", config_file, "configuration file (YAML)");
  auto* check_opt =
      app.add_option("--check-config", check_file, "validate a configuration file and exit");
  run_opt->excludes(check_opt);
  app.set_version_flag("--version", POSTGATE_VERSION);
  CLI11_PARSE(app, argc, argv);

  if (!check_file.empty()) return check_config(check_file);
  if (config_file.empty()) {
    std::cerr << "postgated: --config FILE is required (or --check-config FILE)\n";
    return daemon::kExitConfig;
  }

  daemon::setup_logging(daemon::detect_log_target());
  // A client that hangs up must not kill the daemon; Asio reports EPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  // A file-size limit (LimitFSIZE=, ulimit -f) must fail a write with EFBIG,
  // which the store reports like a full disk, not kill the daemon.
  std::signal(SIGXFSZ, SIG_IGN);

  auto cfg = config::load_file(config_file);
  if (!cfg) {
    spdlog::error("config: {} has {} problem(s):", config_file, cfg.error().size());
    for (const auto& p : cfg.error()) spdlog::error("config: {}", p.str());
    return daemon::kExitConfig;
  }

  boost::asio::io_context io(1);
  int code = daemon::kExitOk;
  {
    daemon::Daemon d(io, std::move(*cfg));
    if (int rc = d.start(); rc != daemon::kExitOk) return rc;
    io.run();
    code = d.exit_code();
  }
  return code;
}
