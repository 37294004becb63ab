#pragma once

// Bucket configurations read from JSON files (`objects lifecycle --set`,
// `objects notifications --set`). Internal to tools/thingtank/cli.
//
// A lifecycle file is {"rules": [LifecycleRule, ...]} (or just the array)
// with the proto's field names in snake_case or lowerCamelCase, e.g.
//   {"rules": [{"id": "logs", "status": "Enabled",
//               "filter": {"prefix": "logs/"},
//               "expiration": {"days": 30},
//               "noncurrent_version_expiration": {"noncurrent_days": 7},
//               "abort_incomplete_multipart_upload": {"days_after_initiation": 2}}]}
// "status" takes Enabled/Disabled (any case) or the proto's enum names. A
// notifications file is {"configurations": [NotificationConfiguration, ...]}
// (or the array). The bucket comes from the command line, never the file.

#include <string>

#include "thingtank/objects/v1/objects.pb.h"

namespace thingtank::cli::objects {

// False with `error` (naming the field when protobuf does) when the text is
// not such a document.
bool ParseLifecycleJson(const std::string& text,
                        thingtank::objects::v1::PutBucketLifecycleConfigurationRequest* out,
                        std::string* error);
bool ParseNotificationsJson(const std::string& text,
                            thingtank::objects::v1::PutBucketNotificationConfigurationRequest* out,
                            std::string* error);

}  // namespace thingtank::cli::objects
