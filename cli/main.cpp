#include <csignal>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
  // A peer closing a socket mid-write (a REST server refusing a body, a
  // node going down) is an error to handle, not a reason to die.
  std::signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> args(argv + 1, argv + argc);
  return weir::cli::main(args, std::cout, std::cerr);
}
