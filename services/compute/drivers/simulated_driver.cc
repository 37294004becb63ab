#include "services/compute/drivers/simulated_driver.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "services/compute/proto_time.h"
#include "services/common/status.h"

namespace thingtank::compute {
namespace {

absl::Status CheckPercent(double value, const std::string& field) {
  if (!std::isfinite(value) || value < 0 || value > 100) {
    return InvalidField(field, absl::StrCat("must be a percentage from 0 to 100, not ", value));
  }
  return absl::OkStatus();
}

}  // namespace

double LoadAt(const v1::LoadModel& load, absl::Time now) {
  double percent = 0;
  switch (load.model_case()) {
    case v1::LoadModel::kConstant:
      percent = load.constant().percent();
      break;
    case v1::LoadModel::kStep:
      percent = now < FromProto(load.step().at()) ? load.step().before_percent()
                                                  : load.step().after_percent();
      break;
    case v1::LoadModel::kSine: {
      double period = absl::ToDoubleSeconds(FromProto(load.sine().period()));
      if (period <= 0) break;
      double t = absl::ToDoubleSeconds(now - absl::UnixEpoch());
      percent = load.sine().mean_percent() +
                load.sine().amplitude_percent() * std::sin(2 * M_PI * std::fmod(t, period) / period);
      break;
    }
    case v1::LoadModel::kQueueDepth:
      percent = load.queue_depth().idle_percent();  // without a depth: idle
      break;
    case v1::LoadModel::MODEL_NOT_SET:
      break;
  }
  return std::clamp(percent, 0.0, 100.0);
}

double SimulatedDriver::CpuUtilization(const v1::Instance& instance, absl::Time now) {
  const v1::LoadModel& load = instance.load();
  if (load.model_case() != v1::LoadModel::kQueueDepth) return LoadAt(load, now);
  const v1::QueueDepthLoad& q = load.queue_depth();
  std::optional<double> depth;
  int sharing = 1;
  {
    absl::MutexLock lock(&mu_);
    if (depth_) depth = depth_(q.queue_name());
    auto it = sharing_.find(q.queue_name());
    if (it != sharing_.end()) sharing = std::max(1, it->second);
  }
  if (!depth) return LoadAt(load, now);
  return std::clamp(q.idle_percent() + q.percent_per_message() * *depth / sharing, 0.0, 100.0);
}

absl::Status ValidateLoad(const v1::LoadModel& load, const std::string& field) {
  switch (load.model_case()) {
    case v1::LoadModel::kConstant:
      return CheckPercent(load.constant().percent(), field + ".constant.percent");
    case v1::LoadModel::kStep:
      TT_RETURN_IF_ERROR(CheckPercent(load.step().before_percent(), field + ".step.before_percent"));
      TT_RETURN_IF_ERROR(CheckPercent(load.step().after_percent(), field + ".step.after_percent"));
      if (!load.step().has_at()) return InvalidField(field + ".step.at", "is required");
      return absl::OkStatus();
    case v1::LoadModel::kSine:
      TT_RETURN_IF_ERROR(CheckPercent(load.sine().mean_percent(), field + ".sine.mean_percent"));
      TT_RETURN_IF_ERROR(
          CheckPercent(load.sine().amplitude_percent(), field + ".sine.amplitude_percent"));
      if (load.sine().period().seconds() < 1) {
        return InvalidField(field + ".sine.period", "must be at least 1 s");
      }
      return absl::OkStatus();
    case v1::LoadModel::kQueueDepth: {
      const v1::QueueDepthLoad& q = load.queue_depth();
      if (q.queue_name().empty() || q.queue_name().size() > 80) {
        return InvalidField(field + ".queue_depth.queue_name", "must be 1 to 80 characters");
      }
      if (!(q.percent_per_message() > 0) || q.percent_per_message() > 100) {
        return InvalidField(field + ".queue_depth.percent_per_message", "must be above 0 and at most 100");
      }
      return CheckPercent(q.idle_percent(), field + ".queue_depth.idle_percent");
    }
    case v1::LoadModel::MODEL_NOT_SET:
      return InvalidField(field, "needs a model: constant, step, sine or queue_depth");
  }
  return absl::OkStatus();
}

}  // namespace thingtank::compute
