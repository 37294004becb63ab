#include "tools/thingtank/cli/tables_commands.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tools/thingtank/cli/tables_format.h"
#include "tools/thingtank/cli/tables_json.h"
#include "tools/thingtank/cli/tables_output.h"

namespace thingtank::cli::tables {
namespace {

namespace v1 = thingtank::tables::v1;

constexpr auto kWaitTimeout = std::chrono::seconds(60);
constexpr auto kWaitPoll = std::chrono::milliseconds(50);

// --wait: polls DescribeTable until the table is ACTIVE (`*active` then holds
// its description) or, with `active` null, until it is gone.
grpc::Status WaitForTable(const CommandContext& c, v1::TableDescription* active) {
  const auto deadline = std::chrono::steady_clock::now() + kWaitTimeout;
  v1::DescribeTableRequest request;
  request.set_table_name(c.table());
  while (true) {
    v1::DescribeTableResponse response;
    grpc::Status status = c.stub.DescribeTable(c.connection.NewContext().get(), request, &response);
    if (active == nullptr && status.error_code() == grpc::StatusCode::NOT_FOUND) {
      return grpc::Status::OK;
    }
    if (!status.ok()) return status;
    if (active != nullptr && response.table().table_status() == v1::TABLE_STATUS_ACTIVE) {
      *active = response.table();
      return grpc::Status::OK;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                          "--wait: table " + c.table() + " is still " +
                              DynamoEnumName(v1::TableStatus_descriptor()->FindValueByNumber(
                                  response.table().table_status())) +
                              " after " +
                              std::to_string(kWaitTimeout.count()) + " s");
    }
    std::this_thread::sleep_for(kWaitPoll);
  }
}

// The text of a JSON flag: the value itself, "-" for stdin or "@PATH" for a file.
bool JsonText(const CommandContext& c, const std::string& flag, std::string* out, int* exit) {
  const std::string value = c.args.Get(flag);
  if (value == "-") {
    *out = ReadAll(c.io.in);
  } else if (!value.empty() && value[0] == '@') {
    if (!ReadFile(value.substr(1), out)) {
      *exit = ReportLocalError("cannot read --" + flag + " file " + value.substr(1), c.json(),
                               c.io);
      return false;
    }
  } else {
    *out = value;
  }
  return true;
}

// Reads an attribute map flag (--item, --key, --values, --start-key) if given.
bool MapFlag(const CommandContext& c, const std::string& flag, AttributeMap* out, int* exit) {
  if (!c.args.Has(flag)) return true;
  std::string text;
  std::string error;
  if (!JsonText(c, flag, &text, exit)) return false;
  // --item also takes `get --json` output, {"Item": {...}}.
  const bool ok = flag == "item" ? ParseItem(text, c.plain(), out, &error)
                                 : ParseAttributeMap(text, c.plain(), out, &error);
  if (!ok) {
    *exit = c.UsageError("--" + flag + ": " + error);
    return false;
  }
  return true;
}

bool RequiredMapFlag(const CommandContext& c, const std::string& flag, AttributeMap* out,
                     int* exit) {
  if (!c.args.Has(flag)) {
    *exit = c.UsageError("missing --" + flag);
    return false;
  }
  return MapFlag(c, flag, out, exit);
}

bool NamesFlag(const CommandContext& c, NameMap* out, int* exit) {
  if (!c.args.Has("names")) return true;
  std::string text;
  std::string error;
  if (!JsonText(c, "names", &text, exit)) return false;
  if (!ParseNameMap(text, out, &error)) {
    *exit = c.UsageError("--names: " + error);
    return false;
  }
  return true;
}

// --names and --values together.
bool ExpressionFlags(const CommandContext& c, NameMap* names, AttributeMap* values, int* exit) {
  return NamesFlag(c, names, exit) && MapFlag(c, "values", values, exit);
}

bool ReturnFlag(const CommandContext& c, v1::ReturnValue* out, int* exit) {
  if (!c.args.Has("return")) return true;
  const std::string text = c.args.Get("return");
  if (!v1::ReturnValue_Parse("RETURN_VALUE_" + text, out) || text == "UNSPECIFIED") {
    *exit = c.UsageError("--return: \"" + text +
                         "\" is not NONE, ALL_OLD, UPDATED_OLD, ALL_NEW or UPDATED_NEW");
    return false;
  }
  return true;
}

// "NAME:S|N|B" into a key schema element and its attribute definition.
bool KeyFlag(const CommandContext& c, const std::string& flag, v1::KeyType role,
             v1::CreateTableRequest* request, int* exit) {
  const std::string spec = c.args.Get(flag);
  const size_t colon = spec.rfind(':');
  const std::string type = colon == std::string::npos ? "" : spec.substr(colon + 1);
  v1::ScalarAttributeType scalar = v1::SCALAR_ATTRIBUTE_TYPE_UNSPECIFIED;
  if (type == "S") scalar = v1::SCALAR_ATTRIBUTE_TYPE_S;
  if (type == "N") scalar = v1::SCALAR_ATTRIBUTE_TYPE_N;
  if (type == "B") scalar = v1::SCALAR_ATTRIBUTE_TYPE_B;
  if (colon == 0 || scalar == v1::SCALAR_ATTRIBUTE_TYPE_UNSPECIFIED) {
    *exit = c.UsageError("--" + flag + ": \"" + spec + "\" is not NAME:S, NAME:N or NAME:B");
    return false;
  }
  auto* element = request->add_key_schema();
  element->set_attribute_name(spec.substr(0, colon));
  element->set_key_type(role);
  auto* definition = request->add_attribute_definitions();
  definition->set_attribute_name(spec.substr(0, colon));
  definition->set_attribute_type(scalar);
  return true;
}

// --read-units/--write-units or --on-demand; `required` when one must be given.
bool BillingFlags(const CommandContext& c, bool required, v1::BillingMode* mode,
                  v1::ProvisionedThroughput* throughput, int* exit) {
  std::optional<int64_t> read;
  std::optional<int64_t> write;
  if (!IntFlag(c, "read-units", &read, exit) || !IntFlag(c, "write-units", &write, exit)) {
    return false;
  }
  const bool on_demand = c.args.Bool("on-demand");
  if (on_demand && (read || write)) {
    *exit = c.UsageError("give --read-units and --write-units, or --on-demand, not both");
    return false;
  }
  if (read.has_value() != write.has_value()) {
    *exit = c.UsageError("--read-units and --write-units go together");
    return false;
  }
  if (on_demand) {
    *mode = v1::BILLING_MODE_PAY_PER_REQUEST;
  } else if (read) {
    *mode = v1::BILLING_MODE_PROVISIONED;
    throughput->set_read_capacity_units(*read);
    throughput->set_write_capacity_units(*write);
  } else if (required) {
    *exit = c.UsageError("give --read-units N --write-units N, or --on-demand");
    return false;
  }
  return true;
}

// Ends a call: the error, the response in DynamoDB's JSON (--json, plain
// JSON values with --plain), or the human form.
int FinishDynamo(const CommandContext& c, const grpc::Status& status,
           const google::protobuf::Message& response,
           const std::function<void(std::ostream&)>& human) {
  if (!status.ok()) return ReportRpcError(status, c.connection.options(), c.io);
  if (c.json()) {
    c.io.out << ResponseToJson(response, c.plain()) << "\n";
  } else {
    human(c.io.out);
  }
  return kExitOk;
}

std::string KeyText(const AttributeMap& key, bool plain) { return AttributeMapToJson(key, plain); }

// Prints returned attributes, or `fallback` when there are none.
void PrintAttributesOr(const AttributeMap& attributes, bool plain, const std::string& fallback,
                       std::ostream& os) {
  os << (attributes.empty() ? fallback : AttributeMapToJson(attributes, plain)) << "\n";
}

// The flags of put, update-item and delete-item: the item or key
// (`map_flag`), --names, --values, --condition and --return.
template <typename Request>
bool WriteFlags(const CommandContext& c, const std::string& map_flag, AttributeMap* map,
                Request* request, int* exit) {
  v1::ReturnValue return_values = v1::RETURN_VALUE_UNSPECIFIED;
  if (!RequiredMapFlag(c, map_flag, map, exit) ||
      !ExpressionFlags(c, request->mutable_expression_attribute_names(),
                       request->mutable_expression_attribute_values(), exit) ||
      !ReturnFlag(c, &return_values, exit)) {
    return false;
  }
  request->set_condition_expression(c.args.Get("condition"));
  request->set_return_values(return_values);
  return true;
}

// The flags query and scan share: --names, --values, --start-key, --limit,
// --filter, --projection, --count and --consistent.
template <typename Request>
bool ReadFlags(const CommandContext& c, Request* request, int* exit) {
  std::optional<int32_t> limit;
  if (!ExpressionFlags(c, request->mutable_expression_attribute_names(),
                       request->mutable_expression_attribute_values(), exit) ||
      !MapFlag(c, "start-key", request->mutable_exclusive_start_key(), exit) ||
      !IntFlag(c, "limit", &limit, exit)) {
    return false;
  }
  request->set_filter_expression(c.args.Get("filter"));
  request->set_projection_expression(c.args.Get("projection"));
  if (limit) request->set_limit(*limit);
  if (c.args.Bool("count")) request->set_select(v1::SELECT_COUNT);
  request->set_consistent_read(c.args.Bool("consistent"));
  return true;
}

// Prints the items of a query or scan page.
template <typename Response>
void PrintPage(const CommandContext& c, const Response& response, std::ostream& os) {
  PrintItems(response.items(), response.count(), response.scanned_count(),
             response.last_evaluated_key(), c.args.Bool("count"), c.plain(), os);
}

}  // namespace

std::vector<FlagSpec> ItemFlags() {
  return {{"plain", "", "items, keys and values as plain JSON (\"a\", 5, true, [..], {..})"}};
}

int Create(const CommandContext& c) {
  v1::CreateTableRequest request;
  request.set_table_name(c.table());
  int exit = kExitOk;
  if (!c.args.Has("hash-key")) return c.UsageError("missing --hash-key NAME:S|N|B");
  if (!KeyFlag(c, "hash-key", v1::KEY_TYPE_HASH, &request, &exit)) return exit;
  if (c.args.Has("range-key") && !KeyFlag(c, "range-key", v1::KEY_TYPE_RANGE, &request, &exit)) {
    return exit;
  }
  v1::BillingMode mode = v1::BILLING_MODE_UNSPECIFIED;
  if (!BillingFlags(c, true, &mode, request.mutable_provisioned_throughput(), &exit)) return exit;
  request.set_billing_mode(mode);
  if (mode == v1::BILLING_MODE_PAY_PER_REQUEST) request.clear_provisioned_throughput();
  v1::CreateTableResponse response;
  grpc::Status status = c.stub.CreateTable(c.connection.NewContext().get(), request, &response);
  if (status.ok() && c.args.Bool("wait")) {
    status = WaitForTable(c, response.mutable_table_description());
  }
  return FinishDynamo(c, status, response, [&](std::ostream& os) {
    PrintTableDescription(response.table_description(), os);
  });
}

int List(const CommandContext& c) {
  v1::ListTablesRequest request;
  request.set_page_token(c.args.Get("page-token"));
  std::optional<int32_t> page_size;
  int exit = kExitOk;
  if (!IntFlag(c, "page-size", &page_size, &exit)) return exit;
  if (page_size) request.set_page_size(*page_size);
  v1::ListTablesResponse response;
  const grpc::Status status = c.stub.ListTables(c.connection.NewContext().get(), request,
                                                &response);
  return FinishDynamo(c, status, response, [&](std::ostream& os) {
    for (const std::string& name : response.table_names()) os << name << "\n";
    if (!response.next_page_token().empty()) {
      os << "(more: --page-token " << response.next_page_token() << ")\n";
    }
  });
}

int Describe(const CommandContext& c) {
  v1::DescribeTableRequest request;
  request.set_table_name(c.table());
  v1::DescribeTableResponse response;
  const grpc::Status status = c.stub.DescribeTable(c.connection.NewContext().get(), request,
                                                   &response);
  return FinishDynamo(c, status, response,
                [&](std::ostream& os) { PrintTableDescription(response.table(), os); });
}

int Delete(const CommandContext& c) {
  v1::DeleteTableRequest request;
  request.set_table_name(c.table());
  v1::DeleteTableResponse response;
  grpc::Status status = c.stub.DeleteTable(c.connection.NewContext().get(), request, &response);
  if (status.ok() && c.args.Bool("wait")) status = WaitForTable(c, nullptr);
  return FinishDynamo(c, status, response,
                [&](std::ostream& os) { os << "deleted table " << c.table() << "\n"; });
}

int Update(const CommandContext& c) {
  v1::UpdateTableRequest request;
  request.set_table_name(c.table());
  int exit = kExitOk;
  v1::BillingMode mode = v1::BILLING_MODE_UNSPECIFIED;
  if (!BillingFlags(c, true, &mode, request.mutable_provisioned_throughput(), &exit)) return exit;
  request.set_billing_mode(mode);
  if (mode == v1::BILLING_MODE_PAY_PER_REQUEST) request.clear_provisioned_throughput();
  v1::UpdateTableResponse response;
  const grpc::Status status = c.stub.UpdateTable(c.connection.NewContext().get(), request,
                                                 &response);
  return FinishDynamo(c, status, response, [&](std::ostream& os) {
    PrintTableDescription(response.table_description(), os);
  });
}

int Ttl(const CommandContext& c) {
  const bool enable = c.args.Has("attribute");
  const bool disable = c.args.Bool("disable");
  if (enable && disable) return c.UsageError("give --attribute NAME or --disable, not both");
  if (!enable && !disable) {  // Show the settings.
    v1::DescribeTimeToLiveRequest request;
    request.set_table_name(c.table());
    v1::DescribeTimeToLiveResponse response;
    const grpc::Status status = c.stub.DescribeTimeToLive(c.connection.NewContext().get(),
                                                          request, &response);
    return FinishDynamo(c, status, response, [&](std::ostream& os) {
      const auto& ttl = response.time_to_live_description();
      os << "time to live of " << c.table() << ": "
         << (ttl.time_to_live_status() == v1::TIME_TO_LIVE_STATUS_ENABLED
                 ? "enabled on " + ttl.attribute_name()
                 : std::string("disabled"))
         << "\n";
    });
  }
  v1::UpdateTimeToLiveRequest request;
  request.set_table_name(c.table());
  auto* spec = request.mutable_time_to_live_specification();
  spec->set_enabled(enable);
  spec->set_attribute_name(c.args.Get("attribute"));
  if (disable) {
    // DynamoDB names the attribute being turned off; look it up.
    v1::DescribeTimeToLiveRequest describe;
    describe.set_table_name(c.table());
    v1::DescribeTimeToLiveResponse current;
    const grpc::Status status = c.stub.DescribeTimeToLive(c.connection.NewContext().get(),
                                                          describe, &current);
    if (!status.ok()) return ReportRpcError(status, c.connection.options(), c.io);
    spec->set_attribute_name(current.time_to_live_description().attribute_name());
  }
  v1::UpdateTimeToLiveResponse response;
  const grpc::Status status = c.stub.UpdateTimeToLive(c.connection.NewContext().get(), request,
                                                      &response);
  return FinishDynamo(c, status, response, [&](std::ostream& os) {
    os << "time to live of " << c.table() << ": "
       << (enable ? "enabled on " + c.args.Get("attribute") : std::string("disabled")) << "\n";
  });
}

int Put(const CommandContext& c) {
  v1::PutItemRequest request;
  request.set_table_name(c.table());
  int exit = kExitOk;
  if (!WriteFlags(c, "item", request.mutable_item(), &request, &exit)) return exit;
  v1::PutItemResponse response;
  const grpc::Status status = c.stub.PutItem(c.connection.NewContext().get(), request, &response);
  return FinishDynamo(c, status, response, [&](std::ostream& os) {
    PrintAttributesOr(response.attributes(), c.plain(), "put item", os);
  });
}

int Get(const CommandContext& c) {
  v1::GetItemRequest request;
  request.set_table_name(c.table());
  int exit = kExitOk;
  if (!RequiredMapFlag(c, "key", request.mutable_key(), &exit) ||
      !NamesFlag(c, request.mutable_expression_attribute_names(), &exit)) {
    return exit;
  }
  request.set_consistent_read(c.args.Bool("consistent"));
  request.set_projection_expression(c.args.Get("projection"));
  v1::GetItemResponse response;
  const grpc::Status status = c.stub.GetItem(c.connection.NewContext().get(), request, &response);
  return FinishDynamo(c, status, response, [&](std::ostream& os) {
    PrintAttributesOr(response.item(), c.plain(),
                      "no item with key " + KeyText(request.key(), c.plain()), os);
  });
}

int UpdateItem(const CommandContext& c) {
  v1::UpdateItemRequest request;
  request.set_table_name(c.table());
  int exit = kExitOk;
  if (!c.args.Has("update")) return c.UsageError("missing --update EXPR");
  if (!WriteFlags(c, "key", request.mutable_key(), &request, &exit)) return exit;
  request.set_update_expression(c.args.Get("update"));
  v1::UpdateItemResponse response;
  const grpc::Status status = c.stub.UpdateItem(c.connection.NewContext().get(), request,
                                                &response);
  return FinishDynamo(c, status, response, [&](std::ostream& os) {
    PrintAttributesOr(response.attributes(), c.plain(), "updated item", os);
  });
}

int DeleteItem(const CommandContext& c) {
  v1::DeleteItemRequest request;
  request.set_table_name(c.table());
  int exit = kExitOk;
  if (!WriteFlags(c, "key", request.mutable_key(), &request, &exit)) return exit;
  v1::DeleteItemResponse response;
  const grpc::Status status = c.stub.DeleteItem(c.connection.NewContext().get(), request,
                                                &response);
  return FinishDynamo(c, status, response, [&](std::ostream& os) {
    PrintAttributesOr(response.attributes(), c.plain(), "deleted item", os);
  });
}

int Query(const CommandContext& c) {
  v1::QueryRequest request;
  request.set_table_name(c.table());
  if (!c.args.Has("key-condition")) return c.UsageError("missing --key-condition EXPR");
  int exit = kExitOk;
  if (!ReadFlags(c, &request, &exit)) return exit;
  request.set_key_condition_expression(c.args.Get("key-condition"));
  if (c.args.Bool("backward")) request.set_scan_index_forward(false);
  v1::QueryResponse response;
  const grpc::Status status = c.stub.Query(c.connection.NewContext().get(), request, &response);
  return FinishDynamo(c, status, response, [&](std::ostream& os) { PrintPage(c, response, os); });
}

int Scan(const CommandContext& c) {
  v1::ScanRequest request;
  request.set_table_name(c.table());
  int exit = kExitOk;
  std::optional<int32_t> segment;
  std::optional<int32_t> total_segments;
  if (!ReadFlags(c, &request, &exit) || !IntFlag(c, "segment", &segment, &exit) ||
      !IntFlag(c, "total-segments", &total_segments, &exit)) {
    return exit;
  }
  if (segment.has_value() != total_segments.has_value()) {
    return c.UsageError("--segment and --total-segments go together");
  }
  if (segment) request.set_segment(*segment);
  if (total_segments) request.set_total_segments(*total_segments);
  v1::ScanResponse response;
  const grpc::Status status = c.stub.Scan(c.connection.NewContext().get(), request, &response);
  return FinishDynamo(c, status, response, [&](std::ostream& os) { PrintPage(c, response, os); });
}

namespace {

// Reads request member `member` (DynamoDB's shape, see ParseRequest) from
// JSON flag `flag` into `request`.
bool RequestFlag(const CommandContext& c, const std::string& flag, const std::string& member,
                 google::protobuf::Message* request, int* exit) {
  if (!c.args.Has(flag)) {
    *exit = c.UsageError("missing --" + flag);
    return false;
  }
  std::string text;
  std::string error;
  if (!JsonText(c, flag, &text, exit)) return false;
  if (!ParseRequest(text, member, c.plain(), request, &error)) {
    *exit = c.UsageError("--" + flag + ": " + error);
    return false;
  }
  return true;
}

// "TABLE ITEM" lines in table name order (a protobuf map has none).
template <typename ItemsOfTable>
void PrintPerTable(const google::protobuf::Map<std::string, ItemsOfTable>& map,
                   const std::function<void(const std::string&, const ItemsOfTable&)>& print) {
  std::vector<std::string> names;
  for (const auto& [name, unused] : map) names.push_back(name);
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) print(name, map.at(name));
}

}  // namespace

int BatchWrite(const CommandContext& c) {
  v1::BatchWriteItemRequest request;
  int exit = kExitOk;
  if (!RequestFlag(c, "request-items", "RequestItems", &request, &exit)) return exit;
  v1::BatchWriteItemResponse response;
  const grpc::Status status =
      c.stub.BatchWriteItem(c.connection.NewContext().get(), request, &response);
  return FinishDynamo(c, status, response, [&](std::ostream& os) {
    int unprocessed = 0;
    PrintPerTable<v1::WriteRequestList>(
        response.unprocessed_items(), [&](const std::string& table, const v1::WriteRequestList& l) {
          for (const v1::WriteRequest& w : l.requests()) {
            ++unprocessed;
            const bool put = w.has_put_request();
            os << "unprocessed " << table << (put ? " put " : " delete ")
               << AttributeMapToJson(put ? w.put_request().item() : w.delete_request().key(),
                                     c.plain())
               << "\n";
          }
        });
    if (unprocessed == 0) {
      os << "all writes done\n";
    } else {
      os << unprocessed << " writes not done (throttled): retry them\n";
    }
  });
}

int BatchGet(const CommandContext& c) {
  v1::BatchGetItemRequest request;
  int exit = kExitOk;
  if (!RequestFlag(c, "request-items", "RequestItems", &request, &exit)) return exit;
  v1::BatchGetItemResponse response;
  const grpc::Status status =
      c.stub.BatchGetItem(c.connection.NewContext().get(), request, &response);
  return FinishDynamo(c, status, response, [&](std::ostream& os) {
    int found = 0, unprocessed = 0;
    PrintPerTable<v1::ItemList>(response.responses(),
                                [&](const std::string& table, const v1::ItemList& items) {
                                  for (const v1::Item& item : items.items()) {
                                    ++found;
                                    os << table << " "
                                       << AttributeMapToJson(item.attributes(), c.plain()) << "\n";
                                  }
                                });
    PrintPerTable<v1::KeysAndAttributes>(
        response.unprocessed_keys(), [&](const std::string& table, const v1::KeysAndAttributes& k) {
          for (const v1::Item& key : k.keys()) {
            ++unprocessed;
            os << "unprocessed " << table << " " << AttributeMapToJson(key.attributes(), c.plain())
               << "\n";
          }
        });
    os << found << (found == 1 ? " item" : " items");
    if (unprocessed > 0) os << ", " << unprocessed << " keys not read (throttled): retry them";
    os << "\n";
  });
}

int TransactWrite(const CommandContext& c) {
  v1::TransactWriteItemsRequest request;
  int exit = kExitOk;
  if (!RequestFlag(c, "transact-items", "TransactItems", &request, &exit)) return exit;
  request.set_client_request_token(c.args.Get("token"));
  v1::TransactWriteItemsResponse response;
  const grpc::Status status =
      c.stub.TransactWriteItems(c.connection.NewContext().get(), request, &response);
  return FinishDynamo(c, status, response, [&](std::ostream& os) {
    os << request.transact_items_size() << " actions applied\n";
  });
}

int TransactGet(const CommandContext& c) {
  v1::TransactGetItemsRequest request;
  int exit = kExitOk;
  if (!RequestFlag(c, "transact-items", "TransactItems", &request, &exit)) return exit;
  v1::TransactGetItemsResponse response;
  const grpc::Status status =
      c.stub.TransactGetItems(c.connection.NewContext().get(), request, &response);
  return FinishDynamo(c, status, response, [&](std::ostream& os) {
    // One line per Get, in request order; {} where there is no such item.
    for (const v1::Item& item : response.responses()) {
      os << AttributeMapToJson(item.attributes(), c.plain()) << "\n";
    }
  });
}

}  // namespace thingtank::cli::tables
