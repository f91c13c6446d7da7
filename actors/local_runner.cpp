#include "actors/local_runner.hpp"

#include <algorithm>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/error.hpp"

namespace weir {

caf::expected<job_result>
run_local_job(const proto::JobSpec& spec,
              std::shared_ptr<const operator_registry> registry,
              const local_run_options& opts) {
  caf::actor_system_config cfg;
  register_protocol(cfg);
  // CAF's default is max(cores, 4) workers, and idle ones poll; more
  // workers than cores only adds stealing overhead here.
  auto threads = opts.threads > 0
                   ? opts.threads
                   : std::max(1u, std::thread::hardware_concurrency());
  cfg.set("scheduler.max-threads", static_cast<size_t>(threads));
  // A source re-schedules itself as long as it has credit; without a bound
  // on messages per turn it would keep its worker forever and starve the
  // control plane (cancel, checkpoints) on a machine with few cores.
  cfg.set("scheduler.max-throughput", size_t{64});
  // Quiet CAF's own console output; errors reach the caller as values.
  cfg.set("logger.verbosity", caf::atom("quiet"));
  caf::actor_system sys{cfg};
  auto cluster = spawn_mini_cluster(sys, opts.cluster, std::move(registry));
  caf::expected<job_result> outcome = caf::error{};
  caf::actor savepointer;
  {
    caf::scoped_actor self{sys};
    std::string bytes;
    spec.SerializeToString(&bytes);
    caf::expected<job_id> id = caf::error{};
    self
      ->request(cluster.job_manager, caf::infinite, submit_atom::value, bytes,
                opts.submit)
      .receive([&](job_id& x) { id = std::move(x); },
               [&](caf::error& err) { id = std::move(err); });
    if (!id) {
      outcome = id.error();
    } else {
      if (opts.on_submitted) {
        auto jm = cluster.job_manager;
        auto jid = *id;
        local_job_control control;
        control.cancel
          = [jm, jid] { caf::anon_send(jm, cancel_atom::value, jid); };
        // Spawned here, not by whichever thread asks for the savepoint:
        // a thread that spawns holds on to the actor system's logger, and
        // the system's shutdown waits for that thread to let go.
        auto done = opts.on_savepoint;
        savepointer = sys.spawn([jm, jid, done](caf::event_based_actor* me) {
          return caf::behavior{
            [me, jm, jid, done](savepoint_atom, const std::string& dir) {
              me->request(jm, caf::infinite, savepoint_atom::value, jid, dir,
                          true)
                .then(
                  [done](std::string& path) {
                    if (done)
                      done(std::move(path));
                  },
                  [done](caf::error& err) {
                    if (done)
                      done(std::move(err));
                  });
            },
          };
        });
        control.stop_with_savepoint = [helper = savepointer](std::string dir) {
          caf::anon_send(helper, savepoint_atom::value, std::move(dir));
        };
        control.system = &sys;
        control.job_manager = cluster.job_manager;
        control.resource_manager = cluster.resource_manager;
        opts.on_submitted(*id, std::move(control));
      }
      self->request(cluster.job_manager, caf::infinite, wait_atom::value, *id)
        .receive([&](job_result& r) { outcome = std::move(r); },
                 [&](caf::error& err) { outcome = std::move(err); });
      if (outcome && opts.on_finished)
        self->request(cluster.job_manager, caf::infinite, info_atom::value, *id)
          .receive([&](job_info& info) { opts.on_finished(info); },
                   [&](caf::error&) {
                     // nop: the outcome stands without details
                   });
      if (opts.on_submitted && opts.on_stopping)
        opts.on_stopping();
    }
  }
  if (savepointer)
    caf::anon_send_exit(savepointer, caf::exit_reason::user_shutdown);
  savepointer = nullptr;
  cluster.shutdown();
  return outcome;
}

} // namespace weir
