#pragma once

#include <chrono>
#include <functional>
#include <string>

#include <caf/expected.hpp>

#include <caf/timespan.hpp>

#include "actors/protocol.hpp"

namespace weir {

/// Settings of the resource manager.
struct resource_manager_config {
  /// How often it sends each task manager a heartbeat; zero: no heartbeats
  /// (mini clusters, where a task manager cannot hang apart from the rest).
  caf::timespan heartbeat_interval{0};
  /// Silence after which a task manager counts as dead: its slots vanish
  /// and the jobs that used them are told (lost_atom).
  caf::timespan heartbeat_timeout{0};
  /// Serves fetch_atom: the bytes of an uploaded user library by id; null:
  /// no libraries here.
  std::function<caf::expected<std::string>(const std::string&)> fetch_library;
  /// Told of registrations, refusals and lost task managers (ok false for
  /// the latter two); for the process log.
  std::function<void(bool ok, const std::string& what)> on_event;
  /// The version a task manager must run to register.
  std::string version = weir_version;
};

/// Spawns the resource manager: task managers register their slots with it;
/// job masters request slots (granted spread over task managers, see
/// choose_slots) and release them when their job ends. A request that
/// cannot be met waits for new slots until its timeout, then fails with an
/// error saying how many slots exist and are free. A task manager that
/// goes down (or, with heartbeats, falls silent) takes its slots with it,
/// and every job master holding one of them gets a lost_atom.
resource_manager_actor spawn_resource_manager(caf::actor_system& sys,
                                              resource_manager_config cfg = {});

} // namespace weir
