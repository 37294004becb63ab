// `thingtank compute` instance commands (ComputeService, Amazon EC2).

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

}  // namespace

int Run(const Ec2Context& c) {
  int exit = kExitOk;
  if (!RequireFlag(c, "image-id", &exit) || !RequireFlag(c, "instance-type", &exit)) return exit;
  v1::RunInstancesRequest request;
  request.set_image_id(c.args.Get("image-id"));
  request.set_instance_type(c.args.Get("instance-type"));
  request.set_key_name(c.args.Get("key-name"));
  for (const std::string& group : c.args.GetAll("security-group")) {
    request.add_security_groups(group);
  }
  request.set_availability_zone(c.args.Get("zone"));
  request.set_client_token(c.args.Get("client-token"));
  v1::Driver driver = v1::DRIVER_UNSPECIFIED;
  if (!ReadCounts(c, &request, &exit) || !ReadUserData(c, request.mutable_user_data(), &exit) ||
      !ReadTags(c, request.mutable_tags(), &exit) || !ReadDriver(c, &driver, &exit) ||
      !ReadLoad(c, request.mutable_load(), &exit)) {
    return exit;
  }
  request.set_driver(driver);
  if (!c.args.Has("load")) request.clear_load();
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

}  // namespace thingtank::cli::compute
