// The flags several `thingtank compute` commands share (declared in
// compute_commands.h).

#include "tools/thingtank/cli/compute_commands.h"

#include <limits>

namespace thingtank::cli::compute {

std::vector<FlagSpec> LaunchFlags(const std::string& required) {
  return {
      {"image-id", "AMI", "the image, e.g. ami-d0f89fb9" + required},
      {"instance-type", "TYPE", "e.g. t1.micro; see `thingtank compute types`" + required},
      {"key-name", "NAME", "key pair name"},
      {"security-group", "NAME", "security group (default: default)", true},
      {"user-data", "TEXT", "user data (up to 16 KiB)"},
      {"user-data-file", "PATH", "user data from a file"},
      {"driver", "DRIVER",
       "what runs the instances: " + AcceptedNames(DriverNames()) + " (default simulated)"},
      LoadFlag(),
  };
}

FlagSpec LoadFlag() {
  return {"load", "SPEC",
          "simulated CPU load: constant:PERCENT, step:BEFORE,AFTER,TIME, "
          "sine:MEAN,AMPLITUDE,PERIOD (e.g. sine:50,40,10m) or queue:NAME,PERCENT_PER_MESSAGE[,IDLE]"};
}

FlagSpec LaunchTemplateFlag(const std::string& what) {
  return {"launch-template", "NAME[:VERSION]",
          what + "; a template name (or id) and version: a number, $Latest or $Default "
                 "(default), e.g. 'web:$Latest'"};
}

FlagSpec TagFlag() { return {"tag", "KEY=VALUE", "a tag", true}; }

FlagSpec DimensionFlag(bool optional_value) {
  if (optional_value) {
    return {"dimension", "NAME[=VALUE]", "only metrics with this dimension (and value)", true};
  }
  return {"dimension", "NAME=VALUE", "a dimension of the metric", true};
}

std::vector<FlagSpec> PagingFlags(const std::string& what) {
  return {{"max", "N", "at most N " + what + " in this page"},
          {"next-token", "TOKEN", "continue a previous listing"}};
}

bool RequireFlag(const CallContext& c, const std::string& flag, int* exit) {
  if (c.args.Has(flag)) return true;
  *exit = c.UsageError("missing --" + flag);
  return false;
}

bool DoubleFlag(const CallContext& c, const std::string& flag, std::optional<double>* out,
                int* exit) {
  if (!c.args.Has(flag)) return true;
  double value = 0;
  if (!ParseDouble(c.args.Get(flag), &value)) {
    *exit = c.UsageError("--" + flag + ": \"" + c.args.Get(flag) + "\" is not a number");
    return false;
  }
  *out = value;
  return true;
}

bool SecondsFlag(const CallContext& c, const std::string& flag, std::optional<int32_t>* out,
                 int* exit) {
  if (!c.args.Has(flag)) return true;
  const std::optional<absl::Duration> duration = ParseDurationArg(c.args.Get(flag));
  if (!duration || *duration % absl::Seconds(1) != absl::ZeroDuration() ||
      *duration > absl::Seconds(std::numeric_limits<int32_t>::max())) {
    *exit = c.UsageError("--" + flag + ": \"" + c.args.Get(flag) +
                         "\" is not a whole number of seconds (e.g. 300, 5m)");
    return false;
  }
  *out = static_cast<int32_t>(absl::ToInt64Seconds(*duration));
  return true;
}

bool TimeFlag(const CallContext& c, const std::string& flag, google::protobuf::Timestamp* out,
              int* exit) {
  if (!c.args.Has(flag)) return true;
  absl::Time time;
  std::string error;
  // The CLI's clock is the local one: the server may run faster (--time-scale).
  if (!ParseTime(c.args.Get(flag), absl::Now(), &time, &error)) {
    *exit = c.UsageError("--" + flag + ": " + error);
    return false;
  }
  SetTimestamp(time, out);
  return true;
}

bool ReadLoad(const CallContext& c, v1::LoadModel* out, int* exit) {
  if (!c.args.Has("load")) return true;
  std::string error;
  if (!ParseLoadSpec(c.args.Get("load"), absl::Now(), out, &error)) {
    *exit = c.UsageError("--load: " + error);
    return false;
  }
  return true;
}

bool ReadDriver(const CallContext& c, v1::Driver* out, int* exit) {
  return EnumFlag(c, "driver", DriverNames(), out, exit);
}

bool ReadUserData(const CallContext& c, std::string* out, int* exit) {
  if (c.args.Has("user-data") && c.args.Has("user-data-file")) {
    *exit = c.UsageError("give --user-data or --user-data-file, not both");
    return false;
  }
  if (c.args.Has("user-data")) *out = c.args.Get("user-data");
  if (c.args.Has("user-data-file") && !ReadFile(c.args.Get("user-data-file"), out)) {
    *exit = ReportLocalError("cannot read --user-data-file " + c.args.Get("user-data-file"),
                             c.json(), c.io);
    return false;
  }
  return true;
}

bool ReadTags(const CallContext& c, google::protobuf::RepeatedPtrField<v1::Tag>* out, int* exit) {
  for (const std::string& text : c.args.GetAll("tag")) {
    v1::Tag tag;
    if (!ParseKeyValue(text, true, tag.mutable_key(), tag.mutable_value())) {
      *exit = c.UsageError("--tag: \"" + text + "\" is not KEY=VALUE");
      return false;
    }
    *out->Add() = std::move(tag);
  }
  return true;
}

bool ReadDimensions(const CallContext& c, const std::string& flag,
                    google::protobuf::RepeatedPtrField<v1::Dimension>* out, int* exit) {
  for (const std::string& text : c.args.GetAll(flag)) {
    v1::Dimension dimension;
    if (!ParseKeyValue(text, false, dimension.mutable_name(), dimension.mutable_value()) ||
        dimension.value().empty()) {
      *exit = c.UsageError("--" + flag + ": \"" + text + "\" is not NAME=VALUE");
      return false;
    }
    *out->Add() = std::move(dimension);
  }
  return true;
}

bool ReadMax(const CallContext& c, int32_t* out, int* exit) {
  std::optional<int32_t> max;
  if (!IntFlag(c, "max", &max, exit, 11)) return false;
  if (!max) return true;
  if (*max < 1) {
    *exit = c.UsageError("--max: must be at least 1");
    return false;
  }
  *out = *max;
  return true;
}

void AddAll(const CallContext& c, const std::string& flag,
            google::protobuf::RepeatedPtrField<std::string>* out) {
  for (std::string& value : SplitList(c.args.GetAll(flag))) *out->Add() = std::move(value);
}

void AddPositionals(const CallContext& c, size_t from,
                    google::protobuf::RepeatedPtrField<std::string>* out) {
  const std::vector<std::string>& positional = c.args.positional();
  for (size_t i = from; i < positional.size(); ++i) *out->Add() = positional[i];
}

}  // namespace thingtank::cli::compute
