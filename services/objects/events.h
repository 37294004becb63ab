#pragma once

#include <string_view>

#include "services/objects/catalog.h"
#include "services/objects/storage/object_records.pb.h"

namespace thingtank::objects {

// Where committed changes announce themselves: bucket event notifications
// (notify/) stage their messages in the same transaction as the change, so
// a change and its notifications land together (delivered at least once).
class EventSink {
 public:
  virtual ~EventSink() = default;
  // Inside the transaction: stage what `bucket`'s notification configuration
  // asks for on `event` ("ObjectCreated:Put", "ObjectRemoved:Delete", ...).
  virtual void Stage(Txn& txn, const storage::BucketRecord& bucket, std::string_view event,
                     const storage::VersionRecord& v) = 0;
  // After a transaction committed.
  virtual void Committed() = 0;
};

// Byte and call counts the domain reports (metrics.h implements it).
class ObjectsObserver {
 public:
  virtual ~ObjectsObserver() = default;
  virtual void BytesIn(int64_t n) = 0;
  virtual void BytesOut(int64_t n) = 0;
};

}  // namespace thingtank::objects
