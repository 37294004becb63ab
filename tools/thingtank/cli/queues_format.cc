#include "tools/thingtank/cli/queues_format.h"

#include <algorithm>
#include <iomanip>
#include <string>
#include <utility>
#include <vector>

#include <google/protobuf/util/time_util.h>

#include "tools/thingtank/cli/cli_common.h"

namespace thingtank::cli::queues {
namespace {

using Rows = std::vector<std::pair<std::string, std::string>>;

void PrintRows(const Rows& rows, const std::string& indent, std::ostream& os) {
  size_t width = 0;
  for (const auto& row : rows) width = std::max(width, row.first.size());
  for (const auto& [key, value] : rows) {
    os << indent;
    if (value.empty()) {
      os << key << ":\n";
    } else {
      os << std::left << std::setw(static_cast<int>(width + 2)) << (key + ":") << value << "\n";
    }
  }
}

std::string Time(const google::protobuf::Timestamp& ts) {
  return google::protobuf::util::TimeUtil::ToString(ts);
}

std::string YesNo(bool value) { return value ? "yes" : "no"; }

// Printable value of a message attribute: the text, or the size of binary data.
std::string AttributeValue(const thingtank::queues::v1::MessageAttributeValue& value) {
  if (value.has_binary_value()) {
    return "<" + std::to_string(value.binary_value().size()) + " bytes>";
  }
  return value.string_value();
}

}  // namespace

void PrintAttributes(const thingtank::queues::v1::GetQueueAttributesResponse& response,
                     std::ostream& os) {
  const auto& a = response.attributes();
  std::string redrive = "none";
  if (a.has_redrive_policy() && !a.redrive_policy().dead_letter_queue_name().empty()) {
    redrive = a.redrive_policy().dead_letter_queue_name() + " (after " +
              std::to_string(a.redrive_policy().max_receive_count()) + " receives)";
  }
  Rows rows = {
      {"name", response.queue().name()},
      {"url", response.queue().url()},
      {"arn", response.queue_arn()},
      {"fifo", YesNo(a.fifo_queue())},
      {"content-based dedup", YesNo(a.content_based_deduplication())},
      {"visibility timeout", FormatDuration(a.visibility_timeout())},
      {"retention", FormatDuration(a.message_retention_period())},
      {"delay", FormatDuration(a.delay())},
      {"max message size", std::to_string(a.maximum_message_size()) + " bytes"},
      {"receive wait", FormatDuration(a.receive_message_wait_time())},
      {"dead-letter queue", redrive},
      {"messages visible", std::to_string(response.approximate_number_of_messages())},
      {"messages in flight",
       std::to_string(response.approximate_number_of_messages_not_visible())},
      {"messages delayed", std::to_string(response.approximate_number_of_messages_delayed())},
  };
  if (response.has_created_time()) rows.emplace_back("created", Time(response.created_time()));
  if (response.has_last_modified_time()) {
    rows.emplace_back("last modified", Time(response.last_modified_time()));
  }
  PrintRows(rows, "", os);
}

void PrintMessages(const thingtank::queues::v1::ReceiveMessagesResponse& response,
                   std::ostream& os) {
  if (response.messages().empty()) {
    os << "no messages\n";
    return;
  }
  bool first = true;
  for (const auto& m : response.messages()) {
    if (!first) os << "\n";
    first = false;
    const auto& sys = m.attributes();
    Rows rows = {
        {"message", m.message_id()},
        {"receipt handle", m.receipt_handle()},
        {"receive count", std::to_string(sys.approximate_receive_count())},
    };
    if (sys.has_sent_timestamp()) rows.emplace_back("sent", Time(sys.sent_timestamp()));
    if (!sys.message_group_id().empty()) rows.emplace_back("group", sys.message_group_id());
    if (!sys.message_deduplication_id().empty()) {
      rows.emplace_back("dedup id", sys.message_deduplication_id());
    }
    if (!sys.sequence_number().empty()) rows.emplace_back("sequence", sys.sequence_number());
    if (!sys.dead_letter_queue_source_arn().empty()) {
      rows.emplace_back("dead-lettered from", sys.dead_letter_queue_source_arn());
    }
    // Sorted for stable output (the map has no order).
    std::vector<std::string> names;
    for (const auto& entry : m.message_attributes()) names.push_back(entry.first);
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      const auto& value = m.message_attributes().at(name);
      rows.emplace_back("attribute " + name, value.data_type() + " " + AttributeValue(value));
    }
    const bool multiline = m.body().find('\n') != std::string::npos;
    rows.emplace_back("body", multiline ? "" : m.body());
    PrintRows(rows, "", os);
    if (multiline) {
      os << m.body();
      if (m.body().back() != '\n') os << "\n";
    }
  }
}

void PrintQueueList(const google::protobuf::RepeatedPtrField<thingtank::queues::v1::QueueSummary>&
                        queues,
                    const std::string& next_page_token, std::ostream& os) {
  size_t width = 0;
  for (const auto& q : queues) width = std::max(width, q.name().size());
  for (const auto& q : queues) {
    os << std::left << std::setw(static_cast<int>(width + 2)) << q.name() << q.url() << "\n";
  }
  if (!next_page_token.empty()) os << "(more: --page-token " << next_page_token << ")\n";
}

}  // namespace thingtank::cli::queues
