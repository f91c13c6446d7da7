#pragma once

// What a shared library of user operators exports. A job names the library
// in its descriptor (`library: "libmy_ops.so"`); every process that plans
// or runs the job loads it with dlopen and calls its entry point, which
// adds the library's operators to a registry:
//
//   caf::error register_my_operators(weir::operator_registry& reg) {
//     return reg.add(my_operator());
//   }
//   WEIR_OPERATOR_LIBRARY(register_my_operators)
//
// The library must be built against the same Weir headers as the nodes
// that load it (nodes refuse each other's versions for the same reason).

#include <string>

#include "api/error.hpp"
#include "api/registry.hpp"

/// The entry point's name, as dlsym looks it up.
#define WEIR_OPERATOR_LIBRARY_ENTRY "weir_register_operators"

/// Defines the entry point: calls `fn(registry)` (a function returning
/// caf::error) and hands back the error text, or null on success.
#define WEIR_OPERATOR_LIBRARY(fn)                                              \
  extern "C" const char* weir_register_operators(                              \
    weir::operator_registry* registry) {                                       \
    static thread_local std::string weir_library_error;                        \
    auto err = fn(*registry);                                                  \
    if (!err)                                                                  \
      return nullptr;                                                          \
    weir_library_error = weir::error_text(err);                                \
    return weir_library_error.c_str();                                         \
  }
