#include "services/objects/object_service.h"

namespace thingtank::objects {

absl::StatusOr<std::unique_ptr<ObjectService>> ObjectService::Open(Db* db, Clock* clock,
                                                                   const Options& options) {
  auto s = std::make_unique<ObjectService>();
  TT_ASSIGN_OR_RETURN(s->blobs, BlobStore::Open(options.blob_root, options.sync_writes));
  TT_ASSIGN_OR_RETURN(s->catalog, Catalog::Open(db, s->blobs.get(), clock));
  s->buckets = std::make_unique<BucketOps>(s->catalog.get());
  s->objects = std::make_unique<ObjectStore>(s->catalog.get(), options.events, options.observer);
  s->lister = std::make_unique<Lister>(s->catalog.get());
  s->multipart = std::make_unique<MultipartOps>(s->catalog.get(), s->objects.get(), options.min_part_size);
  return s;
}

}  // namespace thingtank::objects
