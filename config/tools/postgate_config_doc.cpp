// Prints config/README.md's generated schema section, or rewrites it in place:
//   postgate_config_doc                      print the Markdown
//   postgate_config_doc --update README.md   replace the text between the markers
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "config/config.hpp"

int main(int argc, char** argv) {
  const std::string markdown = postgate::config::schema_markdown();
  if (argc == 1) {
    std::cout << markdown;
    return 0;
  }
  if (argc != 3 || std::string(argv[1]) != "--update") {
    std::cerr << "usage: " << argv[0] << " [--update README.md]\n";
    return 2;
  }
  const std::string file = argv[2];
  std::ifstream in(file);
  if (!in) {
    std::cerr << file << ": cannot open\n";
    return 1;
  }
  std::ostringstream text;
  text << in.rdbuf();
  std::string readme = text.str();
  const std::string begin = "<!-- schema:begin -->\n";
  const std::string end = "<!-- schema:end -->";
  const auto b = readme.find(begin);
  const auto e = readme.find(end);
  if (b == std::string::npos || e == std::string::npos || e < b) {
    std::cerr << file << ": markers " << begin.substr(0, begin.size() - 1) << " and " << end
              << " not found\n";
    return 1;
  }
  readme.replace(b + begin.size(), e - b - begin.size(), markdown);
  std::ofstream out(file, std::ios::trunc);
  out << readme;
  if (!out) {
    std::cerr << file << ": cannot write\n";
    return 1;
  }
  return 0;
}
