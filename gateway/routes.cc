#include "gateway/routes.h"

#include <map>

#include "thingtank/queues/v1/queues.pb.h"
#include "thingtank/tables/v1/tables.pb.h"
#include "thingtank/wamp/v1/wamp.pb.h"

namespace thingtank::gateway {

std::vector<const google::protobuf::ServiceDescriptor*> ProtoServicesOf(const std::string& service) {
  // One proto file per service; every service it declares is routed.
  static const auto* kFiles = new std::map<std::string, const google::protobuf::FileDescriptor*>{
      {"queues", thingtank::queues::v1::CreateQueueRequest::descriptor()->file()},
      {"tables", thingtank::tables::v1::CreateTableRequest::descriptor()->file()},
      {"wamp", thingtank::wamp::v1::PublishRequest::descriptor()->file()},
  };
  std::vector<const google::protobuf::ServiceDescriptor*> out;
  auto it = kFiles->find(service);
  if (it == kFiles->end()) return out;
  for (int i = 0; i < it->second->service_count(); ++i) out.push_back(it->second->service(i));
  return out;
}

}  // namespace thingtank::gateway
