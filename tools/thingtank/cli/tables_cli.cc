#include "tools/thingtank/cli/tables_cli.h"

#include <ostream>

#include "tools/thingtank/cli/cli_command.h"
#include "tools/thingtank/cli/tables_commands.h"

namespace thingtank::cli {
namespace {

std::vector<FlagSpec> Join(std::vector<FlagSpec> a, const std::vector<FlagSpec>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

const Service& Tables() {
  static const Service kService = [] {
    const std::vector<FlagSpec> billing = {
        {"read-units", "N", "provisioned read capacity units (with --write-units)"},
        {"write-units", "N", "provisioned write capacity units (with --read-units)"},
        {"on-demand", "", "on-demand billing: no throughput limit"}};
    const std::vector<FlagSpec> expression = {
        {"names", "JSON", "expression attribute names, e.g. {\"#d\": \"date\"}"},
        {"values", "JSON", "expression attribute values, e.g. {\":v\": {\"S\": \"x\"}}"}};
    const std::vector<FlagSpec> write = Join(
        {{"condition", "EXPR", "write only if this condition expression holds"},
         {"return", "WHAT", "return values: NONE, ALL_OLD (update-item also UPDATED_OLD, "
                            "ALL_NEW, UPDATED_NEW)"}},
        expression);
    const std::vector<FlagSpec> read = {
        {"filter", "EXPR", "filter expression applied after reading"},
        {"projection", "EXPR", "attributes to return, e.g. \"msgid, #d\""},
        {"limit", "N", "read at most N items (before filtering)"},
        {"start-key", "JSON", "continue after this key (printed as \"more\")"},
        {"count", "", "print only the number of matching items"},
        {"consistent", "", "strongly consistent read"}};
    const std::vector<FlagSpec> items = tables::ItemFlags();
    std::vector<Command> commands = {
        {"create", {"table"}, "create a table",
         Join({{"hash-key", "NAME:TYPE", "hash (partition) key; TYPE S, N or B"},
               {"range-key", "NAME:TYPE", "range (sort) key; TYPE S, N or B"},
               {"wait", "", "return once the table is ACTIVE (it is CREATING at first)"}},
              billing),
         WithStub(&tables::Create)},
        {"list", {}, "list tables in name order",
         {{"page-size", "N", "at most N tables (1 to 100)"},
          {"page-token", "TOKEN", "continue a previous listing"}},
         WithStub(&tables::List)},
        {"describe", {"table"}, "show keys, status, throughput, item count and size", {},
         WithStub(&tables::Describe)},
        {"delete", {"table"}, "delete a table and all its items",
         {{"wait", "", "return once the table is gone (it is DELETING at first)"}},
         WithStub(&tables::Delete)},
        {"update", {"table"}, "change billing mode or provisioned throughput", billing,
         WithStub(&tables::Update)},
        {"ttl", {"table"}, "show, enable (--attribute) or disable (--disable) time to live",
         {{"attribute", "NAME", "enable: the attribute holding expiry as epoch seconds"},
          {"disable", "", "turn time to live off"}},
         WithStub(&tables::Ttl)},
        {"put", {"table"}, "create or replace an item",
         Join(Join({{"item", "JSON", "the item (JSON, - for stdin, @FILE)"}}, write), items),
         WithStub(&tables::Put)},
        {"get", {"table"}, "read an item by its key",
         Join({{"key", "JSON", "the full primary key"},
               {"consistent", "", "strongly consistent read"},
               {"projection", "EXPR", "attributes to return"},
               {"names", "JSON", "expression attribute names"}},
              items),
         WithStub(&tables::Get)},
        {"update-item", {"table"}, "edit an item with an update expression (creates it if absent)",
         Join(Join({{"key", "JSON", "the full primary key"},
                    {"update", "EXPR", "e.g. \"SET #n = #n + :one REMOVE tmp\""}},
                   write),
              items),
         WithStub(&tables::UpdateItem)},
        {"delete-item", {"table"}, "delete an item by its key",
         Join(Join({{"key", "JSON", "the full primary key"}}, write), items),
         WithStub(&tables::DeleteItem)},
        {"query", {"table"}, "read the items of one hash key in range-key order",
         Join(Join(Join({{"key-condition", "EXPR", "e.g. \"msgid = :id AND #d > :since\""},
                         {"backward", "", "descending range-key order"}},
                        read),
                   expression),
              items),
         WithStub(&tables::Query)},
        {"scan", {"table"}, "read every item (or one segment) of a table",
         Join(Join(Join({{"segment", "I", "parallel scan: this segment (0 to N-1)"},
                         {"total-segments", "N", "parallel scan: number of segments"}},
                        read),
                   expression),
              items),
         WithStub(&tables::Scan)},
        {"batch-write", {}, "up to 25 puts and deletes over tables (BatchWriteItem)",
         Join({{"request-items", "JSON",
                "{\"TABLE\": [{\"PutRequest\": {\"Item\": {...}}}, {\"DeleteRequest\": {\"Key\": "
                "{...}}}]}"}},
              items),
         WithStub(&tables::BatchWrite)},
        {"batch-get", {}, "up to 100 items by key over tables (BatchGetItem)",
         Join({{"request-items", "JSON",
                "{\"TABLE\": {\"Keys\": [{...}], \"ProjectionExpression\": \"...\", "
                "\"ConsistentRead\": true}}"}},
              items),
         WithStub(&tables::BatchGet)},
        {"transact-write", {}, "all-or-nothing writes and checks (TransactWriteItems)",
         Join({{"transact-items", "JSON",
                "[{\"Put\"|\"Update\"|\"Delete\"|\"ConditionCheck\": {\"TableName\": \"...\", "
                "\"Item\"|\"Key\": {...}, \"ConditionExpression\": \"...\", ...}}]"},
               {"token", "TOKEN",
                "client request token: a retry within 10 minutes applies nothing twice"}},
              items),
         WithStub(&tables::TransactWrite)},
        {"transact-get", {}, "read up to 100 items at one point in time (TransactGetItems)",
         Join({{"transact-items", "JSON", "[{\"Get\": {\"TableName\": \"...\", \"Key\": {...}}}]"}},
              items),
         WithStub(&tables::TransactGet)},
    };
    return Service{
        "tables", "Client commands of the tables service (Amazon DynamoDB semantics).",
        {"table", "NAME", "the table (instead of the <table> argument)"},
        "Items, keys and values are JSON in DynamoDB's form, {\"msgid\": {\"S\": \"1\"}, "
        "\"n\": {\"N\": \"5\"}},\nor with --plain in plain JSON, {\"msgid\": \"1\", \"n\": 5}. "
        "A JSON flag may be - (stdin) or @FILE. Batch and transaction requests take DynamoDB's\n"
        "request shapes (member names as in the AWS CLI's --request-items / --transact-items).\n"
        "--json prints DynamoDB's response shapes ({\"Item\": {...}}, {\"Items\": [...], \"Count\": n},\n"
        "{\"Table\": {\"TableStatus\": \"ACTIVE\", ...}}), with --plain in plain JSON; put --item takes\n"
        "get --json output as it is.\n",
        std::move(commands)};
  }();
  return kService;
}

}  // namespace

void PrintTablesUsage(std::ostream& os) { PrintServiceUsage(Tables(), os); }

int RunTables(const std::vector<std::string>& args) { return RunTables(args, ProcessIo()); }

int RunTables(const std::vector<std::string>& args, const Io& io) {
  return RunService(Tables(), args, io);
}

}  // namespace thingtank::cli
