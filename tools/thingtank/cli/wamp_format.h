#pragma once

// WAMP arguments on the command line and the output of `thingtank wamp ...`.
// Internal to tools/thingtank/cli.
//
// WAMP arguments travel as JSON text (args_json: an array, kwargs_json: an
// object). Output keeps them JSON: integers stay exact (no rounding through
// double) and strings are quoted.

#include <ostream>
#include <string>
#include <vector>

#include "thingtank/wamp/v1/wamp.pb.h"

namespace thingtank::cli::wamp {

// The positional arguments of publish and call as a JSON array: each one is
// taken as JSON when it parses as JSON (42, true, null, {"a": 1}, "\"42\""),
// else as a string (hello).
std::string ArgumentsJson(const std::vector<std::string>& args);

// Checks --args (`object` false: a JSON array) or --kwargs (`object` true: a
// JSON object) and returns it compacted; false with a one-line `error`
// (without the flag name) when malformed.
bool NormalizeJson(const std::string& text, bool object, std::string* out, std::string* error);

// The result of a call. Human form: each positional result as JSON, one a
// line, then the keyword results as one JSON object if there are any. JSON
// form: {"args": [...], "kwargs": {...}}.
void PrintCallResult(const thingtank::wamp::v1::CallResponse& response, bool json,
                     std::ostream& os);

// One event, one line. Human form: `<topic> <args json> <kwargs json>`. JSON
// form: {"topic", "publication", "args", "kwargs", "publisher"}.
void PrintEvent(const thingtank::wamp::v1::SubscribeResponse& event, bool json,
                std::ostream& os);

// One line: id, realm, kind and what goes where, e.g.
// `r-1  realm1  topic-to-queue  test-topic (exact) -> queue q1`.
std::string DescribeRule(const thingtank::wamp::v1::Rule& rule);

// One rule a line (DescribeRule), "no rules" when there is none.
void PrintRules(const thingtank::wamp::v1::ListRulesResponse& response, std::ostream& os);

}  // namespace thingtank::cli::wamp
