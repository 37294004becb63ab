// A `thingtank serve` child process for the benchmarks that start their own
// servers (objects_bench, compute_bench): forked on free ports with its own
// temp data dir, ready once its port appears in <data-dir>/ports.json, and
// stopped by pid (SIGTERM, SIGKILL after 10 s) with the dir removed on
// destruction (kept with KEEP_TMP set). tools/bench/lib.sh's start_server and
// port_of do the same for the shell scripts.

#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

namespace thingtank::bench {

class ServeChild {
 public:
  // Runs `binary serve --data-dir <tmp>/data FLAGS...` (output to
  // <tmp>/server.log; <tmp> is /tmp/<program with '-' for '_'>.XXXXXX) and
  // waits up to 30 s for `port_key` in its ports.json. `program` prefixes the
  // messages on stderr; `name` (may be empty) tells several servers apart in
  // them. Null (after a message with the server's log) if it does not come up.
  static std::unique_ptr<ServeChild> Start(const std::string& program, const std::string& binary,
                                           const std::string& name, const std::vector<std::string>& flags,
                                           const std::string& port_key);
  ~ServeChild();
  ServeChild(const ServeChild&) = delete;
  ServeChild& operator=(const ServeChild&) = delete;

  int pid() const { return pid_; }
  int port() const { return port_; }
  const std::string& name() const { return name_; }
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  ServeChild(std::string program, std::string name, std::string dir)
      : program_(std::move(program)), name_(std::move(name)), dir_(std::move(dir)) {}

  bool WaitForPort(const std::string& key);
  std::string Log() const;

  const std::string program_;
  const std::string name_;
  const std::string dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// The `thingtank` binary of the build tree this benchmark was built in:
// build/<preset>/tools/bench/<bench> -> build/<preset>/tools/thingtank/thingtank.
std::string DefaultThingtank(const char* argv0);

}  // namespace thingtank::bench
