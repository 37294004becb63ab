// The figures of one wamp_bench scenario and how they are measured and shown:
// latency percentiles, CPU over the measured window (server, bench, the rest),
// a process's RSS, and the result as JSON or one line of text.
#pragma once

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "wamp_client.h"

namespace thingtank::bench::wamp {

using Json = nlohmann::json;

// One scenario's figures.
struct Result {
  std::string scenario;
  std::string metric;  // e.g. deliveries_per_s
  double value = 0;
  double seconds = 0;  // measured window
  uint64_t count = 0;  // deliveries / events / calls in the window (sessions for idle)
  double p50_us = NAN, p99_us = NAN, p999_us = NAN, max_us = NAN;
  uint64_t errors = 0;
  std::string first_error;
  Json extra = Json::object();
};

// Fills the p50/p99/p99.9/max of `r` from latencies in nanoseconds.
void Percentiles(std::vector<int64_t> ns, Result* r);

// CPU over a measured window: the server's (--server-pid), this process's and
// everything else on the machine (from /proc/stat), so a busy machine shows.
class CpuWindow {
 public:
  // Prints "measuring SCENARIO" (run_wamp_bench.sh profiles from there).
  CpuWindow(int server_pid, std::string scenario) : scenario_(std::move(scenario)), server_(server_pid) {
    std::cerr << "measuring " << scenario_ << std::endl;
    start_ = Take();
  }
  // Prints "measured SCENARIO" and adds *_cpu_cores to r->extra.
  void End(Result* r) {
    const Sample end = Take();
    std::cerr << "measured " << scenario_ << std::endl;
    const double dt = std::chrono::duration<double>(end.at - start_.at).count();
    if (dt <= 0) return;
    const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
    const double self = (end.self_s - start_.self_s) / dt;
    const double busy = static_cast<double>(end.busy_ticks - start_.busy_ticks) / hz / dt;
    double server = 0;
    if (server_ > 0 && start_.server_ticks >= 0 && end.server_ticks >= 0) {
      server = static_cast<double>(end.server_ticks - start_.server_ticks) / hz / dt;
      r->extra["server_cpu_cores"] = server;
    }
    r->extra["bench_cpu_cores"] = self;
    r->extra["other_cpu_cores"] = std::max(0.0, busy - server - self);
    // Interrupt time is charged to no process: mostly the loopback TCP traffic itself.
    r->extra["irq_cpu_cores"] = static_cast<double>(end.irq_ticks - start_.irq_ticks) / hz / dt;
  }

 private:
  struct Sample {
    Clock::time_point at;
    double self_s = 0;
    long long server_ticks = -1, busy_ticks = 0, irq_ticks = 0;
  };
  Sample Take() const {
    Sample s;
    s.at = Clock::now();
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    s.self_s = static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
    if (server_ > 0) {
      std::ifstream in("/proc/" + std::to_string(server_) + "/stat");
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      const size_t paren = text.rfind(')');
      if (paren != std::string::npos) {
        std::istringstream fields(text.substr(paren + 2));
        std::string f;
        long long utime = 0, stime = 0;
        for (int i = 1; i <= 13 && fields >> f; ++i) {
          if (i == 12) utime = std::atoll(f.c_str());
          if (i == 13) stime = std::atoll(f.c_str());
        }
        s.server_ticks = utime + stime;
      }
    }
    std::ifstream stat("/proc/stat");
    std::string cpu;
    long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
    if (stat >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal) {
      s.busy_ticks = user + nice + system + steal;
      s.irq_ticks = irq + softirq;
    }
    return s;
  }

  const std::string scenario_;
  const int server_;
  Sample start_;
};

// VmRSS of `pid` ("self" works too) in KiB; -1 when unreadable.
long RssKb(const std::string& pid);

Json ToJson(const Result& r);
// One line on stdout.
void Print(const Result& r);

}  // namespace thingtank::bench::wamp
