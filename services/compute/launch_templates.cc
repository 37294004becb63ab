#include "services/compute/launch_templates.h"

#include <cstdio>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/common/status.h"
#include "services/compute/proto_time.h"

namespace thingtank::compute {
namespace {

constexpr char kFamily[] = "launch_templates";
constexpr char kPrefix[] = "t/";

absl::Status ValidateName(const std::string& name) {
  static const std::string kAllowed = "().-/_";
  bool ok = name.size() >= 3 && name.size() <= 128;
  for (char c : name) {
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || kAllowed.find(c) != std::string::npos);
  }
  if (!ok) {
    return InvalidField("launch_template_name",
                        "3 to 128 characters: letters, digits and ( ) . - / _",
                        "InvalidLaunchTemplateName.MalformedException");
  }
  return absl::OkStatus();
}

// The data a version gets from its source with `changes` laid over it.
v1::LaunchTemplateData Merged(const v1::LaunchTemplateData& source, const v1::LaunchTemplateData& changes) {
  v1::LaunchTemplateData out = source;
  if (!changes.image_id().empty()) out.set_image_id(changes.image_id());
  if (!changes.instance_type().empty()) out.set_instance_type(changes.instance_type());
  if (!changes.key_name().empty()) out.set_key_name(changes.key_name());
  if (!changes.security_groups().empty()) *out.mutable_security_groups() = changes.security_groups();
  if (!changes.user_data().empty()) out.set_user_data(changes.user_data());
  if (changes.driver() != v1::DRIVER_UNSPECIFIED) out.set_driver(changes.driver());
  if (changes.has_load()) *out.mutable_load() = changes.load();
  if (!changes.tags().empty()) *out.mutable_tags() = changes.tags();
  return out;
}

// "3", "$Latest", "$Default" of `record` -> a version number, or an error.
absl::StatusOr<int64_t> VersionNumber(const storage::LaunchTemplateRecord& record,
                                      const std::string& version, const std::string& field) {
  const v1::LaunchTemplate& t = record.launch_template();
  if (version.empty() || version == "$Default") return t.default_version_number();
  if (version == "$Latest") return t.latest_version_number();
  int64_t n = 0;
  if (!absl::SimpleAtoi(version, &n) || n < 1 || n > t.latest_version_number()) {
    return ErrorWithReason(absl::StatusCode::kNotFound, "InvalidLaunchTemplateId.VersionNotFound",
                           absl::StrCat("Could not find launch template version ", version, " of ",
                                        t.launch_template_name(), " (", field, ")"));
  }
  return n;
}

}  // namespace

std::vector<std::string> LaunchTemplates::ColumnFamilies() { return {kFamily}; }

LaunchTemplates::LaunchTemplates(Db* db, Clock* clock, Validate validate)
    : db_(db), cf_(db->cf(kFamily)), clock_(clock), validate_(std::move(validate)),
      rng_(std::random_device{}()) {}

absl::StatusOr<std::unique_ptr<LaunchTemplates>> LaunchTemplates::Open(Db* db, Clock* clock,
                                                                       Validate validate) {
  std::unique_ptr<LaunchTemplates> t(new LaunchTemplates(db, clock, std::move(validate)));
  TT_RETURN_IF_ERROR(t->Load());
  return t;
}

absl::Status LaunchTemplates::Load() {
  absl::MutexLock lock(&mu_);
  auto it = db_->Scan(cf_, kPrefix);
  for (it->SeekSuffix(""); it->Valid(); it->Next()) {
    storage::LaunchTemplateRecord record;
    if (!record.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError(absl::StrCat("unreadable launch template ", it->key().ToString()));
    }
    id_by_name_[record.launch_template().launch_template_name()] = record.launch_template().launch_template_id();
    by_id_[record.launch_template().launch_template_id()] = std::move(record);
  }
  return it->status();
}

absl::Status LaunchTemplates::Store(const storage::LaunchTemplateRecord& record) {
  return db_->Put(cf_, absl::StrCat(kPrefix, record.launch_template().launch_template_id()),
                  record.SerializeAsString());
}

absl::StatusOr<storage::LaunchTemplateRecord*> LaunchTemplates::Find(const std::string& id,
                                                                     const std::string& name,
                                                                     const std::string& field) {
  const LaunchTemplates* self = this;
  TT_ASSIGN_OR_RETURN(const storage::LaunchTemplateRecord* found, self->Find(id, name, field));
  return const_cast<storage::LaunchTemplateRecord*>(found);
}

absl::StatusOr<const storage::LaunchTemplateRecord*> LaunchTemplates::Find(
    const std::string& id, const std::string& name, const std::string& field) const {
  if (id.empty() == name.empty()) {
    return InvalidField(field + "launch_template_id", "give the launch template's id or its name",
                        "MissingParameter");
  }
  std::string key = id;
  if (key.empty()) {
    auto n = id_by_name_.find(name);
    if (n == id_by_name_.end()) {
      return ErrorWithReason(absl::StatusCode::kNotFound, "InvalidLaunchTemplateName.NotFoundException",
                             absl::StrCat("The specified launch template, with template name ", name,
                                          ", does not exist."));
    }
    key = n->second;
  }
  auto it = by_id_.find(key);
  if (it == by_id_.end()) {
    return ErrorWithReason(absl::StatusCode::kNotFound, "InvalidLaunchTemplateId.NotFound",
                           absl::StrCat("The specified launch template, with template ID ", id,
                                        ", does not exist."));
  }
  return &it->second;
}

absl::StatusOr<v1::CreateLaunchTemplateResponse> LaunchTemplates::CreateLaunchTemplate(
    const v1::CreateLaunchTemplateRequest& request) {
  TT_RETURN_IF_ERROR(ValidateName(request.launch_template_name()));
  if (request.version_description().size() > 255) {
    return InvalidField("version_description", "at most 255 characters");
  }
  TT_RETURN_IF_ERROR(validate_(request.launch_template_data(), "launch_template_data."));
  absl::MutexLock lock(&mu_);
  if (id_by_name_.count(request.launch_template_name()) > 0) {
    return ErrorWithReason(absl::StatusCode::kAlreadyExists,
                           "InvalidLaunchTemplateName.AlreadyExistsException",
                           absl::StrCat("Launch template name already in use: ",
                                        request.launch_template_name()));
  }
  char id[32];
  do {
    std::snprintf(id, sizeof(id), "lt-%017llx",
                  static_cast<unsigned long long>(rng_() & 0xfffffffffffffffULL));
  } while (by_id_.count(id) > 0);
  const absl::Time now = clock_->Now();
  storage::LaunchTemplateRecord record;
  v1::LaunchTemplate* t = record.mutable_launch_template();
  t->set_launch_template_id(id);
  t->set_launch_template_name(request.launch_template_name());
  *t->mutable_create_time() = ToProto(now);
  t->set_default_version_number(1);
  t->set_latest_version_number(1);
  v1::LaunchTemplateVersion* v = record.add_versions();
  v->set_launch_template_id(id);
  v->set_launch_template_name(request.launch_template_name());
  v->set_version_number(1);
  v->set_version_description(request.version_description());
  *v->mutable_create_time() = ToProto(now);
  *v->mutable_launch_template_data() = request.launch_template_data();
  TT_RETURN_IF_ERROR(Store(record));
  id_by_name_[t->launch_template_name()] = id;
  v1::CreateLaunchTemplateResponse response;
  *response.mutable_launch_template() = *t;
  by_id_[id] = std::move(record);
  return response;
}

absl::StatusOr<v1::CreateLaunchTemplateVersionResponse> LaunchTemplates::CreateLaunchTemplateVersion(
    const v1::CreateLaunchTemplateVersionRequest& request) {
  if (request.version_description().size() > 255) {
    return InvalidField("version_description", "at most 255 characters");
  }
  absl::MutexLock lock(&mu_);
  TT_ASSIGN_OR_RETURN(storage::LaunchTemplateRecord * found,
                      Find(request.launch_template_id(), request.launch_template_name(), ""));
  v1::LaunchTemplateData data = request.launch_template_data();
  if (!request.source_version().empty()) {
    TT_ASSIGN_OR_RETURN(int64_t source, VersionNumber(*found, request.source_version(), "source_version"));
    data = Merged(found->versions(static_cast<int>(source - 1)).launch_template_data(), data);
  }
  TT_RETURN_IF_ERROR(validate_(data, "launch_template_data."));
  storage::LaunchTemplateRecord updated = *found;
  v1::LaunchTemplate* t = updated.mutable_launch_template();
  t->set_latest_version_number(t->latest_version_number() + 1);
  v1::LaunchTemplateVersion* v = updated.add_versions();
  v->set_launch_template_id(t->launch_template_id());
  v->set_launch_template_name(t->launch_template_name());
  v->set_version_number(t->latest_version_number());
  v->set_version_description(request.version_description());
  *v->mutable_create_time() = ToProto(clock_->Now());
  *v->mutable_launch_template_data() = data;
  TT_RETURN_IF_ERROR(Store(updated));
  v1::CreateLaunchTemplateVersionResponse response;
  *response.mutable_launch_template_version() = *v;
  *found = std::move(updated);
  return response;
}

absl::StatusOr<v1::DescribeLaunchTemplatesResponse> LaunchTemplates::DescribeLaunchTemplates(
    const v1::DescribeLaunchTemplatesRequest& request) const {
  std::set<std::string> ids(request.launch_template_ids().begin(), request.launch_template_ids().end());
  std::set<std::string> names(request.launch_template_names().begin(),
                              request.launch_template_names().end());
  v1::DescribeLaunchTemplatesResponse response;
  absl::ReaderMutexLock lock(&mu_);
  for (const auto& name : names) {
    if (id_by_name_.count(name) == 0) TT_RETURN_IF_ERROR(Find("", name, "").status());
  }
  for (const auto& id : ids) {
    if (by_id_.count(id) == 0) TT_RETURN_IF_ERROR(Find(id, "", "").status());
  }
  for (const auto& [name, id] : id_by_name_) {
    if ((!ids.empty() || !names.empty()) && ids.count(id) == 0 && names.count(name) == 0) continue;
    *response.add_launch_templates() = by_id_.at(id).launch_template();
  }
  return response;
}

absl::StatusOr<v1::DescribeLaunchTemplateVersionsResponse> LaunchTemplates::DescribeLaunchTemplateVersions(
    const v1::DescribeLaunchTemplateVersionsRequest& request) const {
  absl::ReaderMutexLock lock(&mu_);
  TT_ASSIGN_OR_RETURN(const storage::LaunchTemplateRecord* found,
                      Find(request.launch_template_id(), request.launch_template_name(), ""));
  std::set<int64_t> wanted;
  for (int i = 0; i < request.versions().size(); ++i) {
    TT_ASSIGN_OR_RETURN(int64_t n, VersionNumber(*found, request.versions(i), absl::StrCat("versions[", i, "]")));
    wanted.insert(n);
  }
  v1::DescribeLaunchTemplateVersionsResponse response;
  for (int i = found->versions_size() - 1; i >= 0; --i) {
    v1::LaunchTemplateVersion v = found->versions(i);
    if (!wanted.empty() && wanted.count(v.version_number()) == 0) continue;
    v.set_default_version(v.version_number() == found->launch_template().default_version_number());
    *response.add_launch_template_versions() = std::move(v);
  }
  return response;
}

absl::StatusOr<v1::ModifyLaunchTemplateResponse> LaunchTemplates::ModifyLaunchTemplate(
    const v1::ModifyLaunchTemplateRequest& request) {
  absl::MutexLock lock(&mu_);
  TT_ASSIGN_OR_RETURN(storage::LaunchTemplateRecord * found,
                      Find(request.launch_template_id(), request.launch_template_name(), ""));
  if (request.default_version().empty() || request.default_version() == "$Default") {
    return InvalidField("default_version", "give a version number or $Latest", "MissingParameter");
  }
  TT_ASSIGN_OR_RETURN(int64_t n, VersionNumber(*found, request.default_version(), "default_version"));
  storage::LaunchTemplateRecord updated = *found;
  updated.mutable_launch_template()->set_default_version_number(n);
  TT_RETURN_IF_ERROR(Store(updated));
  *found = std::move(updated);
  v1::ModifyLaunchTemplateResponse response;
  *response.mutable_launch_template() = found->launch_template();
  return response;
}

absl::StatusOr<v1::DeleteLaunchTemplateResponse> LaunchTemplates::DeleteLaunchTemplate(
    const v1::DeleteLaunchTemplateRequest& request) {
  absl::MutexLock lock(&mu_);
  TT_ASSIGN_OR_RETURN(storage::LaunchTemplateRecord * found,
                      Find(request.launch_template_id(), request.launch_template_name(), ""));
  v1::DeleteLaunchTemplateResponse response;
  *response.mutable_launch_template() = found->launch_template();
  rocksdb::WriteBatch batch;
  batch.Delete(cf_, absl::StrCat(kPrefix, found->launch_template().launch_template_id()));
  TT_RETURN_IF_ERROR(db_->Write(&batch));
  id_by_name_.erase(found->launch_template().launch_template_name());
  by_id_.erase(found->launch_template().launch_template_id());
  return response;
}

absl::StatusOr<v1::LaunchTemplateVersion> LaunchTemplates::Resolve(
    const v1::LaunchTemplateSpecification& spec, const std::string& field) const {
  absl::ReaderMutexLock lock(&mu_);
  TT_ASSIGN_OR_RETURN(const storage::LaunchTemplateRecord* found,
                      Find(spec.launch_template_id(), spec.launch_template_name(), field));
  TT_ASSIGN_OR_RETURN(int64_t n, VersionNumber(*found, spec.version(), field + "version"));
  return found->versions(static_cast<int>(n - 1));
}

void LaunchTemplates::Fill(const v1::LaunchTemplateData& data, v1::RunInstancesRequest* request) {
  if (request->image_id().empty()) request->set_image_id(data.image_id());
  if (request->instance_type().empty()) request->set_instance_type(data.instance_type());
  if (request->key_name().empty()) request->set_key_name(data.key_name());
  if (request->security_groups().empty()) *request->mutable_security_groups() = data.security_groups();
  if (request->user_data().empty()) request->set_user_data(data.user_data());
  if (request->driver() == v1::DRIVER_UNSPECIFIED) request->set_driver(data.driver());
  if (!request->has_load() && data.has_load()) *request->mutable_load() = data.load();
  if (request->tags().empty()) *request->mutable_tags() = data.tags();
}

}  // namespace thingtank::compute
