#include "api/timers.hpp"

namespace weir {

const char* to_string(time_domain x) {
  switch (x) {
    case time_domain::event_time:
      return "event time";
    case time_domain::processing_time:
      return "processing time";
  }
  return "unknown time domain";
}

} // namespace weir
