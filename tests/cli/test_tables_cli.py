#!/usr/bin/python3
"""End-to-end tests of `thingtank tables ...` against a real `thingtank serve`.

Starts the server on free ports (port 0) with a temporary data directory,
finds the gateway port in <data-dir>/ports.json and drives the CLI as a user
would: the classic boto DynamoDB example (messages table, hash msgid, range
date), the --plain JSON form, a query by range and errors.
Binary: $THINGTANK_BIN (default build/dev/tools/thingtank/thingtank).
Run: /usr/bin/python3 tests/cli/test_tables_cli.py
"""

import json
import unittest

import test_cli


class TablesCliTest(test_cli.CliTestCase):
    COMMAND = "tables"

    def create_active(self, *args):
        """Creates a table with --wait: the command returns once it is ACTIVE."""
        table = self.json_ok("create", *args, "--wait")["TableDescription"]
        self.assertEqual(table["TableStatus"], "ACTIVE")
        return table

    def test_create_and_delete_wait(self):
        # Without --wait the answer is DynamoDB's: the table is CREATING.
        self.assertRegex(self.ok("create", "cli-nowait", "--hash-key", "id:S", "--on-demand"),
                         r"status: +CREATING\n")
        # With --wait it is ACTIVE when the command returns: a put right after succeeds.
        self.assertRegex(self.ok("create", "cli-wait", "--hash-key", "id:S", "--on-demand", "--wait"),
                         r"status: +ACTIVE\n")
        self.ok("put", "cli-wait", "--plain", "--item", '{"id": "a"}')
        # delete --wait returns once the table is gone (not DELETING).
        self.assertEqual(self.ok("delete", "cli-wait", "--wait"), "deleted table cli-wait\n")
        result = self.cli("describe", "cli-wait")
        self.assertEqual(result.returncode, 1, result)
        self.assertIn("ResourceNotFound", result.stderr)

    def test_classic_example(self):
        # boto: conn.create_schema(hash_key_name='msgid', hash_key_proto_value=str,
        #   range_key_name='date', range_key_proto_value=str);
        # conn.create_table(name='messages', schema=..., read_units=1, write_units=1)
        table = self.create_active("messages", "--hash-key", "msgid:S", "--range-key", "date:S",
                                   "--read-units", "1", "--write-units", "1")
        self.assertEqual(table["KeySchema"], [{"AttributeName": "msgid", "KeyType": "HASH"},
                                              {"AttributeName": "date", "KeyType": "RANGE"}])
        self.assertEqual(table["ProvisionedThroughput"],
                         {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1})
        self.assertEqual(table["BillingModeSummary"], {"BillingMode": "PROVISIONED"})

        # conn.list_tables()
        self.assertIn("messages", self.ok("list").split())
        self.assertIn("messages", self.json_ok("list")["TableNames"])
        # conn.describe_table('messages')
        described = self.ok("describe", "messages")
        self.assertIn("msgid (S)", described)
        self.assertIn("date (S)", described)
        self.assertIn("ACTIVE", described)

        # table.new_item(hash_key='LOLCat Forum', range_key='...', attrs={...}); item.put()
        item = {"msgid": {"S": "LOLCat Forum"}, "date": {"S": "2012-01-01T12:00:00"},
                "Body": {"S": "http://url_to_lolcat.gif"}, "CreatedBy": {"S": "joe"},
                "Time": {"S": "12:00 PM"}}
        self.ok("put", "messages", "--item", json.dumps(item))
        # table.get_item(hash_key='LOLCat Forum', range_key='2012-01-01T12:00:00')
        key = {"msgid": {"S": "LOLCat Forum"}, "date": {"S": "2012-01-01T12:00:00"}}
        got = json.loads(self.ok("get", "messages", "--key", json.dumps(key), "--consistent"))
        self.assertEqual(got, item)
        # The --json form is DynamoDB's GetItem response.
        self.assertEqual(self.json_ok("get", "messages", "--key", json.dumps(key)), {"Item": item})

        # A missing item is not an error.
        missing = self.ok("get", "messages", "--key",
                          json.dumps({"msgid": {"S": "nope"}, "date": {"S": "x"}}))
        self.assertIn("no item", missing)

    def test_plain_round_trip(self):
        self.create_active("cli-plain", "--hash-key", "id:S", "--on-demand")
        item = {"id": "dev-7", "temp": 21.5, "count": 12345678901234567890123456789012345678,
                "ok": True, "none": None, "tags": ["a", 1, False], "meta": {"unit": "C", "n": -3}}
        self.ok("put", "cli-plain", "--plain", "--item", json.dumps(item))
        text = self.ok("get", "cli-plain", "--plain", "--key", '{"id": "dev-7"}')
        self.assertEqual(json.loads(text), item)
        # 38 digits survive exactly (no rounding through double).
        self.assertIn("12345678901234567890123456789012345678", text)
        # The same item in DynamoDB form.
        dynamo = json.loads(self.ok("get", "cli-plain", "--key", '{"id": {"S": "dev-7"}}'))
        self.assertEqual(dynamo["temp"], {"N": "21.5"})
        self.assertEqual(dynamo["tags"], {"L": [{"S": "a"}, {"N": "1"}, {"BOOL": False}]})
        self.assertEqual(dynamo["none"], {"NULL": True})

        # update-item with expression values in plain form.
        updated = json.loads(self.ok("update-item", "cli-plain", "--plain", "--key",
                                     '{"id": "dev-7"}', "--update", "SET #t = #t + :d",
                                     "--names", '{"#t": "temp"}', "--values", '{":d": 0.5}',
                                     "--return", "ALL_NEW"))
        self.assertEqual(updated["temp"], 22)
        self.ok("delete-item", "cli-plain", "--plain", "--key", '{"id": "dev-7"}')
        self.assertIn("no item", self.ok("get", "cli-plain", "--plain", "--key", '{"id": "dev-7"}'))

    def test_query_by_range(self):
        self.create_active("cli-readings", "--hash-key", "device:S", "--range-key", "ts:N",
                           "--on-demand")
        for ts in (5, 10, 20, 100, 2):
            self.ok("put", "cli-readings", "--plain",
                    "--item", json.dumps({"device": "d1", "ts": ts, "v": ts * 2}))
        self.ok("put", "cli-readings", "--plain", "--item", '{"device": "d2", "ts": 7}')
        values = '{":d": "d1", ":lo": 5, ":hi": 20}'
        out = self.ok("query", "cli-readings", "--plain", "--key-condition",
                      "device = :d AND ts BETWEEN :lo AND :hi", "--values", values)
        lines = out.splitlines()
        items = [json.loads(line) for line in lines if line.startswith("{")]
        # Numeric order: 5 before 10 before 20.
        self.assertEqual([i["ts"] for i in items], [5, 10, 20])
        self.assertIn("3 items", out)

        backward = self.json_ok("query", "cli-readings", "--plain", "--key-condition",
                                "device = :d AND ts BETWEEN :lo AND :hi", "--values", values,
                                "--backward")
        self.assertEqual([i["ts"] for i in backward["Items"]], [20, 10, 5])
        self.assertEqual((backward["Count"], backward["ScannedCount"]), (3, 3))
        self.assertNotIn("LastEvaluatedKey", backward)

        # Pages: --limit, then --start-key from the "more" hint.
        first = self.json_ok("query", "cli-readings", "--key-condition", "device = :d",
                             "--values", '{":d": {"S": "d1"}}', "--limit", "2")
        self.assertEqual(len(first["Items"]), 2)
        self.assertEqual(first["LastEvaluatedKey"], {"device": {"S": "d1"}, "ts": {"N": "5"}})
        # The key printed is valid --start-key input.
        rest = self.json_ok("query", "cli-readings", "--key-condition", "device = :d",
                            "--values", '{":d": {"S": "d1"}}',
                            "--start-key", json.dumps(first["LastEvaluatedKey"]))
        self.assertEqual([i["ts"] for i in rest["Items"]], [{"N": "10"}, {"N": "20"}, {"N": "100"}])
        page = self.ok("query", "cli-readings", "--key-condition", "device = :d",
                       "--values", '{":d": {"S": "d1"}}', "--limit", "2")
        self.assertIn("--start-key", page)

        counted = self.ok("query", "cli-readings", "--key-condition", "device = :d",
                          "--values", '{":d": {"S": "d1"}}', "--count")
        self.assertIn("5 items", counted)
        scanned = self.json_ok("scan", "cli-readings")
        self.assertEqual((scanned["Count"], scanned["ScannedCount"], len(scanned["Items"])),
                         (6, 6, 6))

    def test_batches_and_transactions(self):
        self.create_active("cli-batch", "--hash-key", "id:S", "--on-demand")
        self.create_active("cli-batch2", "--hash-key", "id:S", "--on-demand")
        # BatchWriteItem over two tables, in DynamoDB's request shape.
        written = self.ok("batch-write", "--request-items", json.dumps({
            "cli-batch": [{"PutRequest": {"Item": {"id": {"S": "a"}, "n": {"N": "1"}}}},
                          {"PutRequest": {"Item": {"id": {"S": "b"}}}}],
            "cli-batch2": [{"PutRequest": {"Item": {"id": {"S": "x"}}}}]}))
        self.assertIn("all writes done", written)
        got = self.ok("batch-get", "--request-items", json.dumps({
            "cli-batch": {"Keys": [{"id": {"S": "a"}}, {"id": {"S": "b"}}, {"id": {"S": "zz"}}],
                          "ConsistentRead": True},
            "cli-batch2": {"Keys": [{"id": {"S": "x"}}], "ProjectionExpression": "id"}}))
        lines = got.splitlines()
        self.assertEqual(sorted(lines[:3]), ['cli-batch {"id":{"S":"a"},"n":{"N":"1"}}',
                                             'cli-batch {"id":{"S":"b"}}',
                                             'cli-batch2 {"id":{"S":"x"}}'])
        self.assertEqual(lines[3], "3 items")

        # TransactWriteItems: all or nothing.
        increment = {"Update": {"TableName": "cli-batch", "Key": {"id": {"S": "a"}},
                                "UpdateExpression": "SET n = n + :one",
                                "ExpressionAttributeValues": {":one": {"N": "1"}}}}
        check_b = {"ConditionCheck": {"TableName": "cli-batch", "Key": {"id": {"S": "b"}},
                                      "ConditionExpression": "attribute_exists(id)"}}
        applied = self.ok("transact-write", "--transact-items",
                          json.dumps([increment, check_b]), "--token", "cli-token-1")
        self.assertIn("2 actions applied", applied)
        # The same token again within 10 minutes: nothing applied twice.
        self.ok("transact-write", "--transact-items", json.dumps([increment, check_b]),
                "--token", "cli-token-1")
        check_zz = {"ConditionCheck": {"TableName": "cli-batch", "Key": {"id": {"S": "zz"}},
                                       "ConditionExpression": "attribute_exists(id)"}}
        failed = self.cli("transact-write", "--transact-items", json.dumps([increment, check_zz]))
        self.assertEqual(failed.returncode, 1)
        self.assertIn("TransactionCanceledException", failed.stderr)
        read = self.ok("transact-get", "--transact-items", json.dumps([
            {"Get": {"TableName": "cli-batch", "Key": {"id": {"S": "a"}}}},
            {"Get": {"TableName": "cli-batch2", "Key": {"id": {"S": "nope"}}}}]))
        self.assertEqual(read.splitlines(), ['{"id":{"S":"a"},"n":{"N":"2"}}', "{}"])

        # --plain keeps numbers exact; --json prints the response message.
        self.ok("batch-write", "--plain", "--request-items",
                '{"cli-batch": [{"PutRequest": {"Item": {"id": "p", '
                '"pi": 3.14159265358979323846264338327950288}}}]}')
        self.assertIn('"pi":3.14159265358979323846264338327950288',
                      self.ok("get", "cli-batch", "--plain", "--key", '{"id": "p"}'))
        response = self.json_ok("batch-write", "--request-items", json.dumps(
            {"cli-batch": [{"DeleteRequest": {"Key": {"id": {"S": "p"}}}}]}))
        self.assertEqual(response, {"UnprocessedItems": {}})

        # Malformed requests name the place.
        result = self.cli("batch-write", "--request-items",
                          '{"cli-batch": [{"PutRequest": {"Itm": {}}}]}')
        self.assertEqual(result.returncode, 2)
        self.assertIn("RequestItems.cli-batch[0].PutRequest.Itm", result.stderr)
        result = self.cli("transact-write", "--transact-items", '{"Put": {}}')
        self.assertEqual(result.returncode, 2)
        self.assertIn("TransactItems: expected a JSON array", result.stderr)
        result = self.cli("batch-get", "--request-items",
                          '{"cli-batch": {"Keys": [{"id": {"N": "1"}}]}}')
        self.assertEqual(result.returncode, 1)
        self.assertIn("must be of type S", result.stderr)

    # One value of every attribute type, some nested (DynamoDB form).
    TYPED_VALUES = {
        "S": {"S": "caf\u00e9 \"quoted\""},
        "N": {"N": "-12.5"},
        "B": {"B": "AAEC/w=="},
        "BOOL": {"BOOL": False},
        "NULL": {"NULL": True},
        "L": {"L": [{"S": "a"}, {"N": "1"}, {"L": [{"BOOL": True}]}, {"M": {"k": {"NULL": True}}},
                    {"SS": ["x"]}]},
        "M": {"M": {"inner": {"M": {"deep": {"N": "7"}}}, "list": {"L": [{"B": "/w=="}]},
                    "ns": {"NS": ["1", "2"]}}},
        "SS": {"SS": ["a", "b"]},
        "NS": {"NS": ["1", "2.5"]},
        "BS": {"BS": ["AA==", "AQ=="]},
    }

    def sets_sorted(self, value):
        """`value` with the members of every set sorted (a set has no order)."""
        if isinstance(value, dict):
            return {k: sorted(v) if k in ("SS", "NS", "BS") else self.sets_sorted(v)
                    for k, v in value.items()}
        if isinstance(value, list):
            return [self.sets_sorted(v) for v in value]
        return value

    def round_trip(self, table, key, *plain):
        """get --json, delete, put --item (the get output on stdin), get --json again;
        returns (first output, second output)."""
        first = self.ok("get", table, *plain, "--key", key, "--consistent", "--json")
        self.ok("delete-item", table, *plain, "--key", key)
        self.assertEqual(self.json_ok("get", table, *plain, "--key", key, "--consistent"), {})
        self.assertEqual(self.ok("put", table, *plain, "--item", "-", stdin=first), "put item\n")
        second = self.ok("get", table, *plain, "--key", key, "--consistent", "--json")
        return json.loads(first), json.loads(second)

    def test_json_round_trip_every_type(self):
        self.create_active("cli-types", "--hash-key", "id:S", "--on-demand")
        for type_name, value in self.TYPED_VALUES.items():
            with self.subTest(type=type_name):
                item = {"id": {"S": "t-" + type_name}, "v": value}
                self.ok("put", "cli-types", "--item", json.dumps(item))
                key = json.dumps({"id": item["id"]})
                first, second = self.round_trip("cli-types", key)
                self.assertEqual(self.sets_sorted(first), {"Item": self.sets_sorted(item)})
                self.assertEqual(second, first)
        # Every type in one item, and the human output (the item itself) as input too.
        item = {"id": {"S": "all"}, **{"v" + t: v for t, v in self.TYPED_VALUES.items()}}
        self.ok("put", "cli-types", "--item", json.dumps(item))
        first, second = self.round_trip("cli-types", '{"id": {"S": "all"}}')
        self.assertEqual(self.sets_sorted(first), {"Item": self.sets_sorted(item)})
        self.assertEqual(second, first)
        human = self.ok("get", "cli-types", "--key", '{"id": {"S": "all"}}')
        self.ok("put", "cli-types", "--item", human)
        self.assertEqual(self.json_ok("get", "cli-types", "--key", '{"id": {"S": "all"}}'), first)

    def test_plain_json_round_trip(self):
        # The types plain JSON can express: S, N, BOOL, NULL, L and M, nested.
        self.create_active("cli-plain-types", "--hash-key", "id:S", "--on-demand")
        plain_values = {"S": "text", "N": 12345678901234567890123456789012345678, "N2": -0.5,
                        "BOOL": True, "NULL": None, "L": [1, "two", [False, None], {"k": 3}],
                        "M": {"a": {"b": {"c": [1.5]}}, "e": []}}
        for type_name, value in plain_values.items():
            with self.subTest(type=type_name):
                item = {"id": "p-" + type_name, "v": value}
                self.ok("put", "cli-plain-types", "--plain", "--item", json.dumps(item))
                key = json.dumps({"id": item["id"]})
                first, second = self.round_trip("cli-plain-types", key, "--plain")
                self.assertEqual(first, {"Item": item})
                self.assertEqual(second, first)
        # --plain --json of a query: DynamoDB's shape, plain values, exact numbers.
        text = self.ok("query", "cli-plain-types", "--plain", "--json", "--key-condition",
                       "id = :i", "--values", '{":i": "p-N"}')
        self.assertEqual(json.loads(text), {"Items": [{"id": "p-N", "v": plain_values["N"]}],
                                            "Count": 1, "ScannedCount": 1})
        self.assertIn("12345678901234567890123456789012345678", text)

    def test_json_shapes(self):
        self.create_active("cli-shapes", "--hash-key", "id:S", "--range-key", "n:N",
                           "--on-demand")
        table = self.json_ok("describe", "cli-shapes")["Table"]
        self.assertEqual(table["TableName"], "cli-shapes")
        self.assertEqual(table["TableStatus"], "ACTIVE")
        self.assertEqual(table["KeySchema"], [{"AttributeName": "id", "KeyType": "HASH"},
                                              {"AttributeName": "n", "KeyType": "RANGE"}])
        self.assertEqual(table["AttributeDefinitions"],
                         [{"AttributeName": "id", "AttributeType": "S"},
                          {"AttributeName": "n", "AttributeType": "N"}])
        self.assertEqual(table["BillingModeSummary"], {"BillingMode": "PAY_PER_REQUEST"})
        self.assertEqual((table["ItemCount"], table["TableSizeBytes"]), (0, 0))
        self.assertIsInstance(table["CreationDateTime"], (int, float))
        self.assertTrue(table["TableArn"].endswith(":table/cli-shapes"), table["TableArn"])

        self.ok("put", "cli-shapes", "--item", '{"id": {"S": "a"}, "n": {"N": "1"}}')
        # A missing item: {} as DynamoDB answers.
        self.assertEqual(self.json_ok("get", "cli-shapes", "--key",
                                      '{"id": {"S": "zz"}, "n": {"N": "1"}}'), {})
        old = self.json_ok("put", "cli-shapes", "--return", "ALL_OLD", "--item",
                           '{"id": {"S": "a"}, "n": {"N": "1"}, "x": {"S": "new"}}')
        self.assertEqual(old, {"Attributes": {"id": {"S": "a"}, "n": {"N": "1"}}})
        self.assertEqual(self.json_ok("scan", "cli-shapes", "--count"),
                         {"Items": [], "Count": 1, "ScannedCount": 1})
        got = self.json_ok("batch-get", "--request-items", json.dumps(
            {"cli-shapes": {"Keys": [{"id": {"S": "a"}, "n": {"N": "1"}}],
                            "ProjectionExpression": "x"}}))
        self.assertEqual(got, {"Responses": {"cli-shapes": [{"x": {"S": "new"}}]},
                               "UnprocessedKeys": {}})
        read = self.json_ok("transact-get", "--transact-items", json.dumps([
            {"Get": {"TableName": "cli-shapes", "Key": {"id": {"S": "a"}, "n": {"N": "1"}}}},
            {"Get": {"TableName": "cli-shapes", "Key": {"id": {"S": "b"}, "n": {"N": "1"}}}}]))
        self.assertEqual(read, {"Responses": [
            {"Item": {"id": {"S": "a"}, "n": {"N": "1"}, "x": {"S": "new"}}}, {}]})
        self.assertEqual(self.json_ok("ttl", "cli-shapes"),
                         {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}})

    def test_unknown_table(self):
        result = self.cli("describe", "cli-no-such-table")
        self.assertEqual(result.returncode, 1)
        self.assertTrue(result.stderr.startswith("error: "), result.stderr)
        self.assertIn("cli-no-such-table", result.stderr)

        result = self.cli("get", "cli-no-such-table", "--key", '{"k": {"S": "x"}}')
        self.assertEqual(result.returncode, 1)
        self.assertIn("cli-no-such-table", result.stderr)

        result = self.cli("describe", "cli-no-such-table", "--json")
        self.assertEqual(result.returncode, 1)
        error = json.loads(result.stderr)["error"]
        self.assertEqual(error["code"], "NOT_FOUND")
        self.assertIn("cli-no-such-table", error["message"])

    def test_usage_errors(self):
        result = self.cli("create", "cli-x", "--hash-key", "id:Q", "--on-demand")
        self.assertEqual(result.returncode, 2)
        self.assertIn("--hash-key", result.stderr)
        result = self.cli("create", "cli-x", "--hash-key", "id:S")
        self.assertEqual(result.returncode, 2)
        result = self.cli("put", "cli-x", "--item", '{"id": {"X": "1"}}')
        self.assertEqual(result.returncode, 2)
        self.assertIn("id", result.stderr)
        result = self.cli("put", "cli-x", "--item", '{"id": ')
        self.assertEqual(result.returncode, 2)
        self.assertIn("invalid JSON", result.stderr)
        self.assertEqual(self.cli("no-such-command").returncode, 2)
        self.assertEqual(self.cli("--help").returncode, 0)
        self.assertIn("--key-condition", self.ok("query", "--help"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
