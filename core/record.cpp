#include "core/record.hpp"

namespace postgate::core {

std::string_view to_string(InspectionOutcome o) {
  switch (o) {
    case InspectionOutcome::pass:
      return "pass";
    case InspectionOutcome::refuse:
      return "refuse";
  }
  return "unknown";
}

}  // namespace postgate::core
