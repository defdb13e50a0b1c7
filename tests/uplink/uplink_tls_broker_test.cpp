// Mutual TLS: mosquitto with require_certificate; certificates made by
// openssl in a temporary directory for each run.
#include <gtest/gtest.h>

#include "broker_harness.hpp"

namespace postgate::uplink::testing {
namespace {

class UplinkTls : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!mosquitto_available())
      GTEST_SKIP() << "mosquitto is not installed at " << kMosquitto << ": TLS tests skipped";
    if (std::string why; !Peer::available(why))
      GTEST_SKIP() << why << ": the test-side HQ peer cannot run, TLS tests skipped";
    std::string error;
    auto files = make_tls_files(dir_.path(), error);
    ASSERT_TRUE(files) << error;
    files_ = *files;
    broker_ = std::make_unique<Broker>(dir_.path());
    ASSERT_TRUE(broker_->start(BrokerTls{files_.ca, files_.server_cert, files_.server_key, true}))
        << broker_->log();
  }

  UplinkConfig tls_config(const std::string& outlet, TlsSettings tls) {
    auto cfg = test_config(broker_->uri(), outlet);
    cfg.tls = std::move(tls);
    return cfg;
  }

  // True when the edge never got a connection in `span` while trying.
  static bool refused(Edge& edge, std::chrono::milliseconds span) {
    const bool failed = wait_until([&] { return edge.status().connect_failures >= 2; }, span);
    return failed && !edge.status().connected && edge.status().batches_sent == 0;
  }

  TempDir dir_;
  TlsFiles files_;
  std::unique_ptr<Broker> broker_;
};

TEST_F(UplinkTls, EdgeWithItsCertificateDelivers) {
  Peer hq(
      Peer::Options{broker_->port(), "hq-test", files_.ca, files_.client_cert, files_.client_key});
  ASSERT_TRUE(hq.hq());
  MemoryOutbox outbox;
  outbox.append(50);
  Edge edge(tls_config("sh-0001", {files_.ca.string(), files_.client_cert.string(),
                                   files_.client_key.string(), true}),
            outbox);
  ASSERT_TRUE(edge.start());
  ASSERT_TRUE(wait_until([&] { return outbox.pending() == 0; }, 10s))
      << "last error: " << edge.status().last_error;
  EXPECT_EQ(hq.contiguous("sh-0001"), 50u);
  EXPECT_EQ(edge.status().broker, broker_->uri());
  EXPECT_TRUE(edge.stop());
}

TEST_F(UplinkTls, EdgeWithoutACertificateIsRefused) {
  MemoryOutbox outbox;
  outbox.append(5);
  Edge edge(tls_config("sh-0002", {files_.ca.string(), "", "", true}), outbox);
  ASSERT_TRUE(edge.start());
  EXPECT_TRUE(refused(edge, 5s)) << edge.status().last_error;
  EXPECT_EQ(outbox.pending(), 5u);
  EXPECT_TRUE(edge.stop());
}

TEST_F(UplinkTls, EdgeWithACertificateFromAnotherCaIsRefused) {
  MemoryOutbox outbox;
  outbox.append(5);
  Edge edge(tls_config("sh-0003", {files_.ca.string(), files_.rogue_cert.string(),
                                   files_.rogue_key.string(), true}),
            outbox);
  ASSERT_TRUE(edge.start());
  EXPECT_TRUE(refused(edge, 5s)) << edge.status().last_error;
  EXPECT_TRUE(edge.stop());
}

TEST_F(UplinkTls, EdgeRefusesABrokerItsCaDidNotSign) {
  MemoryOutbox outbox;
  outbox.append(5);
  // Trusting only the rogue CA: the broker's certificate does not verify.
  Edge edge(tls_config("sh-0004", {(dir_.path() / "rogue-ca.crt").string(),
                                   files_.client_cert.string(), files_.client_key.string(), true}),
            outbox);
  ASSERT_TRUE(edge.start());
  EXPECT_TRUE(refused(edge, 5s)) << edge.status().last_error;
  EXPECT_TRUE(edge.stop());
}

TEST_F(UplinkTls, HostnameIsVerifiedUnlessTurnedOff) {
  // A broker whose certificate (from the right CA) names another host.
  TempDir other;
  Broker misnamed(other.path());
  ASSERT_TRUE(
      misnamed.start(BrokerTls{files_.ca, files_.wrong_name_cert, files_.wrong_name_key, true}))
      << misnamed.log();
  MemoryOutbox outbox;
  TlsSettings tls{files_.ca.string(), files_.client_cert.string(), files_.client_key.string(),
                  true};
  auto cfg = test_config(misnamed.uri(), "sh-0005");
  cfg.tls = tls;
  {
    Edge edge(cfg, outbox);
    ASSERT_TRUE(edge.start());
    EXPECT_TRUE(refused(edge, 5s)) << "connected to a broker with another host name";
    EXPECT_TRUE(edge.stop());
  }
  cfg.tls->verify_hostname = false;
  Edge edge(cfg, outbox);
  ASSERT_TRUE(edge.start());
  EXPECT_TRUE(wait_until([&] { return edge.status().connected; }, 5s)) << edge.status().last_error;
  EXPECT_TRUE(edge.stop());
}

}  // namespace
}  // namespace postgate::uplink::testing
