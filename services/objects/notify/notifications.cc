#include "services/objects/notify/notifications.h"

#include <optional>

#include "services/objects/notify/event_json.h"
#include "services/objects/storage/object_keys.h"

namespace thingtank::objects {

void Notifications::Stage(Txn& txn, const storage::BucketRecord& bucket, std::string_view event,
                          const storage::VersionRecord& v) {
  // One sequencer per event, shared by the messages of every configuration.
  std::optional<uint64_t> sequencer;
  for (const v1::NotificationConfiguration& configuration : bucket.notifications()) {
    if (!notify::ConfigurationMatches(configuration, event, v.key())) continue;
    const uint64_t seq = txn.NextSeq();
    if (!sequencer) sequencer = seq;
    storage::OutboxRecord record;
    record.set_destination_arn(configuration.destination_arn());
    record.set_event_json(notify::EventJson(
        notify::MessageFor(bucket, configuration, event, v, txn.now(), *sequencer)));
    txn.batch()->Put(txn.cf(keys::kOutbox), keys::OutboxKey(seq), record.SerializeAsString());
  }
}

}  // namespace thingtank::objects
