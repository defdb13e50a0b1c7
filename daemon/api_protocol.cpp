#include "daemon/api_protocol.hpp"

#include <utility>

#include "codec/record_json.hpp"

namespace postgate::daemon {

json error_answer(const core::Error& e) {
  return json{{"ok", false}, {"error", codec::error_to_json(e)}};
}

json error_answer(std::string code, std::string field, std::string message) {
  return error_answer(core::Error{std::move(code), std::move(field), std::move(message)});
}

std::string encode_line(const json& answer) {
  std::string s = answer.dump(-1, ' ', false, json::error_handler_t::replace);
  s.push_back('\n');
  return s;
}

namespace {

// The parser's own message names a byte offset and a token, never the
// request's content, so it is safe to pass on; keep it short anyway.
std::string short_parse_message(const json::parse_error& e) {
  std::string m = e.what();
  if (const auto pos = m.find("] "); pos != std::string::npos) m.erase(0, pos + 2);
  if (m.size() > 200) m.resize(200);
  return m;
}

bool check_keys(const json& req, std::initializer_list<std::string_view> allowed,
                const ApiBackend::Reply& reply) {
  for (const auto& [key, value] : req.items()) {
    bool known = false;
    for (auto a : allowed) known = known || key == a;
    if (!known) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      reply(error_answer("bad_request", key,
                         "unknown key \"" + key + "\" for op \"" + req["op"].get<std::string>() +
                             "\" (known: " + list + ")"));
      return false;
    }
  }
  return true;
}

void dispatch_records(const json& req, ApiBackend& backend, const ApiBackend::Reply& reply) {
  if (!check_keys(req, {"op", "pending", "limit", "after"}, reply)) return;
  RecordsQuery q;
  if (auto it = req.find("pending"); it != req.end()) {
    if (!it->is_boolean())
      return reply(error_answer("bad_request", "pending", "pending must be true or false"));
    q.pending = it->get<bool>();
  }
  if (auto it = req.find("limit"); it != req.end()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 1 ||
        it->get<std::int64_t>() > static_cast<std::int64_t>(kRecordsMaxLimit))
      return reply(
          error_answer("bad_request", "limit",
                       "limit must be an integer from 1 to " + std::to_string(kRecordsMaxLimit)));
    q.limit = it->get<std::size_t>();
  }
  if (auto it = req.find("after"); it != req.end()) {
    if (!q.pending)
      return reply(error_answer("bad_request", "after", "after is only valid with pending: true"));
    if (!it->is_number_unsigned())
      return reply(
          error_answer("bad_request", "after", "after must be a non-negative integer (a seq)"));
    q.after = it->get<std::uint64_t>();
  }
  backend.records(q, reply);
}

}  // namespace

void dispatch_line(std::string_view line, ApiBackend& backend, const ApiBackend::Reply& reply) {
  json req;
  try {
    req = json::parse(line);
  } catch (const json::parse_error& e) {
    return reply(
        error_answer("bad_json", "", "request is not valid JSON: " + short_parse_message(e)));
  }
  if (!req.is_object())
    return reply(error_answer("bad_request", "", "a request is a JSON object with an \"op\""));
  const auto op_it = req.find("op");
  if (op_it == req.end() || !op_it->is_string())
    return reply(error_answer("bad_request", "op", "missing or non-string \"op\""));
  const std::string op = op_it->get<std::string>();

  if (op == "submit") {
    if (!check_keys(req, {"op", "record"}, reply)) return;
    const auto rec = req.find("record");
    if (rec == req.end() || !rec->is_object())
      return reply(error_answer("bad_request", "record", "submit needs a \"record\" object"));
    auto raw = codec::raw_acceptance_from_json(*rec);
    if (!raw) return reply(error_answer(raw.error()));
    return backend.submit(std::move(*raw), reply);
  }
  if (op == "status") {
    if (!check_keys(req, {"op"}, reply)) return;
    return backend.status(reply);
  }
  if (op == "records") return dispatch_records(req, backend, reply);
  if (op == "devices") {
    if (!check_keys(req, {"op"}, reply)) return;
    return backend.devices(reply);
  }

  std::string shown = op.size() > 40 ? op.substr(0, 40) + "..." : op;
  reply(error_answer("unknown_op", "op",
                     "unknown op \"" + shown + "\" (known: submit, status, records, devices)"));
}

}  // namespace postgate::daemon
