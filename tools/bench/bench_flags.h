// The flag loop of the benchmarks that take some flags of their own before
// load.h's ParseArgs and name running gateways with --mono/--micro
// (objects_bench, streams_bench).

#pragma once

#include <map>
#include <string>
#include <vector>

namespace thingtank::bench {

// Takes `program`'s own flags out of argv and returns the rest (argv[0]
// first) for ParseArgs: each of `switches` sets its bool, each of `valued`
// takes a value as `--x V` or `--x=V`. --endpoint is refused (use --mono or
// --micro). On a bad flag, a message on stderr and *ok false.
std::vector<char*> TakeOwnFlags(const char* program, int argc, char** argv,
                                const std::map<std::string, bool*>& switches,
                                const std::map<std::string, std::string*>& valued, bool* ok);

}  // namespace thingtank::bench
