#include "services/tables/testing/fake_tables.h"

#include "absl/strings/str_cat.h"
#include "services/common/status.h"
#include "services/tables/scalar_types.h"
#include "thingtank/tables/v1/tables.grpc.pb.h"

namespace thingtank::tables {

namespace {

std::string Method(const char* name) {
  return absl::StrCat(v1::TablesService::service_full_name(), ".", name);
}

absl::Status NotFound(const std::string& table) {
  return ErrorWithReason(absl::StatusCode::kNotFound, "ResourceNotFoundException",
                         absl::StrCat("table ", table, " does not exist"));
}

}  // namespace

FakeTables::FakeTables(FakeBackend* backend) {
  backend->On<v1::CreateTableRequest, v1::CreateTableResponse>(
      Method("CreateTable"),
      [this](const FakeCall&, const v1::CreateTableRequest& req, v1::CreateTableResponse* out) {
        absl::MutexLock lock(&mu_);
        if (tables_.count(req.table_name()) > 0) {
          return ErrorWithReason(absl::StatusCode::kAlreadyExists, "ResourceInUseException",
                                 absl::StrCat("table ", req.table_name(), " exists"));
        }
        v1::TableDescription& d = tables_[req.table_name()].description;
        d.set_table_name(req.table_name());
        *d.mutable_key_schema() = req.key_schema();
        *d.mutable_attribute_definitions() = req.attribute_definitions();
        d.set_billing_mode(req.billing_mode());
        d.set_table_status(v1::TABLE_STATUS_ACTIVE);
        *out->mutable_table_description() = d;
        return absl::OkStatus();
      });
  backend->On<v1::DescribeTableRequest, v1::DescribeTableResponse>(
      Method("DescribeTable"),
      [this](const FakeCall&, const v1::DescribeTableRequest& req, v1::DescribeTableResponse* out) {
        absl::MutexLock lock(&mu_);
        auto t = tables_.find(req.table_name());
        if (t == tables_.end()) return NotFound(req.table_name());
        *out->mutable_table() = t->second.description;
        out->mutable_table()->set_item_count(static_cast<int64_t>(t->second.items.size()));
        return absl::OkStatus();
      });
  backend->On<v1::PutItemRequest, v1::PutItemResponse>(
      Method("PutItem"),
      [this](const FakeCall&, const v1::PutItemRequest& req, v1::PutItemResponse*) {
        absl::MutexLock lock(&mu_);
        auto t = tables_.find(req.table_name());
        if (t == tables_.end()) return NotFound(req.table_name());
        std::string key;  // the key attributes' values, each length-prefixed
        for (const v1::KeySchemaElement& k : t->second.description.key_schema()) {
          const std::string& name = k.attribute_name();
          v1::ScalarAttributeType type = v1::SCALAR_ATTRIBUTE_TYPE_UNSPECIFIED;
          for (const auto& d : t->second.description.attribute_definitions()) {
            if (d.attribute_name() == name) type = d.attribute_type();
          }
          auto v = req.item().find(name);
          // The field names and messages the tables service gives.
          if (v == req.item().end()) {
            return InvalidField("item", absl::StrCat("missing the key attribute ", name),
                                "ValidationException");
          }
          if (!HasType(v->second, type)) {
            return InvalidField(absl::StrCat("item.", name),
                                absl::StrCat("key attribute ", name, " must be of type ",
                                             TypeName(type)),
                                "ValidationException");
          }
          const std::string bytes = v->second.SerializeAsString();
          absl::StrAppend(&key, bytes.size(), ":", bytes);
        }
        t->second.items[key] = req.item();
        return absl::OkStatus();
      });
}

std::vector<FakeTables::Item> FakeTables::Items(const std::string& table) const {
  absl::MutexLock lock(&mu_);
  std::vector<Item> out;
  auto t = tables_.find(table);
  if (t == tables_.end()) return out;
  for (const auto& [key, item] : t->second.items) out.push_back(item);
  return out;
}

}  // namespace thingtank::tables
