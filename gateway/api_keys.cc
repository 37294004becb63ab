#include "gateway/api_keys.h"

#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace thingtank::gateway {

absl::StatusOr<std::map<std::string, ApiKey>> ParseApiKeys(const std::string& text) {
  std::map<std::string, ApiKey> keys;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    line = line.substr(0, line.find('#'));
    std::vector<std::string> words = absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (words.empty()) continue;
    auto error = [&](absl::string_view what) {
      return absl::InvalidArgumentError(absl::StrCat("api keys line ", line_no, ": ", what));
    };
    if (words.size() < 3 || words.size() > 5) {
      return error("expected <id> <secret> <services> [<rate> [<burst>]]");
    }
    ApiKey key;
    key.id = words[0];
    key.secret = words[1];
    for (absl::string_view s : absl::StrSplit(words[2], ',', absl::SkipEmpty())) {
      key.services.insert(std::string(s));
    }
    if (words.size() >= 4 && (!absl::SimpleAtod(words[3], &key.rate_per_second) || key.rate_per_second <= 0)) {
      return error(absl::StrCat("rate \"", words[3], "\" is not a positive number"));
    }
    key.burst = std::max(key.rate_per_second, 1.0);
    if (words.size() == 5 && (!absl::SimpleAtod(words[4], &key.burst) || key.burst < 1)) {
      return error(absl::StrCat("burst \"", words[4], "\" is not a number >= 1"));
    }
    if (keys.count(key.id)) return error(absl::StrCat("key id \"", key.id, "\" appears twice"));
    keys.emplace(key.id, std::move(key));
  }
  if (keys.empty()) return absl::InvalidArgumentError("api keys file holds no key");
  return keys;
}

absl::StatusOr<std::map<std::string, ApiKey>> LoadApiKeys(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read api keys file ", path));
  std::stringstream text;
  text << in.rdbuf();
  auto keys = ParseApiKeys(text.str());
  if (!keys.ok()) {
    return absl::Status(keys.status().code(), absl::StrCat(path, ": ", keys.status().message()));
  }
  return keys;
}

}  // namespace thingtank::gateway
