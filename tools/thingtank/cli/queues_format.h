#pragma once

// Human-readable output of queues responses (the --json form is the response
// itself). Internal to tools/thingtank/cli.

#include <ostream>

#include "thingtank/queues/v1/queues.pb.h"

namespace thingtank::cli::queues {

// "key: value" lines: name, URL, ARN, every attribute and the counts.
void PrintAttributes(const thingtank::queues::v1::GetQueueAttributesResponse& response,
                     std::ostream& os);

// One block per message: id, receipt handle, receive count, times, FIFO
// fields, attributes and body; "no messages" when empty.
void PrintMessages(const thingtank::queues::v1::ReceiveMessagesResponse& response,
                   std::ostream& os);

// Queue names, one a line, then a hint with the next page token if any.
void PrintQueueList(const google::protobuf::RepeatedPtrField<thingtank::queues::v1::QueueSummary>&
                        queues,
                    const std::string& next_page_token, std::ostream& os);

}  // namespace thingtank::cli::queues
