#pragma once

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "services/common/clock.h"
#include "services/common/storage/db.h"
#include "services/compute/storage/compute_records.pb.h"
#include "thingtank/compute/v1/compute.pb.h"

namespace thingtank::compute {

// EC2 launch templates with versions: create, new versions from a source
// version with changes, describe, set the default, delete. A launch (RunInstances
// or a group) names a template and "1", "$Latest" or "$Default" and gets that
// version's data, resolved at each launch. Durable in the "launch_templates"
// family; thread-safe; blocks on RocksDB.
class LaunchTemplates {
 public:
  // Checks launch data as RunInstances would (image, type, driver, load, user
  // data); `field` prefixes the names in its errors.
  using Validate = std::function<absl::Status(const v1::LaunchTemplateData&, const std::string& field)>;

  static std::vector<std::string> ColumnFamilies();
  static absl::StatusOr<std::unique_ptr<LaunchTemplates>> Open(Db* db, Clock* clock, Validate validate);

  absl::StatusOr<v1::CreateLaunchTemplateResponse> CreateLaunchTemplate(
      const v1::CreateLaunchTemplateRequest& request);
  absl::StatusOr<v1::CreateLaunchTemplateVersionResponse> CreateLaunchTemplateVersion(
      const v1::CreateLaunchTemplateVersionRequest& request);
  absl::StatusOr<v1::DescribeLaunchTemplatesResponse> DescribeLaunchTemplates(
      const v1::DescribeLaunchTemplatesRequest& request) const;
  absl::StatusOr<v1::DescribeLaunchTemplateVersionsResponse> DescribeLaunchTemplateVersions(
      const v1::DescribeLaunchTemplateVersionsRequest& request) const;
  absl::StatusOr<v1::ModifyLaunchTemplateResponse> ModifyLaunchTemplate(
      const v1::ModifyLaunchTemplateRequest& request);
  absl::StatusOr<v1::DeleteLaunchTemplateResponse> DeleteLaunchTemplate(
      const v1::DeleteLaunchTemplateRequest& request);

  // The version `spec` names (errors name `field`).
  absl::StatusOr<v1::LaunchTemplateVersion> Resolve(const v1::LaunchTemplateSpecification& spec,
                                                    const std::string& field) const;
  // A RunInstancesRequest with `data`'s values where `request` leaves them unset.
  static void Fill(const v1::LaunchTemplateData& data, v1::RunInstancesRequest* request);

 private:
  LaunchTemplates(Db* db, Clock* clock, Validate validate);
  absl::Status Load();
  absl::StatusOr<storage::LaunchTemplateRecord*> Find(const std::string& id, const std::string& name,
                                                      const std::string& field)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<const storage::LaunchTemplateRecord*> Find(const std::string& id,
                                                            const std::string& name,
                                                            const std::string& field) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  absl::Status Store(const storage::LaunchTemplateRecord& record);

  Db* const db_;
  rocksdb::ColumnFamilyHandle* const cf_;
  Clock* const clock_;
  const Validate validate_;
  mutable absl::Mutex mu_;
  std::map<std::string, storage::LaunchTemplateRecord> by_id_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> id_by_name_ ABSL_GUARDED_BY(mu_);
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
};

}  // namespace thingtank::compute
