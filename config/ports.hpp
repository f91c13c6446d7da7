#pragma once

#include <cstdint>
#include <string>

#include <caf/error.hpp>

#include "config/cluster_config.hpp"

namespace weir {

/// Checks that a server could listen on `port` at `address` (a host name or
/// an IPv4/IPv6 address) by binding a TCP socket there and closing it.
/// `key` names the setting in the error: "rest.port 8081 on 127.0.0.1 is
/// in use". Port 0 (any free port) always passes. The socket sets
/// SO_REUSEADDR, as servers do (CAF: publish with reuse_addr = true), so a
/// port still held by TIME_WAIT connections of a previous run counts as
/// free while any listening socket makes it busy. A check, not a
/// reservation: the caller binds right after it.
caf::error check_port_free(const std::string& key, const std::string& address,
                           uint16_t port);

/// The JobManager's ports: jobmanager.rpc.port and rest.port. Called by
/// `weir jobmanager` at start-up, before it opens them.
caf::error check_jobmanager_ports(const cluster_config& cfg);

/// The TaskManager's port: taskmanager.rpc.port unless 0. Called by
/// `weir taskmanager` at start-up.
caf::error check_taskmanager_ports(const cluster_config& cfg);

} // namespace weir
