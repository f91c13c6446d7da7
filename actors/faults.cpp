#include "actors/faults.hpp"

namespace weir {

fault_injector::~fault_injector() = default;

} // namespace weir
