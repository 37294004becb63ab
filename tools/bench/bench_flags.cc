#include "bench_flags.h"

#include <iostream>

namespace thingtank::bench {

std::vector<char*> TakeOwnFlags(const char* program, int argc, char** argv,
                                const std::map<std::string, bool*>& switches,
                                const std::map<std::string, std::string*>& valued, bool* ok) {
  std::vector<char*> rest = {argv[0]};
  *ok = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (auto s = switches.find(a); s != switches.end()) {
      *s->second = true;
      continue;
    }
    if (a == "--endpoint" || a.rfind("--endpoint=", 0) == 0) {
      std::cerr << program << ": use --mono HOST:PORT or --micro HOST:PORT (the gateway of that mode)\n";
      *ok = false;
      return rest;
    }
    bool taken = false;
    for (const auto& [flag, into] : valued) {
      if (a == flag) {
        if (i + 1 >= argc) {
          std::cerr << program << ": " << flag << " needs a value\n";
          *ok = false;
          return rest;
        }
        *into = argv[++i];
        taken = true;
        break;
      }
      if (a.rfind(flag + "=", 0) == 0) {
        *into = a.substr(flag.size() + 1);
        taken = true;
        break;
      }
    }
    if (!taken) rest.push_back(argv[i]);
  }
  return rest;
}

}  // namespace thingtank::bench
