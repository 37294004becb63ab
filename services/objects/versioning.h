#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "services/objects/catalog.h"
#include "services/objects/core/conditions.h"
#include "services/objects/storage/object_records.pb.h"
#include "thingtank/objects/v1/objects.pb.h"

namespace thingtank::objects {

// S3's versioning state table, applied inside a transaction:
//
//   bucket       write (put, copy, complete)        delete without version id
//   unversioned  version "null", replacing it       removes the "null" version
//   enabled      a new version id, others stay      adds a delete marker (new id)
//   suspended    version "null", replacing it;      removes the "null" version and
//                other versions stay                adds a "null" delete marker
//
// A delete with a version id removes that version or delete marker for good;
// the next newest becomes the latest.

// The key's current object for write conditions (nullopt: none, or its
// latest is a delete marker).
std::optional<ObjectState> CurrentState(const std::optional<storage::VersionRecord>& latest);
ObjectState StateOf(const storage::VersionRecord& v);

// Stages `v` (content and headers set) as the key's newest version: checks
// `conditions` against the current object, sets seq, version id and time.
absl::StatusOr<storage::VersionRecord> StageWrite(Txn& txn, const storage::BucketRecord& bucket,
                                                  storage::VersionRecord v,
                                                  const v1::Conditions& conditions);

struct DeleteOutcome {
  bool delete_marker = false;  // a marker was made, or the removed version was one
  std::string version_id;      // of the marker made or the version removed
  bool removed_anything = false;
  std::optional<storage::VersionRecord> removed;  // the version removed, if one was
};
// Stages a delete as the table above says. A version id that names nothing
// is not an error (S3 answers 204): nothing is staged.
absl::StatusOr<DeleteOutcome> StageDelete(Txn& txn, const storage::BucketRecord& bucket,
                                          std::string_view key, std::string_view version_id);

}  // namespace thingtank::objects
