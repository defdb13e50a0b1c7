#include "daemon/blocking_worker.hpp"

namespace postgate::daemon {

BlockingWorker::BlockingWorker() : thread_([this] { run(); }) {}

BlockingWorker::~BlockingWorker() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void BlockingWorker::post(std::function<void()> job) {
  {
    std::lock_guard lock(mu_);
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
}

std::size_t BlockingWorker::queued() const {
  std::lock_guard lock(mu_);
  return jobs_.size();
}

void BlockingWorker::run() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

}  // namespace postgate::daemon
