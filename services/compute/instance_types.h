#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace thingtank::compute {

// One EC2 instance type of the catalog: what placement reserves on a host.
struct InstanceType {
  std::string name;  // "t2.micro"
  int32_t vcpus = 0;
  int64_t memory_mib = 0;
  bool burstable = false;
  bool current_generation = true;
};

// The catalog: EC2's t1, t2, t3, m5, c5 and r5 families with their default
// vCPUs and memory as EC2 lists them, in name order.
const std::vector<InstanceType>& InstanceTypes();
// The type named `name`, or null.
const InstanceType* FindInstanceType(std::string_view name);

}  // namespace thingtank::compute
