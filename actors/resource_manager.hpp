#pragma once

#include "actors/protocol.hpp"

namespace weir {

/// Spawns the resource manager: task managers register their slots with it;
/// job masters request slots (granted spread over task managers, see
/// choose_slots) and release them when their job ends. A request that
/// cannot be met waits for new slots until its timeout, then fails with an
/// error saying how many slots exist and are free. A task manager that
/// goes down takes its slots with it.
resource_manager_actor spawn_resource_manager(caf::actor_system& sys);

} // namespace weir
