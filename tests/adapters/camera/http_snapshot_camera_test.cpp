#include "adapters/camera/http_snapshot_camera.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "adapters/camera/codec/www_authenticate.hpp"
#include "adapters/camera/digest_hash.hpp"
#include "camera_test_util.hpp"
#include "test_certificates.hpp"
#include "test_http_server.hpp"
#include "test_pattern.hpp"

namespace postgate::adapters::camera {
namespace {

using namespace std::chrono_literals;
using test::Conn;
using test::TestHttpServer;
namespace http = boost::beast::http;

constexpr const char* kUser = "viewer";
constexpr const char* kPassword = "s3cret pass";

class HttpSnapshotCameraTest : public ::testing::Test {
 protected:
  HttpCameraSettings settings(const std::string& url) {
    HttpCameraSettings s;
    s.id = "counter-1-cam";
    s.url = url;
    s.timeout = 2s;
    return s;
  }

  std::unique_ptr<HttpSnapshotCamera> make(HttpCameraSettings s) {
    auto c = HttpSnapshotCamera::create(io, std::move(s), random, clock);
    EXPECT_TRUE(c) << c.error().field << ": " << c.error().message;
    return c ? std::move(*c) : nullptr;
  }

  test::Outcome capture(HttpCameraSettings s) {
    auto cam = make(std::move(s));
    return cam ? test::capture_once(*cam, io) : test::Outcome{};
  }

  // The cnonce the camera sends on its first capture: 128 bits from random.
  std::string first_cnonce() const {
    test::CountingRandom r;
    char buf[33];
    std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(r.n),
                  static_cast<unsigned long long>(r.n + 1));
    return buf;
  }

  boost::asio::io_context io;
  test::CountingRandom random;
  test::FixedClock clock;
  const test::Bytes jpeg = test::jpeg_pattern(160, 120);
};

std::string header(const test::Request& r, http::field f) {
  const auto v = r[f];
  return std::string(v.data(), v.size());
}

// ---- success ----

TEST_F(HttpSnapshotCameraTest, ContentLengthBody) {
  TestHttpServer server([&](Conn& c) {
    if (c.read_request()) c.write(test::jpeg_response(test::as_string(jpeg), "image/jpeg"));
  });
  auto out = capture(settings(server.url("/onvif/snapshot?channel=1&x=%20")));
  ASSERT_TRUE(out.ok()) << out.error().code << ": " << out.error().message;
  const Still& s = **out.result;
  EXPECT_EQ(s.camera_id, "counter-1-cam");
  EXPECT_EQ(s.jpeg, jpeg);
  EXPECT_EQ(s.width, 160u);
  EXPECT_EQ(s.height, 120u);
  EXPECT_EQ(s.captured_at, clock.t);
  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method(), http::verb::get);
  EXPECT_EQ(reqs[0].target(), "/onvif/snapshot?channel=1&x=%20");
  EXPECT_EQ(header(reqs[0], http::field::host), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(header(reqs[0], http::field::accept), "image/jpeg");
  EXPECT_EQ(header(reqs[0], http::field::authorization), "");
}

TEST_F(HttpSnapshotCameraTest, ChunkedBodyAndContentTypeParameters) {
  const std::string body = test::as_string(jpeg);
  TestHttpServer server([&](Conn& c) {
    if (!c.read_request()) return;
    c.write(
        test::chunked_response({{"Content-Type", "Image/JPEG; charset=binary"}},
                               {body.substr(0, 100), body.substr(100, 2000), body.substr(2100)}));
  });
  auto out = capture(settings(server.url()));
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ((*out.result)->jpeg, jpeg);
}

TEST_F(HttpSnapshotCameraTest, AbbreviatedJpegGetsHuffmanTables) {
  const test::Bytes bare = test::strip_huffman_tables(jpeg);
  TestHttpServer server([&](Conn& c) {
    if (c.read_request()) c.write(test::jpeg_response(test::as_string(bare)));
  });
  auto out = capture(settings(server.url()));
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(test::huffman_payloads((*out.result)->jpeg), test::huffman_payloads(jpeg));
}

// ---- authentication ----

TEST_F(HttpSnapshotCameraTest, BasicPreemptiveWhereAllowed) {
  TestHttpServer server([&](Conn& c) {
    auto r = c.read_request();
    if (!r) return;
    if (header(*r, http::field::authorization) == "Basic dmlld2VyOnMzY3JldCBwYXNz")
      c.write(test::jpeg_response(test::as_string(jpeg)));
    else
      c.write(test::response(401, {{"WWW-Authenticate", "Basic realm=\"cam\""}}, ""));
  });
  auto s = settings(server.url());
  s.username = kUser;
  s.password = kPassword;
  s.auth = HttpAuth::basic;
  s.allow_basic_over_http = true;
  auto out = capture(s);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST_F(HttpSnapshotCameraTest, AutoNeverSendsBasicOverPlainHttpUnlessAllowed) {
  TestHttpServer server([&](Conn& c) {
    while (auto r = c.read_request()) {
      if (header(*r, http::field::authorization) == "Basic dmlld2VyOnMzY3JldCBwYXNz")
        c.write(test::jpeg_response(test::as_string(jpeg)));
      else
        c.write(test::response(401, {{"WWW-Authenticate", "Basic realm=\"cam\""}}, "no"));
    }
  });
  auto s = settings(server.url());
  s.username = kUser;
  s.password = kPassword;
  auto refused = capture(s);
  EXPECT_EQ(refused.code(), "camera_auth_failed");
  EXPECT_NE(refused.error().message.find("allow_basic_over_http"), std::string::npos);
  EXPECT_EQ(server.requests().size(), 1u);
  for (const auto& r : server.requests()) EXPECT_EQ(header(r, http::field::authorization), "");

  s.allow_basic_over_http = true;
  auto allowed = capture(s);
  ASSERT_TRUE(allowed.ok()) << allowed.error().message;
  EXPECT_EQ(server.requests().size(), 3u);
}

// A Digest server that checks the client's answer with its own arithmetic.
struct DigestServer {
  explicit DigestServer(std::string alg) : algorithm(std::move(alg)) {}
  std::string algorithm;  // "MD5" or "SHA-256"
  std::string password = kPassword;
  bool keep_alive = true;
  std::string nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093";
  std::string opaque = "5ccc069c403ebaf9f0171e9517f40e41";
  std::string expected_cnonce;
  std::vector<std::string> failures;  // what the server found wrong
  int answered = 0;

  std::string hash(std::string_view s) const {
    return openssl_digest_hex(algorithm == "SHA-256" ? DigestHash::sha256 : DigestHash::md5, s);
  }

  std::string challenge() const {
    return "Digest realm=\"IP Camera(12345)\", qop=\"auth,auth-int\", algorithm=" + algorithm +
           ", nonce=\"" + nonce + "\", opaque=\"" + opaque + "\"";
  }

  bool verify(const test::Request& r) {
    const std::string auth = header(r, http::field::authorization);
    auto parsed = parse_www_authenticate(auth);
    if (!parsed || parsed->size() != 1 || (*parsed)[0].scheme != "digest") {
      failures.push_back("unparsable Authorization: " + auth);
      return false;
    }
    const AuthChallenge& a = (*parsed)[0];
    const auto p = [&](const char* n) { return a.param(n) ? *a.param(n) : std::string("<none>"); };
    const std::string target(r.target().data(), r.target().size());
    if (p("username") != kUser) failures.push_back("username " + p("username"));
    if (p("realm") != "IP Camera(12345)") failures.push_back("realm " + p("realm"));
    if (p("nonce") != nonce) failures.push_back("nonce " + p("nonce"));
    if (p("uri") != target) failures.push_back("uri " + p("uri") + " vs " + target);
    if (p("qop") != "auth") failures.push_back("qop " + p("qop"));
    if (p("nc") != "00000001") failures.push_back("nc " + p("nc"));
    if (p("cnonce") != expected_cnonce) failures.push_back("cnonce " + p("cnonce"));
    if (p("opaque") != opaque) failures.push_back("opaque " + p("opaque"));
    if (p("algorithm") != algorithm) failures.push_back("algorithm " + p("algorithm"));
    const std::string ha1 = hash(std::string(kUser) + ":IP Camera(12345):" + password);
    const std::string ha2 = hash("GET:" + target);
    const std::string expected =
        hash(ha1 + ":" + nonce + ":00000001:" + p("cnonce") + ":auth:" + ha2);
    // Not a failure: the wrong-password test expects a mismatch.
    return failures.empty() && p("response") == expected;
  }

  void serve(Conn& c, const test::Bytes& jpeg) {
    while (auto r = c.read_request()) {
      if (header(*r, http::field::authorization).empty()) {
        test::Headers h{{"WWW-Authenticate", challenge()}, {"Content-Type", "text/html"}};
        if (!keep_alive) h.emplace_back("Connection", "close");
        c.write(test::response(401, h, "<html>401</html>"));
        if (!keep_alive) return;
        continue;
      }
      ++answered;
      if (verify(*r)) {
        c.write(test::jpeg_response(test::as_string(jpeg)));
      } else {
        c.write(test::response(401, {{"WWW-Authenticate", challenge()}}, ""));
      }
    }
  }
};

TEST_F(HttpSnapshotCameraTest, DigestMd5) {
  DigestServer ds{"MD5"};
  ds.expected_cnonce = first_cnonce();
  TestHttpServer server([&](Conn& c) { ds.serve(c, jpeg); });
  auto s = settings(server.url("/cgi-bin/snapshot.cgi?channel=1"));
  s.username = kUser;
  s.password = kPassword;
  auto out = capture(s);
  ASSERT_TRUE(out.ok()) << out.error().code << ": " << out.error().message;
  EXPECT_EQ(ds.failures, std::vector<std::string>{});
  EXPECT_EQ(ds.answered, 1);
  EXPECT_EQ(server.connections(), 1);  // the 401 kept the connection open
  EXPECT_EQ((*out.result)->jpeg, jpeg);
}

TEST_F(HttpSnapshotCameraTest, DigestSha256OverANewConnection) {
  DigestServer ds{"SHA-256"};
  ds.keep_alive = false;
  ds.expected_cnonce = first_cnonce();
  TestHttpServer server([&](Conn& c) { ds.serve(c, jpeg); });
  auto s = settings(server.url());
  s.username = kUser;
  s.password = kPassword;
  s.auth = HttpAuth::digest;
  auto out = capture(s);
  ASSERT_TRUE(out.ok()) << out.error().code << ": " << out.error().message;
  EXPECT_EQ(ds.failures, std::vector<std::string>{});
  EXPECT_EQ(server.connections(), 2);
}

TEST_F(HttpSnapshotCameraTest, WrongPasswordIsAuthFailedAfterOneRetry) {
  DigestServer ds{"MD5"};
  ds.expected_cnonce = first_cnonce();
  TestHttpServer server([&](Conn& c) { ds.serve(c, jpeg); });
  auto s = settings(server.url());
  s.username = kUser;
  s.password = "wrong";
  auto out = capture(s);
  EXPECT_EQ(out.code(), "camera_auth_failed");
  EXPECT_EQ(out.error().message.find("wrong"), std::string::npos);
  EXPECT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(ds.failures, std::vector<std::string>{});
}

TEST_F(HttpSnapshotCameraTest, ChallengeWithoutCredentialsIsAuthFailed) {
  DigestServer ds{"MD5"};
  TestHttpServer server([&](Conn& c) { ds.serve(c, jpeg); });
  auto out = capture(settings(server.url()));
  EXPECT_EQ(out.code(), "camera_auth_failed");
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST_F(HttpSnapshotCameraTest, DigestModeRefusesABasicChallenge) {
  TestHttpServer server([&](Conn& c) {
    while (c.read_request())
      c.write(test::response(401, {{"WWW-Authenticate", "Basic realm=x"}}, ""));
  });
  auto s = settings(server.url());
  s.username = kUser;
  s.password = kPassword;
  s.auth = HttpAuth::digest;
  s.allow_basic_over_http = true;
  auto out = capture(s);
  EXPECT_EQ(out.code(), "camera_auth_failed");
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST_F(HttpSnapshotCameraTest, ForbiddenIsAuthFailed) {
  TestHttpServer server([&](Conn& c) {
    if (c.read_request()) c.write(test::response(403, {}, "forbidden"));
  });
  EXPECT_EQ(capture(settings(server.url())).code(), "camera_auth_failed");
}

// ---- slow, hung, absent ----

TEST_F(HttpSnapshotCameraTest, SlowBodyTimesOutOnTime) {
  const std::string body = test::as_string(jpeg);
  TestHttpServer server([&](Conn& c) {
    if (!c.read_request()) return;
    std::string head = "HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\n\r\n";
    if (!c.write(head)) return;
    for (std::size_t i = 0; i < body.size(); i += 64) {  // 64 bytes every 50 ms
      if (!c.write(body.substr(i, 64)) || !c.pause(50ms)) return;
    }
  });
  auto s = settings(server.url());
  s.timeout = 400ms;
  auto out = capture(s);
  EXPECT_EQ(out.code(), "camera_timeout");
  EXPECT_GE(out.elapsed, 390ms);
  EXPECT_LE(out.elapsed, 400ms + 300ms);
}

TEST_F(HttpSnapshotCameraTest, HungServerTimesOut) {
  TestHttpServer server([&](Conn& c) {
    if (c.read_request()) c.hang();
  });
  auto s = settings(server.url());
  s.timeout = 300ms;
  auto out = capture(s);
  EXPECT_EQ(out.code(), "camera_timeout");
  EXPECT_NE(out.error().message.find("waiting for the answer"), std::string::npos)
      << out.error().message;
  EXPECT_LE(out.elapsed, 300ms + 300ms);
}

TEST_F(HttpSnapshotCameraTest, ServerThatNeverReadsTimesOut) {
  TestHttpServer server([&](Conn& c) { c.hang(); });
  auto s = settings(server.url());
  s.timeout = 300ms;
  auto out = capture(s);
  EXPECT_EQ(out.code(), "camera_timeout");
  EXPECT_LE(out.elapsed, 300ms + 300ms);
}

TEST_F(HttpSnapshotCameraTest, ConnectionRefusedIsUnreachable) {
  auto out =
      capture(settings("http://127.0.0.1:" + std::to_string(test::unused_port()) + "/s.jpg"));
  EXPECT_EQ(out.code(), "camera_unreachable");
  EXPECT_LE(out.elapsed, 1s);
}

TEST_F(HttpSnapshotCameraTest, ClosedWithoutAnswerIsUnreachable) {
  TestHttpServer server([&](Conn& c) { (void)c.read_request(); });
  EXPECT_EQ(capture(settings(server.url())).code(), "camera_unreachable");
}

// ---- garbage ----

TEST_F(HttpSnapshotCameraTest, WrongContentType) {
  TestHttpServer server([&](Conn& c) {
    if (c.read_request())
      c.write(test::jpeg_response("<html>login</html>", "text/html; charset=utf-8"));
  });
  auto out = capture(settings(server.url()));
  EXPECT_EQ(out.code(), "camera_bad_content_type");
  EXPECT_NE(out.error().message.find("text/html"), std::string::npos);
}

TEST_F(HttpSnapshotCameraTest, MissingContentType) {
  TestHttpServer server([&](Conn& c) {
    if (c.read_request()) c.write(test::response(200, {}, test::as_string(jpeg)));
  });
  EXPECT_EQ(capture(settings(server.url())).code(), "camera_bad_content_type");
}

TEST_F(HttpSnapshotCameraTest, TruncatedJpeg) {
  const std::string cut = test::as_string(jpeg).substr(0, jpeg.size() / 2);
  TestHttpServer server([&](Conn& c) {
    if (c.read_request()) c.write(test::jpeg_response(cut));
  });
  auto out = capture(settings(server.url()));
  EXPECT_EQ(out.code(), "camera_bad_jpeg");
  EXPECT_NE(out.error().message.find("truncated"), std::string::npos) << out.error().message;
}

TEST_F(HttpSnapshotCameraTest, ConnectionClosedMidBody) {
  const std::string body = test::as_string(jpeg);
  TestHttpServer server([&](Conn& c) {
    if (!c.read_request()) return;
    c.write("HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: " +
            std::to_string(body.size()) + "\r\n\r\n" + body.substr(0, 1000));
  });
  auto out = capture(settings(server.url()));
  EXPECT_EQ(out.code(), "camera_bad_jpeg");
  EXPECT_NE(out.error().message.find("truncated"), std::string::npos) << out.error().message;
}

TEST_F(HttpSnapshotCameraTest, OversizeByContentLengthAndChunked) {
  const std::string body = test::as_string(jpeg);
  TestHttpServer server([&](Conn& c) {
    if (!c.read_request()) return;
    if (c.index == 0) {
      c.write(test::jpeg_response(body));
    } else {
      c.write(
          test::chunked_response({{"Content-Type", "image/jpeg"}},
                                 {body.substr(0, 300), body.substr(300, 300), body.substr(600)}));
    }
  });
  auto s = settings(server.url());
  s.max_bytes = jpeg.size() / 2;
  auto first = capture(s);
  EXPECT_EQ(first.code(), "camera_too_large") << (first.ok() ? (*first.result)->jpeg.size() : 0)
                                              << " " << jpeg.size() << " " << s.max_bytes;
  EXPECT_EQ(capture(s).code(), "camera_too_large");
  EXPECT_EQ(server.connections(), 2);
}

TEST_F(HttpSnapshotCameraTest, ErrorStatusAndNonHttp) {
  TestHttpServer server([&](Conn& c) {
    if (!c.read_request()) return;
    if (c.index == 0) c.write(test::response(404, {{"Content-Type", "text/plain"}}, "nope"));
    if (c.index == 1) c.write("SSH-2.0-OpenSSH_9.2\r\n\r\n");
  });
  auto first = capture(settings(server.url()));
  EXPECT_EQ(first.code(), "camera_bad_status");
  EXPECT_NE(first.error().message.find("404"), std::string::npos);
  EXPECT_EQ(capture(settings(server.url())).code(), "camera_bad_status");
}

// ---- the port's contract ----

TEST_F(HttpSnapshotCameraTest, SecondCaptureIsBusyAndFirstCompletes) {
  TestHttpServer server([&](Conn& c) {
    if (!c.read_request() || !c.pause(100ms)) return;
    c.write(test::jpeg_response(test::as_string(jpeg)));
  });
  auto cam = make(settings(server.url()));
  std::vector<std::string> seen;
  cam->capture([&](core::Result<Still> r) { seen.push_back(r ? "still" : r.error().code); });
  cam->capture([&](core::Result<Still> r) { seen.push_back(r ? "still" : r.error().code); });
  EXPECT_TRUE(seen.empty());
  io.run_for(5s);
  EXPECT_EQ(seen, (std::vector<std::string>{"camera_busy", "still"}));
}

TEST_F(HttpSnapshotCameraTest, StopCancelsBeforeReturningAndTheCameraStaysUsable) {
  TestHttpServer server([&](Conn& c) {
    if (!c.read_request()) return;
    if (c.index == 0) {
      (void)c.read_request();  // hangs until the client gives up
      return;
    }
    c.write(test::jpeg_response(test::as_string(jpeg)));
  });
  auto cam = make(settings(server.url()));
  int calls = 0;
  std::string code;
  cam->capture([&](core::Result<Still> r) {
    ++calls;
    code = r ? "still" : r.error().code;
  });
  // Until the request is in: the capture then waits for an answer that never comes.
  for (int i = 0; i < 200 && server.requests().empty(); ++i) io.run_for(10ms);
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(calls, 0);
  cam->stop();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(code, "cancelled");
  io.restart();
  io.run_for(500ms);
  EXPECT_EQ(calls, 1);
  cam->stop();  // nothing in flight: nothing happens
  EXPECT_EQ(calls, 1);
  auto again = test::capture_once(*cam, io);
  EXPECT_TRUE(again.ok());
}

TEST_F(HttpSnapshotCameraTest, DestroyingTheCameraCancels) {
  TestHttpServer server([&](Conn& c) {
    if (c.read_request()) c.hang();
  });
  auto cam = make(settings(server.url()));
  std::string code;
  cam->capture([&](core::Result<Still> r) { code = r ? "still" : r.error().code; });
  io.run_for(100ms);
  cam.reset();
  EXPECT_EQ(code, "cancelled");
  io.restart();
  io.run_for(200ms);  // the aborted handlers unwind without the camera
}

TEST_F(HttpSnapshotCameraTest, CreateChecksSettings) {
  const auto code = [&](HttpCameraSettings s) {
    auto c = HttpSnapshotCamera::create(io, std::move(s), random, clock);
    return c ? std::string("ok") : c.error().code + "/" + c.error().field;
  };
  EXPECT_EQ(code(settings("http://cam/s.jpg")), "ok");
  EXPECT_EQ(code(settings("rtsp://cam/s")), "bad_url/url");
  auto no_id = settings("http://cam/s.jpg");
  no_id.id.clear();
  EXPECT_EQ(code(no_id), "bad_setting/id");
  auto basic = settings("http://cam/s.jpg");
  basic.auth = HttpAuth::basic;
  basic.username = kUser;
  EXPECT_EQ(code(basic), "bad_setting/auth");
  basic.url = "https://cam/s.jpg";
  EXPECT_EQ(code(basic), "ok");
  basic.username = "a:b";
  EXPECT_EQ(code(basic), "bad_setting/username");
  auto digest = settings("http://cam/s.jpg");
  digest.auth = HttpAuth::digest;
  EXPECT_EQ(code(digest), "bad_setting/username");
  auto ca = settings("https://cam/s.jpg");
  ca.ca_file = "/nonexistent/ca.pem";
  EXPECT_EQ(code(ca), "bad_setting/ca_file");
  auto zero = settings("http://cam/s.jpg");
  zero.timeout = 0ms;
  EXPECT_EQ(code(zero), "bad_setting/timeout");
}

// ---- HTTPS ----

class HttpsSnapshotCameraTest : public HttpSnapshotCameraTest {
 protected:
  void TearDown() override {
    std::error_code ec;
    for (const auto& f : files) {
      std::filesystem::remove(f, ec);
      std::filesystem::remove(std::filesystem::path(f).parent_path(), ec);  // once empty
    }
  }
  std::string file(const std::string& name, const std::string& text) {
    files.push_back(test::write_temp_file(name, text));
    return files.back();
  }
  std::vector<std::string> files;
};

TEST_F(HttpsSnapshotCameraTest, VerifiedWithTheTestCaByAddressAndByName) {
  const auto pki = test::make_test_pki("postgate test CA", {"DNS:localhost", "IP:127.0.0.1"});
  std::vector<std::string> sni;
  TestHttpServer server(
      [&](Conn& c) {
        sni.push_back(c.server_name);
        if (c.read_request()) c.write(test::jpeg_response(test::as_string(jpeg)));
      },
      TestHttpServer::Tls{pki.server_cert_pem, pki.server_key_pem});
  auto s = settings(server.url());
  s.ca_file = file("ca.pem", pki.ca_pem);
  auto by_address = capture(s);
  ASSERT_TRUE(by_address.ok()) << by_address.error().message;
  EXPECT_EQ((*by_address.result)->jpeg, jpeg);

  s.url = "https://localhost:" + std::to_string(server.port()) + "/snapshot.jpg";
  auto by_name = capture(s);
  ASSERT_TRUE(by_name.ok()) << by_name.error().message;
  EXPECT_EQ(sni, (std::vector<std::string>{"", "localhost"}));  // no SNI for an address
}

TEST_F(HttpsSnapshotCameraTest, WrongCaFailsUnlessVerificationIsOff) {
  const auto pki = test::make_test_pki("postgate test CA", {"IP:127.0.0.1"});
  const auto other = test::make_test_pki("some other CA", {"IP:127.0.0.1"});
  TestHttpServer server(
      [&](Conn& c) {
        if (c.read_request()) c.write(test::jpeg_response(test::as_string(jpeg)));
      },
      TestHttpServer::Tls{pki.server_cert_pem, pki.server_key_pem});
  auto s = settings(server.url());
  s.ca_file = file("other-ca.pem", other.ca_pem);
  auto out = capture(s);
  EXPECT_EQ(out.code(), "camera_tls_failed");
  EXPECT_NE(out.error().message.find("certificate"), std::string::npos) << out.error().message;
  EXPECT_EQ(server.requests().size(), 0u);

  s.verify_peer = false;
  EXPECT_TRUE(capture(s).ok());
}

TEST_F(HttpsSnapshotCameraTest, HostNameMismatchFails) {
  const auto pki = test::make_test_pki("postgate test CA", {"DNS:camera.invalid"});
  TestHttpServer server(
      [&](Conn& c) {
        if (c.read_request()) c.write(test::jpeg_response(test::as_string(jpeg)));
      },
      TestHttpServer::Tls{pki.server_cert_pem, pki.server_key_pem});
  auto s = settings(server.url());
  s.ca_file = file("ca.pem", pki.ca_pem);
  EXPECT_EQ(capture(s).code(), "camera_tls_failed");
  EXPECT_EQ(server.requests().size(), 0u);
}

TEST_F(HttpsSnapshotCameraTest, DigestOverTls) {
  const auto pki = test::make_test_pki("postgate test CA", {"IP:127.0.0.1"});
  DigestServer ds{"SHA-256"};
  ds.expected_cnonce = first_cnonce();
  TestHttpServer server([&](Conn& c) { ds.serve(c, jpeg); },
                        TestHttpServer::Tls{pki.server_cert_pem, pki.server_key_pem});
  auto s = settings(server.url());
  s.ca_file = file("ca.pem", pki.ca_pem);
  s.username = kUser;
  s.password = kPassword;
  auto out = capture(s);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(ds.failures, std::vector<std::string>{});
}

}  // namespace
}  // namespace postgate::adapters::camera
