#include "services/compute/instance_types.h"

#include <algorithm>

namespace thingtank::compute {
namespace {

std::vector<InstanceType> MakeCatalog() {
  std::vector<InstanceType> types = {
      // Previous generation, as the classic programs use it.
      {"t1.micro", 1, 627, true, false},
      {"t2.nano", 1, 512, true},     {"t2.micro", 1, 1024, true},   {"t2.small", 1, 2048, true},
      {"t2.medium", 2, 4096, true},  {"t2.large", 2, 8192, true},   {"t2.xlarge", 4, 16384, true},
      {"t2.2xlarge", 8, 32768, true},
      {"t3.nano", 2, 512, true},     {"t3.micro", 2, 1024, true},   {"t3.small", 2, 2048, true},
      {"t3.medium", 2, 4096, true},  {"t3.large", 2, 8192, true},   {"t3.xlarge", 4, 16384, true},
      {"t3.2xlarge", 8, 32768, true},
      {"m5.large", 2, 8192},         {"m5.xlarge", 4, 16384},       {"m5.2xlarge", 8, 32768},
      {"m5.4xlarge", 16, 65536},     {"m5.8xlarge", 32, 131072},    {"m5.12xlarge", 48, 196608},
      {"m5.16xlarge", 64, 262144},   {"m5.24xlarge", 96, 393216},
      {"c5.large", 2, 4096},         {"c5.xlarge", 4, 8192},        {"c5.2xlarge", 8, 16384},
      {"c5.4xlarge", 16, 32768},     {"c5.9xlarge", 36, 73728},     {"c5.12xlarge", 48, 98304},
      {"c5.18xlarge", 72, 147456},   {"c5.24xlarge", 96, 196608},
      {"r5.large", 2, 16384},        {"r5.xlarge", 4, 32768},       {"r5.2xlarge", 8, 65536},
      {"r5.4xlarge", 16, 131072},    {"r5.8xlarge", 32, 262144},    {"r5.12xlarge", 48, 393216},
      {"r5.16xlarge", 64, 524288},   {"r5.24xlarge", 96, 786432},
  };
  std::sort(types.begin(), types.end(),
            [](const InstanceType& a, const InstanceType& b) { return a.name < b.name; });
  return types;
}

}  // namespace

const std::vector<InstanceType>& InstanceTypes() {
  static const auto* kTypes = new std::vector<InstanceType>(MakeCatalog());
  return *kTypes;
}

const InstanceType* FindInstanceType(std::string_view name) {
  const auto& types = InstanceTypes();
  auto it = std::lower_bound(types.begin(), types.end(), name,
                             [](const InstanceType& t, std::string_view n) { return t.name < n; });
  return it != types.end() && it->name == name ? &*it : nullptr;
}

}  // namespace thingtank::compute
