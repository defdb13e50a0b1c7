#pragma once
// One thread for the store's blocking calls (reads, flush), so the Asio loop
// never waits on SQLite. Jobs run in the order posted; results go back to the
// loop with asio::post.
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace postgate::daemon {

class BlockingWorker {
 public:
  BlockingWorker();
  ~BlockingWorker();  // runs the jobs already posted, then joins
  BlockingWorker(const BlockingWorker&) = delete;
  BlockingWorker& operator=(const BlockingWorker&) = delete;

  void post(std::function<void()> job);
  std::size_t queued() const;

 private:
  void run();
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace postgate::daemon
