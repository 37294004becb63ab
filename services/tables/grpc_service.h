#pragma once

#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "grpcpp/support/byte_buffer.h"
#include "services/common/grpc_adapter.h"
#include "services/tables/table_service.h"
#include "thingtank/tables/v1/tables.grpc.pb.h"

namespace thingtank::tables {

// The gRPC face of the tables domain: each handler hands its request to the
// domain on the service's executor (via UnaryRunner), or first tries the
// domain's non-blocking variant on the reactor thread (item reads and
// writes, Query), and finishes with the domain's answer. Nothing else happens
// here. Does not own its dependencies.
// Query and Scan responses are assembled from stored item bytes without
// parsing (TableService::QueryEncoded).
class TablesGrpcService final : public GrpcAdapter<v1::TablesService::CallbackService> {
 public:
  TablesGrpcService(TableService* domain, UnaryRunner* runner)
      : GrpcAdapter(v1::TablesService::service_full_name(), runner) {
#define TT_TABLES_UNARY(Method) \
  Unary<v1::Method##Request>(#Method, [domain](const v1::Method##Request& r) { return domain->Method(r); })
    TT_TABLES_UNARY(CreateTable);
    TT_TABLES_UNARY(DescribeTable);
    TT_TABLES_UNARY(ListTables);
    TT_TABLES_UNARY(UpdateTable);
    TT_TABLES_UNARY(DeleteTable);
    TT_TABLES_UNARY(UpdateTimeToLive);
    TT_TABLES_UNARY(DescribeTimeToLive);
    TT_TABLES_UNARY(BatchGetItem);
    TT_TABLES_UNARY(BatchWriteItem);
    TT_TABLES_UNARY(TransactWriteItems);
    TT_TABLES_UNARY(TransactGetItems);
#undef TT_TABLES_UNARY

    // Item reads and writes, usually served from memory: answered on the
    // reactor thread when the (old) item is in the memtable or block cache,
    // the table's write lock is free and RocksDB would not stall; on the
    // executor otherwise.
#define TT_TABLES_NON_BLOCKING_FIRST(Method)                                                 \
  UnaryNonBlockingFirst<v1::Method##Request>(                                                \
      #Method, [domain](const v1::Method##Request& r) { return domain->Method##NonBlocking(r); }, \
      [domain](const v1::Method##Request& r) { return domain->Method(r); })
    TT_TABLES_NON_BLOCKING_FIRST(GetItem);
    TT_TABLES_NON_BLOCKING_FIRST(PutItem);
    TT_TABLES_NON_BLOCKING_FIRST(DeleteItem);
    TT_TABLES_NON_BLOCKING_FIRST(UpdateItem);
#undef TT_TABLES_NON_BLOCKING_FIRST

    // Usually served from memory: on the reactor thread when it can be.
    UnaryNonBlockingFirst<v1::QueryRequest>(
        "Query",
        [domain](const v1::QueryRequest& r) { return Bytes(domain->QueryEncoded(r, true)); },
        [domain](const v1::QueryRequest& r) { return Bytes(domain->QueryEncoded(r, false)); });
    // Up to 1 MiB from anywhere in the table: always on the executor.
    Unary<v1::ScanRequest>("Scan",
                           [domain](const v1::ScanRequest& r) { return Bytes(domain->ScanEncoded(r)); });
    if (!HandlesEveryMethod()) abort();
  }

 private:
  // The response's bytes: serialize(head) + the verbatim items, two slices;
  // the items string is handed over, not copied.
  template <typename Response>
  static absl::StatusOr<grpc::ByteBuffer> Bytes(
      absl::StatusOr<TableService::Encoded<Response>> result) {
    if (!result.ok()) return result.status();
    auto* items = new std::string(std::move(result->items));
    grpc::Slice slices[2] = {
        grpc::Slice(result->head.SerializeAsString()),
        grpc::Slice(items->data(), items->size(),
                    [](void* p) { delete static_cast<std::string*>(p); }, items)};
    return grpc::ByteBuffer(slices, 2);
  }
};

}  // namespace thingtank::tables
