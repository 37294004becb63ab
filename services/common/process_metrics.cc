#include "services/common/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_split.h"

namespace thingtank {
namespace {

prometheus::MetricFamily One(const char* name, const char* help, prometheus::MetricType type,
                             double value) {
  prometheus::MetricFamily family;
  family.name = name;
  family.help = help;
  family.type = type;
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(std::move(metric));
  return family;
}

// The fields of /proc/self/stat after the command name (field 3 on).
std::vector<std::string> StatFields() {
  std::ifstream in("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = text.rfind(')');  // the command may hold spaces
  if (close == std::string::npos) return {};
  return absl::StrSplit(text.substr(close + 2), ' ', absl::SkipEmpty());
}

double BootTimeSeconds() {
  std::ifstream in("/proc/stat");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("btime ", 0) == 0) return std::stod(line.substr(6));
  }
  return 0;
}

int OpenFds() {
  int n = 0;
  if (DIR* dir = opendir("/proc/self/fd")) {
    while (readdir(dir) != nullptr) ++n;
    closedir(dir);
    n -= 3;  // ".", ".." and the directory itself
  }
  return n;
}

}  // namespace

ProcessMetrics::ProcessMetrics(std::string version, std::string services)
    : version_(std::move(version)), services_(std::move(services)) {
  const std::vector<std::string> f = StatFields();
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  // Field 22 (starttime, clock ticks after boot) is index 19 here.
  if (f.size() > 19 && ticks > 0) start_time_seconds_ = BootTimeSeconds() + std::stod(f[19]) / ticks;
}

std::vector<prometheus::MetricFamily> ProcessMetrics::Collect() const {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> out;
  const std::vector<std::string> f = StatFields();
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  if (f.size() > 21 && ticks > 0) {
    // utime, stime (fields 14, 15); vsize, rss (23, 24).
    out.push_back(One("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                      MetricType::Counter, (std::stod(f[11]) + std::stod(f[12])) / ticks));
    out.push_back(One("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                      MetricType::Gauge, std::stod(f[20])));
    out.push_back(One("process_resident_memory_bytes", "Resident memory size in bytes.",
                      MetricType::Gauge, std::stod(f[21]) * static_cast<double>(sysconf(_SC_PAGESIZE))));
  }
  out.push_back(One("process_start_time_seconds",
                    "Start time of the process since unix epoch in seconds.", MetricType::Gauge,
                    start_time_seconds_));
  out.push_back(One("process_open_fds", "Number of open file descriptors.", MetricType::Gauge,
                    OpenFds()));
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    out.push_back(One("process_max_fds", "Maximum number of open file descriptors.",
                      MetricType::Gauge, static_cast<double>(limit.rlim_cur)));
  }
  prometheus::MetricFamily build = One("thingtank_build_info",
                                       "ThingTank build: version and the services this process runs; always 1.",
                                       MetricType::Gauge, 1);
  build.metric[0].label = {{"version", version_}, {"services", services_}};
  out.push_back(std::move(build));
  return out;
}

}  // namespace thingtank
