// The `thingtank` binary: `thingtank serve` runs services; every other command
// is a client of a running ThingTank. The services come from Modules().
#include <iomanip>
#include <iostream>
#include <string>
#include <vector>

#include "tools/thingtank/modules.h"
#include "tools/thingtank/serve/serve.h"

// jemalloc's settings (read at start; unused without jemalloc, as under the
// sanitizers): a background thread returns freed pages to the OS after 1 s
// instead of jemalloc's default 10 s of decay, so streaming 1 MiB messages
// through the gateway does not hold a peak of freed memory (objects' 1 GiB
// memory test: gateway peaks 115-259 MiB with the default, 85-147 with this).
extern "C" {
const char* malloc_conf = "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0";
}

namespace {

void Usage(std::ostream& os) {
  os << "usage: thingtank <command> [args]\n\n"
        "  serve        run ThingTank (all services and the gateway; see thingtank serve --help)\n";
  for (const auto& module : thingtank::Modules()) {
    if (module.cli == nullptr) continue;
    os << "  " << std::left << std::setw(13) << (module.name + " ...") << module.cli_summary << "\n";
  }
  os << "  version      print the version\n\n"
        "Client commands talk to --endpoint (default localhost:50051, or THINGTANK_ENDPOINT).\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    Usage(args.empty() ? std::cerr : std::cout);
    return args.empty() ? 2 : 0;
  }
  const std::string command = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (command == "serve") return thingtank::serve::RunServe(rest, thingtank::Modules());
  for (const auto& module : thingtank::Modules()) {
    if (command == module.name && module.cli != nullptr) return module.cli(rest);
  }
  if (command == "version" || command == "--version") {
    std::cout << "thingtank " << THINGTANK_VERSION << "\n";
    return 0;
  }
  std::cerr << "thingtank: unknown command \"" << command << "\"\n\n";
  Usage(std::cerr);
  return 2;
}
