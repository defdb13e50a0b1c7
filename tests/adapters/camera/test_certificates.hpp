#pragma once
// A throwaway PKI made at test time with OpenSSL (EC P-256, SHA-256): a CA
// and a server certificate it signs, for the HTTPS snapshot tests.
#include <string>
#include <vector>

namespace postgate::adapters::camera::test {

struct TestPki {
  std::string ca_pem;           // the CA certificate
  std::string server_cert_pem;  // the server certificate
  std::string server_key_pem;   // its private key
};

// sans: "DNS:localhost", "IP:127.0.0.1", ...; valid from an hour ago for a day.
TestPki make_test_pki(const std::string& ca_name, const std::vector<std::string>& sans);

// Writes `text` to a fresh file under the test temp dir; returns its path.
std::string write_temp_file(const std::string& name, const std::string& text);

}  // namespace postgate::adapters::camera::test
