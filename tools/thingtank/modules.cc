#include "tools/thingtank/modules.h"

#include "thingtank/compute/v1/compute.pb.h"
#include "thingtank/objects/v1/objects.pb.h"
#include "thingtank/queues/v1/queues.pb.h"
#include "thingtank/streams/v1/streams.pb.h"
#include "thingtank/tables/v1/tables.pb.h"
#include "thingtank/wamp/v1/wamp.pb.h"
#include "tools/thingtank/cli/compute_cli.h"
#include "tools/thingtank/cli/objects_cli.h"
#include "tools/thingtank/cli/queues_cli.h"
#include "tools/thingtank/cli/streams_cli.h"
#include "tools/thingtank/cli/tables_cli.h"
#include "tools/thingtank/cli/wamp_cli.h"

namespace thingtank {

const serve::ServiceModules& Modules() {
  static const auto* kModules = new serve::ServiceModules{
      {"compute", compute::v1::RunInstancesRequest::descriptor()->file(), &serve::StartCompute,
       &cli::RunCompute,
       "compute commands (EC2, CloudWatch, Auto Scaling): run, describe, put-metric, put-alarm, "
       "create-group, ...",
       {
           {"compute", "compute-zones", "Z1,Z2", "availability zones (default us-east-1a..f)"},
           {"compute", "compute-hosts-per-zone", "N", "hosts per zone (default 4)"},
           {"compute", "compute-host-vcpus", "N", "vCPUs per host (default 96)"},
           {"compute", "compute-host-memory-mib", "N", "memory per host, MiB (default 786432)"},
           {"compute", "compute-launch-seconds", "S", "pending -> running, clock seconds (default 10)"},
           {"compute", "compute-stop-seconds", "S",
            "stopping -> stopped and shutting-down -> terminated, clock seconds (default 5)"},
           {"compute", "compute-images", "FILE",
            "enables the process driver: image id -> command line (services/compute/README.md)"},
       }},
      {"objects", objects::v1::CreateBucketRequest::descriptor()->file(), &serve::StartObjects,
       &cli::RunObjects,
       "object commands (S3): mb, ls, cp, rm, stat, cat, versioning, lifecycle, ..."},
      {"queues", queues::v1::CreateQueueRequest::descriptor()->file(), &serve::StartQueues,
       &cli::RunQueues, "queue commands (SQS): create, list, send, receive, delete, ..."},
      {"streams", streams::v1::CreateStreamRequest::descriptor()->file(), &serve::StartStreams,
       &cli::RunStreams, "stream commands (Kinesis): create, put, get, subscribe, split, merge, ...",
       {
           {"streams", "streams-limits", "on|off",
            "per-shard throughput limits (1 MiB/s, 1000 records/s in; 2 MiB/s, 5 reads/s out); default on"},
           {"streams", "streams-shard-limit", "N", "open shards over all streams (default 500)"},
           {"streams", "streams-transition-ms", "MS",
            "CREATING/UPDATING/DELETING last this long, clock milliseconds (default 200)"},
       }},
      {"tables", tables::v1::CreateTableRequest::descriptor()->file(), &serve::StartTables,
       &cli::RunTables,
       "table commands (DynamoDB): create, list, describe, put, get, query, scan, ..."},
      {"wamp", wamp::v1::PublishRequest::descriptor()->file(), &serve::StartWamp, &cli::RunWamp,
       "WAMP commands: publish, call, subscribe, rules (forwarding rules)",
       {
           {"wamp", "wamp-ws-port", "N", "WebSocket port, path /ws (default 8080; 0 picks one)"},
           {"wamp", "wamp-config", "FILE",
            "realms, roles, principals, rules (services/wamp/README.md)"},
           {"wamp", "gateway-address", "H:P",
            "where this process reaches the others without a gateway here (the wamp bridge; "
            "AWS/* metrics to compute; objects' event notifications)"},
           {"wamp", "api-key-id", "", "the bridge's API key for --gateway-address", true},
           {"wamp", "api-key-secret", "", "its secret", true},
       }},
  };
  return *kModules;
}

}  // namespace thingtank
