#include "adapters/camera/codec/www_authenticate.hpp"

#include <gtest/gtest.h>

#include "adapters/camera/digest_hash.hpp"

namespace postgate::adapters::camera {
namespace {

std::vector<AuthChallenge> parse(std::string_view v) {
  auto r = parse_www_authenticate(v);
  EXPECT_TRUE(r) << v << ": " << (r ? "" : r.error().message);
  return r ? *r : std::vector<AuthChallenge>{};
}

TEST(WwwAuthenticate, Basic) {
  auto c = parse(R"(Basic realm="IP Camera")");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].scheme, "basic");
  EXPECT_EQ(c[0].realm, "IP Camera");
}

TEST(WwwAuthenticate, DigestWithEverything) {
  auto c =
      parse(R"(Digest realm="cam\"era\\1", qop="auth,auth-int", algorithm=SHA-256, )"
            R"(nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe", stale=TRUE)");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].scheme, "digest");
  EXPECT_EQ(c[0].realm, "cam\"era\\1");
  EXPECT_EQ(c[0].qop, (std::vector<std::string>{"auth", "auth-int"}));
  EXPECT_EQ(c[0].algorithm, "SHA-256");
  EXPECT_EQ(c[0].nonce, "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v");
  EXPECT_EQ(c[0].opaque, "FQhe");
  EXPECT_TRUE(c[0].stale);
  ASSERT_NE(c[0].param("qop"), nullptr);
}

TEST(WwwAuthenticate, SeveralChallengesInOneField) {
  auto c = parse(
      R"(Digest realm="a", nonce="n1", algorithm=SHA-256, qop="auth", )"
      R"(Digest realm="a", nonce="n2", algorithm=MD5, qop="auth",Basic realm="a" , Negotiate abc+/==)");
  ASSERT_EQ(c.size(), 4u);
  EXPECT_EQ(c[0].nonce, "n1");
  EXPECT_EQ(c[1].nonce, "n2");
  EXPECT_EQ(c[2].scheme, "basic");
  EXPECT_EQ(c[3].scheme, "negotiate");
  EXPECT_EQ(c[3].token68, "abc+/==");
  const AuthChallenge* d = pick_digest(c);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->nonce, "n1");  // SHA-256 first
  EXPECT_EQ(find_scheme(c, "basic"), &c[2]);
}

TEST(WwwAuthenticate, ToleratesSpacingCaseAndEmptyElements) {
  auto c = parse(" ,DIGEST  Realm = \"r\" ,, NONCE=abc ,qop=auth,  ");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].realm, "r");
  EXPECT_EQ(c[0].nonce, "abc");
  EXPECT_EQ(c[0].qop, std::vector<std::string>{"auth"});
  auto b = parse("Basic, Digest nonce=x");
  ASSERT_EQ(b.size(), 2u);
  EXPECT_TRUE(b[0].params.empty());
  EXPECT_EQ(b[1].nonce, "x");
}

TEST(WwwAuthenticate, RejectsMalformedHeaders) {
  for (std::string_view bad : {"", "   ", "Digest realm=\"open", "Digest realm=\"a\" nonce=\"b\"",
                               "Digest realm=\"a\", realm=\"b\"", "=x",
                               "Digest realm=\"a\", nonce=", "Digest realm=\"a\x01\"",
                               "Digest realm=\"a\r\nX: y\"", "Digest\"x\""}) {
    auto r = parse_www_authenticate(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().code, "bad_www_authenticate");
    }
  }
}

TEST(WwwAuthenticate, PicksOnlyDigestItSpeaks) {
  auto c = parse(R"(Digest nonce="a", algorithm=SHA-512-256, Digest nonce="b", qop="auth-int")");
  EXPECT_EQ(pick_digest(c), nullptr);
  auto legacy = parse(R"(Digest realm="r", nonce="a")");  // RFC 2069: no qop, MD5
  EXPECT_EQ(pick_digest(legacy), &legacy[0]);
  EXPECT_EQ(digest_algorithm(legacy[0])->hash, DigestHash::md5);
  auto sess = parse(R"(Digest nonce="a", algorithm=sha-256-SESS)");
  ASSERT_TRUE(digest_algorithm(sess[0]));
  EXPECT_TRUE(digest_algorithm(sess[0])->session);
}

// RFC 7616 section 3.9.1: the worked example, with MD5 and SHA-256.
constexpr std::string_view kRfcChallenge =
    R"(realm="http-auth@example.org", qop="auth, auth-int", )"
    R"(nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", )"
    R"(opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS")";

DigestInput rfc_input() {
  DigestInput in;
  in.username = "Mufasa";
  in.password = "Circle of Life";
  in.method = "GET";
  in.uri = "/dir/index.html";
  in.cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
  return in;
}

TEST(DigestAuthorization, Rfc7616Md5Example) {
  auto c = parse("Digest algorithm=MD5, " + std::string(kRfcChallenge));
  auto h = digest_authorization(c.at(0), rfc_input(), openssl_digest_hex);
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(*h, R"(Digest username="Mufasa", realm="http-auth@example.org", )"
                R"(nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", uri="/dir/index.html", )"
                R"(algorithm=MD5, response="8ca523f5e9506fed4657c9700eebdbec", qop=auth, )"
                R"(nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", )"
                R"(opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS")");
}

TEST(DigestAuthorization, Rfc7616Sha256Example) {
  auto c = parse("Digest algorithm=SHA-256, " + std::string(kRfcChallenge));
  auto h = digest_authorization(c.at(0), rfc_input(), openssl_digest_hex);
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_NE(
      h->find(R"(response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1")"),
      std::string::npos)
      << *h;
  EXPECT_NE(h->find("algorithm=SHA-256"), std::string::npos);
}

TEST(DigestAuthorization, Rfc2069FormWithoutQop) {
  // RFC 2617 section 3.5's example server, answered without qop (RFC 2069):
  // response = MD5(HA1:nonce:HA2).
  auto c =
      parse(R"(Digest realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093")");
  DigestInput in = rfc_input();
  in.uri = "/dir/index.html";
  auto h = digest_authorization(c.at(0), in, openssl_digest_hex);
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(h->find("qop="), std::string::npos);
  EXPECT_EQ(h->find("nc="), std::string::npos);
  EXPECT_EQ(h->find("algorithm"), std::string::npos);
  const std::string ha1 =
      openssl_digest_hex(DigestHash::md5, "Mufasa:testrealm@host.com:Circle of Life");
  const std::string ha2 = openssl_digest_hex(DigestHash::md5, "GET:/dir/index.html");
  const std::string expected =
      openssl_digest_hex(DigestHash::md5, ha1 + ":dcd98b7102dd2f0e8b11d0f600bfb0c093:" + ha2);
  EXPECT_NE(h->find("response=\"" + expected + "\""), std::string::npos);
}

TEST(DigestAuthorization, SessionVariantHashesNonceIntoHa1) {
  auto c = parse(R"(Digest realm="r", nonce="n", qop=auth, algorithm=MD5-sess)");
  DigestInput in = rfc_input();
  in.uri = "/snap.jpg";
  in.cnonce = "c0";
  in.nc = 0x1f;
  auto h = digest_authorization(c.at(0), in, openssl_digest_hex);
  ASSERT_TRUE(h);
  const auto md5 = [](std::string_view s) { return openssl_digest_hex(DigestHash::md5, s); };
  const std::string ha1 = md5(md5("Mufasa:r:Circle of Life") + ":n:c0");
  const std::string expected = md5(ha1 + ":n:0000001f:c0:auth:" + md5("GET:/snap.jpg"));
  EXPECT_NE(h->find("response=\"" + expected + "\""), std::string::npos) << *h;
  EXPECT_NE(h->find("nc=0000001f"), std::string::npos);
}

TEST(DigestAuthorization, RefusesHeaderInjectionAndEscapesQuotes) {
  auto c = parse(R"(Digest realm="r", nonce="n", qop=auth)");
  DigestInput in = rfc_input();
  in.username = "a\r\nX-Evil: 1";
  auto h = digest_authorization(c.at(0), in, openssl_digest_hex);
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code, "camera_auth_failed");
  in.username = "say \"hi\"";
  h = digest_authorization(c.at(0), in, openssl_digest_hex);
  ASSERT_TRUE(h);
  EXPECT_NE(h->find(R"(username="say \"hi\"")"), std::string::npos);
}

TEST(BasicAuthorization, EncodesAndRefuses) {
  EXPECT_EQ(*basic_authorization("Aladdin", "open sesame"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  EXPECT_FALSE(basic_authorization("a:b", "c"));
  EXPECT_FALSE(basic_authorization("a", "c\n"));
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
}

}  // namespace
}  // namespace postgate::adapters::camera
