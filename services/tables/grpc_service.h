#pragma once

#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/proto_buffer_reader.h"
#include "services/common/server.h"
#include "services/tables/table_service.h"
#include "thingtank/tables/v1/tables.grpc.pb.h"

namespace thingtank::tables {

// The gRPC face of the tables domain: each handler hands its request to the
// domain on the service's executor (via UnaryRunner), or first tries the
// domain's non-blocking variant on the reactor thread (item reads and
// writes, Query), and finishes with the domain's answer. Nothing else happens
// here. Does not own its dependencies.
// Query and Scan are raw methods: their responses are assembled from stored
// item bytes without parsing (TableService::QueryEncoded).
using TablesGrpcBase = v1::TablesService::WithRawCallbackMethod_Query<
    v1::TablesService::WithRawCallbackMethod_Scan<v1::TablesService::CallbackService>>;

class TablesGrpcService final : public TablesGrpcBase {
 public:
  TablesGrpcService(TableService* domain, UnaryRunner* runner) : domain_(domain), runner_(runner) {}

#define TT_TABLES_UNARY(Method)                                                              \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* context,                     \
                                   const v1::Method##Request* request,                       \
                                   v1::Method##Response* response) override {                \
    return runner_->RunInto(context, #Method, response,                                      \
                            [this, request] { return domain_->Method(*request); });          \
  }
  TT_TABLES_UNARY(CreateTable)
  TT_TABLES_UNARY(DescribeTable)
  TT_TABLES_UNARY(ListTables)
  TT_TABLES_UNARY(UpdateTable)
  TT_TABLES_UNARY(DeleteTable)
  TT_TABLES_UNARY(UpdateTimeToLive)
  TT_TABLES_UNARY(DescribeTimeToLive)
  TT_TABLES_UNARY(BatchGetItem)
  TT_TABLES_UNARY(BatchWriteItem)
  TT_TABLES_UNARY(TransactWriteItems)
  TT_TABLES_UNARY(TransactGetItems)
#undef TT_TABLES_UNARY

  // Item reads and writes, usually served from memory: answered on the
  // reactor thread when the (old) item is in the memtable or block cache, the
  // table's write lock is free and RocksDB would not stall; on the executor
  // otherwise.
#define TT_TABLES_NON_BLOCKING_FIRST(Method)                                                 \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* context,                     \
                                   const v1::Method##Request* request,                       \
                                   v1::Method##Response* response) override {                \
    return runner_->RunNonBlockingFirstInto(                                                 \
        context, #Method, response,                                                          \
        [this, request] { return domain_->Method##NonBlocking(*request); },                  \
        [this, request] { return domain_->Method(*request); });                              \
  }
  TT_TABLES_NON_BLOCKING_FIRST(GetItem)
  TT_TABLES_NON_BLOCKING_FIRST(PutItem)
  TT_TABLES_NON_BLOCKING_FIRST(DeleteItem)
  TT_TABLES_NON_BLOCKING_FIRST(UpdateItem)
#undef TT_TABLES_NON_BLOCKING_FIRST

  grpc::ServerUnaryReactor* Query(grpc::CallbackServerContext* context,
                                  const grpc::ByteBuffer* request,
                                  grpc::ByteBuffer* response) override {
    // Usually served from memory: on the reactor thread when it can be.
    return Raw<v1::QueryRequest>(context, "Query", request, response, /*try_non_blocking=*/true,
                                 [this](const v1::QueryRequest& r, bool non_blocking) {
                                   return domain_->QueryEncoded(r, non_blocking);
                                 });
  }
  grpc::ServerUnaryReactor* Scan(grpc::CallbackServerContext* context,
                                 const grpc::ByteBuffer* request,
                                 grpc::ByteBuffer* response) override {
    // Up to 1 MiB from anywhere in the table: always on the executor.
    return Raw<v1::ScanRequest>(context, "Scan", request, response, /*try_non_blocking=*/false,
                                [this](const v1::ScanRequest& r, bool) {
                                  return domain_->ScanEncoded(r);
                                });
  }

 private:
  // A raw method: parses the request, sends serialize(head) + the verbatim
  // items as the response bytes. `call(parsed, non_blocking)`; with
  // `try_non_blocking` first non-blocking on the reactor thread, then (on
  // WouldBlock) blocking on the executor.
  template <typename Request, typename Call>
  grpc::ServerUnaryReactor* Raw(grpc::CallbackServerContext* context, const char* method,
                                const grpc::ByteBuffer* request, grpc::ByteBuffer* response,
                                bool try_non_blocking, Call call) {
    auto run = [request, response, call](bool non_blocking) -> absl::Status {
      Request parsed;
      grpc::ByteBuffer copy(*request);
      if (!grpc::SerializationTraits<Request>::Deserialize(&copy, &parsed).ok()) {
        return absl::InvalidArgumentError("the request is not a valid protobuf message");
      }
      auto result = call(parsed, non_blocking);
      if (!result.ok()) return result.status();
      // Two slices, head then items; the items string is handed over, not copied.
      auto* items = new std::string(std::move(result->items));
      grpc::Slice slices[2] = {
          grpc::Slice(result->head.SerializeAsString()),
          grpc::Slice(items->data(), items->size(),
                      [](void* p) { delete static_cast<std::string*>(p); }, items)};
      *response = grpc::ByteBuffer(slices, 2);
      return absl::OkStatus();
    };
    if (!try_non_blocking) return runner_->Run(context, method, [run] { return run(false); });
    return runner_->RunNonBlockingFirst(context, method, [run] { return run(true); },
                                        [run] { return run(false); });
  }

  TableService* const domain_;
  UnaryRunner* const runner_;
};

}  // namespace thingtank::tables
