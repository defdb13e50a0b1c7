// Makes the V4L2 fixture frames (synthetic test patterns, nothing of a
// person), or checks that the checked-in ones are what it would make:
//   camera_make_fixtures DIR            write DIR/*.{raw,jpg}
//   camera_make_fixtures --check DIR    exit 1 if any differs
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "test_pattern.hpp"

using namespace postgate::adapters::camera::test;

namespace {

std::vector<std::pair<std::string, Bytes>> fixtures() {
  return {
      // A UVC camera in YUYV mode at 320x240: one raw frame as DQBUF gives it.
      {"yuyv_320x240.raw", yuyv_pattern(320, 240)},
      // A UVC camera in MJPEG mode: 4:2:2, standard tables, no DHT segment.
      {"mjpeg_no_dht_320x240.jpg", strip_huffman_tables(jpeg_pattern(320, 240, 80))},
  };
}

Bytes read(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

int main(int argc, char** argv) {
  const bool check = argc == 3 && std::strcmp(argv[1], "--check") == 0;
  if (argc != 2 && !check) {
    std::fprintf(stderr, "usage: camera_make_fixtures [--check] DIR\n");
    return 2;
  }
  const std::filesystem::path dir = argv[argc - 1];
  int status = 0;
  for (const auto& [name, bytes] : fixtures()) {
    const auto path = dir / name;
    if (check) {
      if (read(path) != bytes) {
        std::fprintf(stderr, "%s is not current: run camera_make_fixtures %s\n", path.c_str(),
                     dir.c_str());
        status = 1;
      }
    } else {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out.write(reinterpret_cast<const char*>(bytes.data()),
                static_cast<std::streamsize>(bytes.size()));
      std::printf("wrote %s (%zu bytes)\n", path.c_str(), bytes.size());
    }
  }
  return status;
}
