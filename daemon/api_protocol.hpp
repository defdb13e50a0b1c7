#pragma once
// The local API's request/answer layer (docs/api.md), independent of the
// socket: one request line in, one JSON answer out through a callback that
// may run now or later.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/record.hpp"
#include "core/result.hpp"

namespace postgate::daemon {

using json = nlohmann::json;

inline constexpr std::size_t kRecordsDefaultLimit = 20;
inline constexpr std::size_t kRecordsMaxLimit = 1000;

struct RecordsQuery {
  bool pending = false;
  std::size_t limit = kRecordsDefaultLimit;
  std::uint64_t after = 0;  // pending only: records with seq > after
};

// What the daemon offers to API clients. Every call answers exactly once.
class ApiBackend {
 public:
  using Reply = std::function<void(json)>;
  virtual ~ApiBackend() = default;
  virtual void submit(core::RawAcceptance raw, Reply reply) = 0;
  virtual void status(Reply reply) = 0;
  virtual void records(RecordsQuery query, Reply reply) = 0;
  // The configured devices with their state and counters (docs/api.md).
  virtual void devices(Reply reply) = 0;
};

// Parses one request line and hands it to the backend; malformed requests
// are answered here (bad_json, bad_request, unknown_op, and the record's
// shape errors from the codec).
void dispatch_line(std::string_view line, ApiBackend& backend, const ApiBackend::Reply& reply);

json error_answer(const core::Error& e);
json error_answer(std::string code, std::string field, std::string message);

// One answer line, "\n"-terminated. Invalid UTF-8 (which only a bug could
// put there) is replaced rather than thrown.
std::string encode_line(const json& answer);

}  // namespace postgate::daemon
