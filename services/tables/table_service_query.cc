// Query and Scan: one page of a key range, with TTL hiding, filter,
// projection, limit and 1 MB pages.
#include <algorithm>
#include <optional>

#include "services/common/storage/key_codec.h"
#include "services/tables/expression/expression.h"
#include "services/tables/scalar_types.h"
#include "services/tables/storage/encoded_item.h"
#include "services/tables/table_service.h"

namespace thingtank::tables {

using internal::Invalid;

namespace {

constexpr int64_t kPageBytes = 1024 * 1024;
// The most item bytes a non-blocking page reads (~0.2 ms of a reactor
// thread); larger pages go to the executor.
constexpr int64_t kNonBlockingPageBytes = 256 * 1024;

absl::Status CheckSelect(v1::Select select, bool has_projection) {
  if (select == v1::SELECT_COUNT && has_projection) {
    return Invalid("select", "COUNT cannot be combined with a projection expression");
  }
  if (select == v1::SELECT_SPECIFIC_ATTRIBUTES && !has_projection) {
    return Invalid("select", "SPECIFIC_ATTRIBUTES needs a projection expression");
  }
  if (select == v1::SELECT_ALL_ATTRIBUTES && has_projection) {
    return Invalid("select", "ALL_ATTRIBUTES cannot be combined with a projection expression");
  }
  return absl::OkStatus();
}

// The optional filter and projection of a Query or Scan.
struct Expressions {
  std::optional<expr::Condition> filter;
  std::optional<expr::Projection> projection;
};

absl::Status ParseReadExpressions(const std::string& filter, const std::string& projection,
                                  expr::Substitutions* subs, Expressions* out) {
  if (!filter.empty()) {
    TT_ASSIGN_OR_RETURN(expr::Condition c, expr::Condition::Parse(filter, "filter_expression", subs));
    out->filter.emplace(std::move(c));
  }
  if (!projection.empty()) {
    TT_ASSIGN_OR_RETURN(expr::Projection p,
                        expr::Projection::Parse(projection, "projection_expression", subs));
    out->projection.emplace(std::move(p));
  }
  return absl::OkStatus();
}

// Query only (Scan allows them): DynamoDB refuses a filter on a key
// attribute, which belongs in the key condition.
absl::Status CheckFilterOnNonKeys(const expr::Condition& filter, const storage::KeySchema& schema) {
  for (const std::string& name : filter.TopLevelNames()) {
    if (schema.IsKey(name)) {
      return Invalid("filter_expression",
                     "Filter Expression can only contain non-primary key attributes: Primary key "
                     "attribute: " + name);
    }
  }
  return absl::OkStatus();
}

}  // namespace

struct TableService::PageSpec {
  std::string lo;  // inclusive
  std::string hi;  // exclusive
  bool reverse = false;
  int32_t limit = 0;
  const Expressions* expressions = nullptr;
  bool count_only = false;
  uint32_t segment = 0;
  uint32_t total_segments = 0;  // 0: no split
  // Memory only, and at most kNonBlockingPageBytes of items, else WouldBlock().
  bool non_blocking = false;
};

struct TableService::Page {
  google::protobuf::RepeatedPtrField<v1::Item> items;  // projected items
  std::string encoded;  // whole items, as stored (wire format of `items`)
  int32_t count = 0;
  int32_t scanned = 0;
  AttributeMap last_evaluated_key;
  int64_t bytes = 0;
};

absl::Status TableService::ReadPage(TableState* t, const PageSpec& spec, Page* page) {
  const internal::ReadView view = View(*t);
  const Expressions& e = *spec.expressions;
  // Whole items without a filter are copied as stored, never parsed: only
  // their size and TTL attribute are read from the wire format. Filters and
  // projections parse each item into a scratch message.
  const bool verbatim = !spec.count_only && !e.projection && !e.filter;
  absl::Status error;
  v1::Item scratch;
  bool stopped = false;
  TT_RETURN_IF_ERROR(store_.ForEachItem(
      spec.lo, spec.hi, spec.non_blocking, spec.reverse,
      [&](std::string_view key, std::string_view value) {
        if (spec.total_segments > 0 &&
            storage::SegmentOf(storage::HashPart(key, t->prefix.size()), spec.total_segments) !=
                spec.segment) {
          return true;
        }
        bool parsed = false;
        auto parse = [&]() -> bool {
          if (parsed) return true;
          scratch.Clear();
          if (!scratch.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
            error = absl::DataLossError("tables: corrupt item");
            return false;
          }
          parsed = true;
          return true;
        };
        int64_t size = 0;
        bool expired = false;
        if (verbatim) {
          absl::StatusOr<storage::EncodedItemInfo> info =
              storage::InspectEncodedItem(value, view.ttl_attribute);
          if (!info.ok()) {
            error = info.status();
            return false;
          }
          size = info->size;
          expired = view.ExpiredNumber(info->ttl_number);
        } else {
          if (!parse()) return false;
          expired = view.Expired(scratch.attributes());
          size = ItemSize(scratch.attributes());
        }
        if (expired) return true;
        ++page->scanned;
        page->bytes += size;
        if (spec.non_blocking && page->bytes > kNonBlockingPageBytes) {
          error = WouldBlock();  // too long a stay on a reactor thread
          return false;
        }
        if (verbatim) {
          ++page->count;
          storage::AppendItemField(value, &page->encoded);
        } else if (!e.filter || e.filter->Evaluate(scratch.attributes())) {
          ++page->count;
          if (!spec.count_only) {
            if (e.projection) {
              *page->items.Add()->mutable_attributes() = e.projection->Apply(scratch.attributes());
            } else {
              storage::AppendItemField(value, &page->encoded);
            }
          }
        }
        if ((spec.limit > 0 && page->scanned >= spec.limit) || page->bytes >= kPageBytes) {
          stopped = true;
          if (!parse()) return false;
          page->last_evaluated_key = KeyOf(scratch.attributes(), t->schema);
        }
        return !stopped;
      }));
  TT_RETURN_IF_ERROR(error);
  return absl::OkStatus();
}

// Reads one page for Query or Scan, charges its read units and fills the
// response (the two share every field involved).
template <typename Request, typename Response>
absl::Status TableService::ReadPageInto(TableState* t, const PageSpec& spec,
                                        const Request& request, Encoded<Response>* out) {
  Page page;
  TT_RETURN_IF_ERROR(ReadPage(t, spec, &page));
  const double units = ReadUnits(page.bytes, request.consistent_read());
  Charge(t, units, 0);
  Response* response = &out->head;
  out->items = std::move(page.encoded);
  *response->mutable_items() = std::move(page.items);
  response->set_count(page.count);
  response->set_scanned_count(page.scanned);
  *response->mutable_last_evaluated_key() = std::move(page.last_evaluated_key);
  internal::FillCapacity(t->name, units, 0, request.return_consumed_capacity(), response);
  return absl::OkStatus();
}

namespace {
// The typed response: the verbatim items merged in.
template <typename Response>
absl::StatusOr<Response> Decoded(absl::StatusOr<TableService::Encoded<Response>> encoded) {
  if (!encoded.ok()) return encoded.status();
  if (!encoded->items.empty() && !encoded->head.MergeFromString(encoded->items)) {
    return absl::DataLossError("tables: corrupt item");
  }
  return std::move(encoded->head);
}
}  // namespace

absl::StatusOr<v1::QueryResponse> TableService::Query(const v1::QueryRequest& request) {
  return Decoded(QueryEncoded(request));
}

absl::StatusOr<v1::ScanResponse> TableService::Scan(const v1::ScanRequest& request) {
  return Decoded(ScanEncoded(request));
}

absl::StatusOr<TableService::Encoded<v1::QueryResponse>> TableService::QueryEncoded(
    const v1::QueryRequest& request, bool non_blocking) {
  TT_ASSIGN_OR_RETURN(TablePtr t, FindForItems(request.table_name()));
  if (request.key_condition_expression().empty()) {
    return Invalid("key_condition_expression", "required");
  }
  if (request.limit() < 0) return Invalid("limit", "must be positive");
  TT_RETURN_IF_ERROR(
      ValidateValues(request.expression_attribute_values(), "expression_attribute_values"));
  expr::Substitutions subs(&request.expression_attribute_names(),
                           &request.expression_attribute_values());
  TT_ASSIGN_OR_RETURN(expr::KeyCondition kc,
                      expr::KeyCondition::Parse(request.key_condition_expression(),
                                                "key_condition_expression", &subs));
  kc.AssumeHashKey(t->schema.hash_name);
  Expressions e;
  TT_RETURN_IF_ERROR(ParseReadExpressions(request.filter_expression(),
                                          request.projection_expression(), &subs, &e));
  TT_RETURN_IF_ERROR(subs.CheckAllUsed());
  TT_RETURN_IF_ERROR(CheckSelect(request.select(), e.projection.has_value()));
  if (e.filter) TT_RETURN_IF_ERROR(CheckFilterOnNonKeys(*e.filter, t->schema));

  const storage::KeySchema& schema = t->schema;
  const std::string field = "key_condition_expression";
  if (kc.hash_name != schema.hash_name) {
    return Invalid(field, "Query condition missed key schema element: " + schema.hash_name);
  }
  if (!HasType(kc.hash_value, schema.hash_type)) {
    return Invalid(field, "the value for " + schema.hash_name + " has the wrong type");
  }
  TT_RETURN_IF_ERROR(ValidateValue(kc.hash_value, field));
  TT_ASSIGN_OR_RETURN(const std::string prefix, storage::HashPrefix(t->id, kc.hash_value));
  std::string lo = prefix;
  std::string hi = keys::PrefixSuccessor(prefix);
  if (kc.range_op != expr::KeyCondition::RangeOp::kNone) {
    if (!schema.has_range() || kc.range_name != schema.range_name) {
      return Invalid(field, "Query key condition not supported: " + kc.range_name +
                                " is not the range key");
    }
    const bool between = kc.range_op == expr::KeyCondition::RangeOp::kBetween;
    if (!HasType(kc.range_low, schema.range_type) ||
        (between && !HasType(kc.range_high, schema.range_type))) {
      return Invalid(field, "the value for " + schema.range_name + " has the wrong type");
    }
    TT_RETURN_IF_ERROR(ValidateValue(kc.range_low, field));
    if (between) TT_RETURN_IF_ERROR(ValidateValue(kc.range_high, field));
    std::string low = prefix;
    TT_RETURN_IF_ERROR(storage::AppendScalar(kc.range_low, &low));
    switch (kc.range_op) {
      case expr::KeyCondition::RangeOp::kEq:
        lo = low;
        hi = storage::Successor(low);
        break;
      case expr::KeyCondition::RangeOp::kLt: hi = low; break;
      case expr::KeyCondition::RangeOp::kLe: hi = storage::Successor(low); break;
      case expr::KeyCondition::RangeOp::kGt: lo = storage::Successor(low); break;
      case expr::KeyCondition::RangeOp::kGe: lo = low; break;
      case expr::KeyCondition::RangeOp::kBetween: {
        std::optional<int> order = expr::CompareScalars(kc.range_low, kc.range_high);
        if (order && *order > 0) {
          return Invalid(field, "BETWEEN bounds are in the wrong order (low > high)");
        }
        std::string high = prefix;
        TT_RETURN_IF_ERROR(storage::AppendScalar(kc.range_high, &high));
        lo = low;
        hi = storage::Successor(high);
        break;
      }
      case expr::KeyCondition::RangeOp::kBeginsWith: {
        if (schema.range_type == v1::SCALAR_ATTRIBUTE_TYPE_N) {
          return Invalid(field, "begins_with is not supported on a number range key");
        }
        lo = low;
        std::string succ = keys::PrefixSuccessor(low);
        if (!succ.empty()) hi = std::move(succ);
        break;
      }
      case expr::KeyCondition::RangeOp::kNone: break;
    }
  }
  const bool reverse = request.has_scan_index_forward() && !request.scan_index_forward();
  if (!request.exclusive_start_key().empty()) {
    TT_RETURN_IF_ERROR(ValidateKey(request.exclusive_start_key(), schema, "exclusive_start_key"));
    TT_ASSIGN_OR_RETURN(std::string start,
                        storage::ItemKey(t->id, schema, request.exclusive_start_key()));
    if (start.compare(0, prefix.size(), prefix) != 0) {
      return Invalid("exclusive_start_key", "does not match the hash key of the query");
    }
    if (reverse) {
      hi = std::min(hi, start);
    } else {
      lo = std::max(lo, storage::Successor(start));
    }
  }
  TT_RETURN_IF_ERROR(Admit(t.get(), false));
  PageSpec spec;
  spec.lo = std::move(lo);
  spec.hi = std::move(hi);
  spec.reverse = reverse;
  spec.limit = request.limit();
  spec.expressions = &e;
  spec.count_only = request.select() == v1::SELECT_COUNT;
  spec.non_blocking = non_blocking;
  Encoded<v1::QueryResponse> response;
  TT_RETURN_IF_ERROR(ReadPageInto(t.get(), spec, request, &response));
  return response;
}

absl::StatusOr<TableService::Encoded<v1::ScanResponse>> TableService::ScanEncoded(
    const v1::ScanRequest& request) {
  TT_ASSIGN_OR_RETURN(TablePtr t, FindForItems(request.table_name()));
  if (request.limit() < 0) return Invalid("limit", "must be positive");
  if (request.total_segments() < 0 || request.total_segments() > 1000000) {
    return Invalid("total_segments", "must be 1 to 1000000");
  }
  if (request.segment() < 0 ||
      (request.total_segments() == 0 ? request.segment() != 0
                                     : request.segment() >= request.total_segments())) {
    return Invalid("segment", "must be at least 0 and less than total_segments");
  }
  TT_RETURN_IF_ERROR(
      ValidateValues(request.expression_attribute_values(), "expression_attribute_values"));
  expr::Substitutions subs(&request.expression_attribute_names(),
                           &request.expression_attribute_values());
  Expressions e;
  TT_RETURN_IF_ERROR(ParseReadExpressions(request.filter_expression(),
                                          request.projection_expression(), &subs, &e));
  TT_RETURN_IF_ERROR(subs.CheckAllUsed());
  TT_RETURN_IF_ERROR(CheckSelect(request.select(), e.projection.has_value()));
  PageSpec spec;
  spec.lo = t->prefix;
  spec.hi = keys::PrefixSuccessor(t->prefix);
  if (!request.exclusive_start_key().empty()) {
    TT_RETURN_IF_ERROR(
        ValidateKey(request.exclusive_start_key(), t->schema, "exclusive_start_key"));
    TT_ASSIGN_OR_RETURN(std::string start,
                        storage::ItemKey(t->id, t->schema, request.exclusive_start_key()));
    spec.lo = storage::Successor(start);
  }
  TT_RETURN_IF_ERROR(Admit(t.get(), false));
  spec.limit = request.limit();
  spec.expressions = &e;
  spec.count_only = request.select() == v1::SELECT_COUNT;
  spec.segment = static_cast<uint32_t>(request.segment());
  spec.total_segments = static_cast<uint32_t>(request.total_segments());
  Encoded<v1::ScanResponse> response;
  TT_RETURN_IF_ERROR(ReadPageInto(t.get(), spec, request, &response));
  return response;
}

}  // namespace thingtank::tables
