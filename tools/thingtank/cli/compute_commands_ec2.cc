// `thingtank compute` instance and launch template commands (ComputeService,
// Amazon EC2).

#include <optional>

#include "absl/strings/str_join.h"
#include "tools/thingtank/cli/compute_commands.h"
#include "tools/thingtank/cli/compute_format.h"

namespace thingtank::cli::compute {
namespace {

// Instance counts and similar flags are int32 and at most 11 characters long.
bool Int32Flag(const CallContext& c, const std::string& flag, std::optional<int32_t>* out,
               int* exit) {
  return IntFlag(c, flag, out, exit, 11);
}

// --count N, or --min-count/--max-count.
bool ReadCounts(const Ec2Context& c, v1::RunInstancesRequest* request, int* exit) {
  std::optional<int32_t> count;
  std::optional<int32_t> min;
  std::optional<int32_t> max;
  if (!Int32Flag(c, "count", &count, exit) || !Int32Flag(c, "min-count", &min, exit) ||
      !Int32Flag(c, "max-count", &max, exit)) {
    return false;
  }
  if (count && (min || max)) {
    *exit = c.UsageError("give --count or --min-count/--max-count, not both");
    return false;
  }
  if (count) min = max = count;
  if (min) request->set_min_count(*min);
  if (max) request->set_max_count(*max);
  return true;
}

// The instance ids of the positionals (start, stop, reboot, terminate).
template <typename Request>
Request IdsRequest(const Ec2Context& c) {
  Request request;
  AddPositionals(c, 0, request.mutable_instance_ids());
  return request;
}

// --name N or --id ID (one of them): the launch template a request is about.
// The dispatcher also puts the value of --id (the service's target flag)
// first among the positionals; any other positional is unexpected.
template <typename Request>
bool ReadTemplate(const Ec2Context& c, Request* request, int* exit) {
  const bool by_id = c.args.Has("id");
  const std::vector<std::string>& positional = c.args.positional();
  if (positional.size() > (by_id ? 1u : 0u)) {
    *exit = c.UsageError("unexpected argument \"" + positional.back() + "\"");
    return false;
  }
  if (by_id == c.args.Has("name")) {
    *exit = c.UsageError("give --name or --id (one of them)");
    return false;
  }
  request->set_launch_template_name(c.args.Get("name"));
  request->set_launch_template_id(c.args.Get("id"));
  return true;
}

// `value` of --`flag` as a launch template version into `*out`: a number,
// $Latest, or $Default when `default_allowed`.
bool VersionFlag(const CallContext& c, const std::string& flag, const std::string& value,
                 bool default_allowed, std::string* out, int* exit) {
  if (!IsLaunchTemplateVersion(value) || (!default_allowed && value == "$Default")) {
    *exit = c.UsageError("--" + flag + ": \"" + value + "\" is not " +
                         (default_allowed ? kLaunchTemplateVersionForms
                                          : "a version number or $Latest"));
    return false;
  }
  *out = value;
  return true;
}

// "web (lt-0123456789abcdef0)".
std::string TemplateText(const v1::LaunchTemplate& t) {
  return t.launch_template_name() + " (" + t.launch_template_id() + ")";
}

}  // namespace

int Run(const Ec2Context& c) {
  int exit = kExitOk;
  // From a launch template, what is not given here comes from its version.
  if (!c.args.Has("launch-template") &&
      (!RequireFlag(c, "image-id", &exit) || !RequireFlag(c, "instance-type", &exit))) {
    return exit;
  }
  v1::RunInstancesRequest request;
  request.set_availability_zone(c.args.Get("zone"));
  request.set_client_token(c.args.Get("client-token"));
  if (!ReadLaunchFlags(c, &request, &exit) || !ReadLaunchTemplate(c, &request, &exit) ||
      !ReadCounts(c, &request, &exit) || !ReadTags(c, request.mutable_tags(), &exit)) {
    return exit;
  }
  v1::RunInstancesResponse response;
  const grpc::Status status =
      c.stub.RunInstances(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) { PrintReservation(response, os); });
}

int Describe(const Ec2Context& c) {
  v1::DescribeInstancesRequest request;
  AddPositionals(c, 0, request.mutable_instance_ids());
  for (const std::string& text : c.args.GetAll("filter")) {
    std::string error;
    if (!ParseFilter(text, request.add_filters(), &error)) {
      return c.UsageError("--filter: " + error);
    }
  }
  int exit = kExitOk;
  if (c.args.Bool("watch") || c.args.Has("until-state")) {
    if (c.args.Has("max") || c.args.Has("next-token")) {
      return c.UsageError("--watch reads every page; --max and --next-token do not apply");
    }
    return WatchInstances(c, request);
  }
  int32_t max = 0;
  if (!ReadMax(c, &max, &exit)) return exit;
  request.set_max_results(max);
  request.set_next_token(c.args.Get("next-token"));
  v1::DescribeInstancesResponse response;
  const grpc::Status status =
      c.stub.DescribeInstances(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) { PrintInstances(response, os); });
}

int Start(const Ec2Context& c) {
  const auto request = IdsRequest<v1::StartInstancesRequest>(c);
  v1::StartInstancesResponse response;
  const grpc::Status status =
      c.stub.StartInstances(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response,
                [&](std::ostream& os) { PrintStateChanges(response.starting_instances(), os); });
}

int Stop(const Ec2Context& c) {
  auto request = IdsRequest<v1::StopInstancesRequest>(c);
  request.set_force(c.args.Bool("force"));
  v1::StopInstancesResponse response;
  const grpc::Status status =
      c.stub.StopInstances(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response,
                [&](std::ostream& os) { PrintStateChanges(response.stopping_instances(), os); });
}

int Reboot(const Ec2Context& c) {
  const auto request = IdsRequest<v1::RebootInstancesRequest>(c);
  v1::RebootInstancesResponse response;
  const grpc::Status status =
      c.stub.RebootInstances(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) {
    os << "rebooting " << absl::StrJoin(request.instance_ids(), " ") << "\n";
  });
}

int Terminate(const Ec2Context& c) {
  const auto request = IdsRequest<v1::TerminateInstancesRequest>(c);
  v1::TerminateInstancesResponse response;
  const grpc::Status status =
      c.stub.TerminateInstances(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response,
                [&](std::ostream& os) { PrintStateChanges(response.terminating_instances(), os); });
}

int SetLoad(const Ec2Context& c) {
  const bool group = c.args.Has("group");
  if (group == !c.args.positional().empty()) {
    return c.UsageError("give the instances as <instance-id>... or --group NAME (one of them)");
  }
  int exit = kExitOk;
  if (!RequireFlag(c, "load", &exit)) return exit;
  v1::SetInstanceLoadRequest request;
  AddPositionals(c, 0, request.mutable_instance_ids());
  request.set_auto_scaling_group_name(c.args.Get("group"));
  if (!ReadLoad(c, request.mutable_load(), &exit)) return exit;
  v1::SetInstanceLoadResponse response;
  const grpc::Status status =
      c.stub.SetInstanceLoad(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) {
    os << "load " << FormatLoadSpec(request.load()) << " set on "
       << (response.instance_ids().empty() ? "no instances"
                                           : absl::StrJoin(response.instance_ids(), " "));
    if (group) os << " (and later instances of group " << request.auto_scaling_group_name() << ")";
    os << "\n";
  });
}

int Types(const Ec2Context& c) {
  v1::DescribeInstanceTypesRequest request;
  AddPositionals(c, 0, request.mutable_instance_types());
  v1::DescribeInstanceTypesResponse response;
  const grpc::Status status =
      c.stub.DescribeInstanceTypes(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) { PrintInstanceTypes(response, os); });
}

int Zones(const Ec2Context& c) {
  v1::DescribeAvailabilityZonesRequest request;
  v1::DescribeAvailabilityZonesResponse response;
  const grpc::Status status =
      c.stub.DescribeAvailabilityZones(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) { PrintZones(response, os); });
}

int Hosts(const Ec2Context& c) {
  v1::DescribeHostsRequest request;
  request.set_availability_zone(c.args.Get("zone"));
  v1::DescribeHostsResponse response;
  const grpc::Status status =
      c.stub.DescribeHosts(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) { PrintHosts(response, os); });
}

int CreateLaunchTemplate(const Ec2Context& c) {
  int exit = kExitOk;
  if (!RequireFlag(c, "name", &exit)) return exit;
  v1::CreateLaunchTemplateRequest request;
  request.set_launch_template_name(c.args.Get("name"));
  request.set_version_description(c.args.Get("version-description"));
  v1::LaunchTemplateData* data = request.mutable_launch_template_data();
  if (!ReadLaunchFlags(c, data, &exit) || !ReadTags(c, data->mutable_tags(), &exit)) return exit;
  v1::CreateLaunchTemplateResponse response;
  const grpc::Status status =
      c.stub.CreateLaunchTemplate(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) {
    os << "created launch template " << TemplateText(response.launch_template()) << " version "
       << response.launch_template().latest_version_number() << "\n";
  });
}

int CreateLaunchTemplateVersion(const Ec2Context& c) {
  int exit = kExitOk;
  v1::CreateLaunchTemplateVersionRequest request;
  if (!ReadTemplate(c, &request, &exit)) return exit;
  if (c.args.Has("source-version") &&
      !VersionFlag(c, "source-version", c.args.Get("source-version"), true,
                   request.mutable_source_version(), &exit)) {
    return exit;
  }
  request.set_version_description(c.args.Get("version-description"));
  v1::LaunchTemplateData* data = request.mutable_launch_template_data();
  if (!ReadLaunchFlags(c, data, &exit) || !ReadTags(c, data->mutable_tags(), &exit)) return exit;
  v1::CreateLaunchTemplateVersionResponse response;
  const grpc::Status status =
      c.stub.CreateLaunchTemplateVersion(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) {
    const v1::LaunchTemplateVersion& v = response.launch_template_version();
    os << "created version " << v.version_number() << " of launch template "
       << v.launch_template_name() << " (" << v.launch_template_id() << ")\n";
  });
}

int DescribeLaunchTemplates(const Ec2Context& c) {
  v1::DescribeLaunchTemplatesRequest request;
  AddPositionals(c, 0, request.mutable_launch_template_names());
  v1::DescribeLaunchTemplatesResponse response;
  const grpc::Status status =
      c.stub.DescribeLaunchTemplates(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) { PrintLaunchTemplates(response, os); });
}

int DescribeLaunchTemplateVersions(const Ec2Context& c) {
  int exit = kExitOk;
  v1::DescribeLaunchTemplateVersionsRequest request;
  if (!ReadTemplate(c, &request, &exit)) return exit;
  for (const std::string& version : SplitList(c.args.GetAll("version"))) {
    if (!VersionFlag(c, "version", version, true, request.add_versions(), &exit)) return exit;
  }
  v1::DescribeLaunchTemplateVersionsResponse response;
  const grpc::Status status =
      c.stub.DescribeLaunchTemplateVersions(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response,
                [&](std::ostream& os) { PrintLaunchTemplateVersions(response, os); });
}

int ModifyLaunchTemplate(const Ec2Context& c) {
  int exit = kExitOk;
  v1::ModifyLaunchTemplateRequest request;
  if (!ReadTemplate(c, &request, &exit) || !RequireFlag(c, "default-version", &exit) ||
      !VersionFlag(c, "default-version", c.args.Get("default-version"), false,
                   request.mutable_default_version(), &exit)) {
    return exit;
  }
  v1::ModifyLaunchTemplateResponse response;
  const grpc::Status status =
      c.stub.ModifyLaunchTemplate(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) {
    os << "default version of launch template " << TemplateText(response.launch_template())
       << " set to " << response.launch_template().default_version_number() << "\n";
  });
}

int DeleteLaunchTemplate(const Ec2Context& c) {
  int exit = kExitOk;
  v1::DeleteLaunchTemplateRequest request;
  if (!ReadTemplate(c, &request, &exit)) return exit;
  v1::DeleteLaunchTemplateResponse response;
  const grpc::Status status =
      c.stub.DeleteLaunchTemplate(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) {
    os << "deleted launch template " << TemplateText(response.launch_template()) << "\n";
  });
}

}  // namespace thingtank::cli::compute
