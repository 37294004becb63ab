#include "services/common/testing/temp_db.h"

#include <stdio.h>
#include <stdlib.h>

#include <filesystem>

namespace thingtank {

TempDir::TempDir(const std::string& prefix) {
  std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "XXXXXX")).string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    perror("mkdtemp");
    abort();
  }
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

absl::StatusOr<std::unique_ptr<Db>> OpenTempDb(const TempDir& dir, std::vector<std::string> cfs,
                                               rocksdb::Env* env) {
  Db::Options o;
  o.path = dir.path();
  o.column_families = std::move(cfs);
  o.env = env;
  return Db::Open(o);
}

}  // namespace thingtank
