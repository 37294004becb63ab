#include "tools/thingtank/serve/bootstrap.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_join.h"
#include "tools/thingtank/serve/bootstrap_section.h"
#include "tools/thingtank/serve/bootstrap_yaml.h"
#include "yaml-cpp/yaml.h"

namespace thingtank::serve {
namespace {

// The services whose resources a bootstrap file can hold, in creation order.
// A service adds its section here (and a bootstrap_<service>.cc).
const std::vector<const BootstrapSection*>& BootstrapSections() {
  static const auto* kSections =
      new std::vector<const BootstrapSection*>{&QueuesBootstrapSection(), &TablesBootstrapSection()};
  return *kSections;
}

std::string KnownSections() {
  std::vector<absl::string_view> names;
  for (const auto* section : BootstrapSections()) names.push_back(section->name);
  return absl::StrJoin(names, ", ");
}

absl::Status Invalid(absl::string_view message) { return absl::InvalidArgumentError(message); }

// "tables[1] (readings)", or "tables[1]" when the entry has no usable name
// (under its proto name or its JSON name, tableName).
std::string Label(const BootstrapSection& section, size_t index, const YAML::Node& node) {
  std::string label = absl::StrCat(section.name, "[", index, "]");
  if (!node.IsMap()) return label;
  const google::protobuf::FieldDescriptor* field =
      section.prototype->GetDescriptor()->FindFieldByName(std::string(section.name_field));
  for (const std::string& key : {field->name(), field->json_name()}) {
    const YAML::Node name = node[key];  // const: a missing key is not added
    if (name.IsDefined() && name.IsScalar() && !name.Scalar().empty()) {
      absl::StrAppend(&label, " (", name.Scalar(), ")");
      break;
    }
  }
  return label;
}

absl::StatusOr<BootstrapEntry> ParseEntry(const BootstrapSection& section, size_t index,
                                          const YAML::Node& node) {
  BootstrapEntry entry;
  entry.label = Label(section, index, node);
  entry.request.reset(section.prototype->New());
  if (absl::Status s = MessageFromYaml(node, section.extra_keys, entry.request.get()); !s.ok()) {
    return Invalid(absl::StrCat(entry.label, ": ", s.message()));
  }
  for (absl::string_view key : section.extra_keys) {
    const YAML::Node value = node[std::string(key)];
    if (!value.IsDefined() || value.IsNull()) continue;
    if (!value.IsScalar() || value.Scalar().empty()) {
      return Invalid(absl::StrCat(entry.label, ": ", key, ": must be a non-empty single value"));
    }
    entry.extras[std::string(key)] = value.Scalar();
  }
  return entry;
}

absl::StatusOr<std::vector<BootstrapEntry>> ParseSection(const BootstrapSection& section,
                                                         const YAML::Node& list) {
  std::vector<BootstrapEntry> entries;
  if (list.IsNull()) return entries;
  if (!list.IsSequence()) return Invalid(absl::StrCat(section.name, ": must be a list"));
  const google::protobuf::FieldDescriptor* name_field =
      section.prototype->GetDescriptor()->FindFieldByName(std::string(section.name_field));
  std::map<std::string, std::string> seen;  // name -> label
  for (size_t i = 0; i < list.size(); ++i) {
    auto entry = ParseEntry(section, i, list[i]);
    if (!entry.ok()) return entry.status();
    const std::string name = entry->request->GetReflection()->GetString(*entry->request, name_field);
    if (auto [it, inserted] = seen.emplace(name, entry->label); !inserted) {
      return Invalid(absl::StrCat(entry->label, ": ", section.name_field, ": also at ", it->second));
    }
    entries.push_back(*std::move(entry));
  }
  if (section.order != nullptr) {
    if (absl::Status s = section.order(&entries); !s.ok()) return s;
  }
  return entries;
}

// Every entry of the file, parsed and in creation order, before any call.
absl::StatusOr<std::vector<BootstrapEntry>> ParseFile(const std::string& path,
                                                      std::vector<const BootstrapSection*>* sections) {
  std::ifstream in(path);
  if (!in) return Invalid(absl::StrCat("cannot read: ", std::strerror(errno)));
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return Invalid(absl::StrCat("cannot read: ", std::strerror(errno)));
  YAML::Node root;
  try {
    root = YAML::Load(text.str());
  } catch (const YAML::Exception& e) {
    return Invalid(absl::StrCat("line ", e.mark.line + 1, ", column ", e.mark.column + 1, ": ", e.msg));
  }
  std::vector<BootstrapEntry> all;
  if (root.IsNull()) return all;  // an empty file
  if (!root.IsMap()) {
    return Invalid(absl::StrCat("must be a mapping of service names (", KnownSections(), ") to lists"));
  }
  std::map<absl::string_view, YAML::Node> lists;
  for (const auto& kv : root) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "";
    const BootstrapSection* section = nullptr;
    for (const auto* s : BootstrapSections()) {
      if (s->name == key) section = s;
    }
    if (section == nullptr) {
      return Invalid(absl::StrCat("unknown section \"", key, "\"; known: ", KnownSections()));
    }
    lists[section->name] = kv.second;
  }
  for (const auto* section : BootstrapSections()) {
    auto list = lists.find(section->name);
    if (list == lists.end()) continue;
    auto entries = ParseSection(*section, list->second);
    if (!entries.ok()) return entries.status();
    for (auto& entry : *entries) {
      all.push_back(std::move(entry));
      sections->push_back(section);
    }
  }
  return all;
}

}  // namespace

absl::Status BootstrapCallError(absl::string_view method, const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat(method, ": ", status.error_message()));
}

absl::Status Bootstrap(const std::string& path, const std::shared_ptr<grpc::Channel>& channel,
                       const std::string& authorization) {
  const std::string prefix = absl::StrCat("--bootstrap ", path, ": ");
  std::vector<const BootstrapSection*> sections;
  absl::StatusOr<std::vector<BootstrapEntry>> entries;
  try {
    entries = ParseFile(path, &sections);
  } catch (const YAML::Exception& e) {  // yaml-cpp reports misuse of a node by exception
    entries = Invalid(e.what());
  }
  if (!entries.ok()) {
    return absl::Status(entries.status().code(), absl::StrCat(prefix, entries.status().message()));
  }
  const BootstrapCalls calls(channel, authorization);
  for (size_t i = 0; i < entries->size(); ++i) {
    const BootstrapEntry& entry = (*entries)[i];
    if (absl::Status s = sections[i]->create(entry, calls); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat(prefix, entry.label, ": ", s.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace thingtank::serve
