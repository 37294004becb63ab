#pragma once

// Human-readable output of `thingtank objects` (the --json form is the
// response message). Listings follow `aws s3 ls`: "date time  size key",
// common prefixes as "PRE name/"; times are UTC. Internal to
// tools/thingtank/cli.

#include <map>
#include <ostream>
#include <string>

#include "thingtank/objects/v1/objects.pb.h"

namespace thingtank::cli::objects {

// "2026-12-02 10:00:00" (UTC); "-" when unset.
std::string FormatListTime(const google::protobuf::Timestamp& ts);

// "2026-12-02 10:00:00 name"
std::string BucketLine(const thingtank::objects::v1::Bucket& bucket);
// "2026-12-02 10:00:00       1234 name": the size right-aligned in 10.
std::string ObjectLine(const thingtank::objects::v1::ObjectInfo& info, const std::string& name);
// "                           PRE name/"
std::string PrefixLine(const std::string& name);
// "2026-12-02 10:00:00       1234 VERSION_ID  latest  key" (a delete
// marker shows DELETE-MARKER in the size column; "-" when not latest).
std::string VersionLine(const thingtank::objects::v1::ObjectInfo& info);

// HeadObject's answer as "name: value" lines (metadata and checksums one a
// line each).
void PrintObjectInfo(const thingtank::objects::v1::HeadObjectResponse& response, std::ostream& os);

// Enabled, Suspended, or "not enabled (never versioned)".
std::string VersioningName(thingtank::objects::v1::VersioningStatus status);

// One block per rule: id, status, filter, actions.
void PrintLifecycleRules(
    const google::protobuf::RepeatedPtrField<thingtank::objects::v1::LifecycleRule>& rules,
    std::ostream& os);
// One line per destination: id, ARN, events, prefix/suffix.
void PrintNotifications(const google::protobuf::RepeatedPtrField<
                            thingtank::objects::v1::NotificationConfiguration>& configurations,
                        std::ostream& os);
// "key=value" lines in key order.
void PrintTags(const google::protobuf::Map<std::string, std::string>& tags, std::ostream& os);

}  // namespace thingtank::cli::objects
