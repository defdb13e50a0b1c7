#pragma once
// A small, strict XML reader for X-ray result files. Debian's libpugixml-dev
// ships no pugixml.cpp, so pugixml cannot be used header-only, and linking the
// library would break the rule that device codecs build with the standard
// library alone (the libc++ fuzz build compiles adapters/*/codec/*.cpp and
// links nothing else). Result files are a handful of elements, so this reads
// what they use and refuses the rest:
//   elements, attributes, text, CDATA, comments, processing instructions,
//   the five predefined entities and character references;
//   a DOCTYPE without an internal subset is skipped, one with a subset
//   ("[...]") is refused, so no entity is ever defined or expanded.
// Bytes are taken as UTF-8 and kept as they are; nothing is transcoded.
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"

namespace postgate::adapters::xray {

struct XmlElement {
  std::string name;  // qualified, as written ("ns:Scan")
  std::vector<std::pair<std::string, std::string>> attributes;
  std::string text;  // the element's own text and CDATA, concatenated
  std::vector<XmlElement> children;

  const XmlElement* child(std::string_view name) const;
  const std::string* attribute(std::string_view name) const;
};

// A name without a prefix matches any prefix ("Lane" matches "x:Lane"):
// machines that put a namespace prefix on every element need not have it
// spelled in config.
bool xml_name_matches(std::string_view qualified, std::string_view wanted);

struct XmlLimits {
  std::size_t max_depth = 32;
  std::size_t max_elements = 4096;
};

// Error code "bad_xml"; the message says what and at which byte offset.
core::Result<XmlElement> parse_xml(std::string_view bytes, XmlLimits limits = {});

}  // namespace postgate::adapters::xray
