#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "services/common/clock.h"
#include "services/common/storage/db.h"
#include "services/objects/buckets.h"
#include "services/objects/catalog.h"
#include "services/objects/lister.h"
#include "services/objects/multipart.h"
#include "services/objects/objects.h"
#include "services/objects/storage/blob_store.h"

namespace thingtank::objects {

// The objects domain, assembled: the blob files, the catalog over RocksDB,
// and the parts the API calls (buckets, objects, listings, multipart). Owns
// all but the Db, clock and observers.
struct ObjectService {
  struct Options {
    std::string blob_root;     // <data-dir>/objects/blobs
    bool sync_writes = false;  // fsync blob files before their commit
    int64_t min_part_size = 5 * 1024 * 1024;
    EventSink* events = nullptr;
    ObjectsObserver* observer = nullptr;
  };
  static absl::StatusOr<std::unique_ptr<ObjectService>> Open(Db* db, Clock* clock, const Options& options);

  std::unique_ptr<BlobStore> blobs;
  std::unique_ptr<Catalog> catalog;
  std::unique_ptr<BucketOps> buckets;
  std::unique_ptr<ObjectStore> objects;
  std::unique_ptr<Lister> lister;
  std::unique_ptr<MultipartOps> multipart;
};

}  // namespace thingtank::objects
