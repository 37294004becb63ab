#include "cpu_sampler.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>

namespace thingtank::bench {

void CpuSampler::Begin() {
  before_ = Snap();
  t0_ = Clock::now();
}

void CpuSampler::End(const std::string& label) {
  const auto after = Snap();
  Acc& acc = acc_[label];
  acc.seconds += std::chrono::duration<double>(Clock::now() - t0_).count();
  for (const auto& [tid, v] : after) {
    auto b = before_.find(tid);
    acc.ticks[v.first] += v.second - (b != before_.end() ? b->second.second : 0);
  }
}

const CpuSampler::Acc* CpuSampler::Find(const std::string& label) const {
  auto it = acc_.find(label);
  if (it == acc_.end() || it->second.seconds < 0.1) return nullptr;
  return &it->second;
}

double CpuSampler::TicksPerSecond() { return static_cast<double>(sysconf(_SC_CLK_TCK)); }

std::map<std::string, long> CpuSampler::PerProcess(const Acc& acc) {
  std::map<std::string, long> per_proc;
  for (const auto& [name, ticks] : acc.ticks) per_proc[name.substr(0, name.find(':'))] += ticks;
  return per_proc;
}

void CpuSampler::PrintThreads(const Acc& acc, int most) {
  const double hz = TicksPerSecond();
  std::vector<std::pair<long, std::string>> rows;
  for (const auto& [name, ticks] : acc.ticks) rows.emplace_back(ticks, name);
  std::sort(rows.rbegin(), rows.rend());
  int shown = 0;
  for (const auto& [ticks, name] : rows) {
    const double pct = 100.0 * static_cast<double>(ticks) / hz / acc.seconds;
    if (pct < 3 || ++shown > most) break;
    std::printf("      %-40s %6.1f %%\n", name.c_str(), pct);
  }
  std::fflush(stdout);
}

CpuSampler::Snapshot CpuSampler::Snap() const {
  Snapshot out;
  for (const auto& [name, pid] : procs_) {
    const std::string dir = "/proc/" + std::to_string(pid) + "/task";
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) continue;
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] == '.') continue;
      std::ifstream in(dir + "/" + e->d_name + "/stat");
      std::string st((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      const size_t open = st.find('('), close = st.rfind(')');
      if (open == std::string::npos || close == std::string::npos) continue;
      std::istringstream rest(st.substr(close + 2));
      std::vector<std::string> f((std::istream_iterator<std::string>(rest)), std::istream_iterator<std::string>());
      if (f.size() < 13) continue;
      out[{pid, e->d_name}] = {name + ":" + st.substr(open + 1, close - open - 1),
                               std::atol(f[11].c_str()) + std::atol(f[12].c_str())};
    }
    closedir(d);
  }
  return out;
}

}  // namespace thingtank::bench
