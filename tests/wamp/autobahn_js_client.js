// AutobahnJS against a WAMP router: two connections (the first with
// serializer A, the second with serializer B). The second registers
// com.example.js.add2 / com.example.js.fail / com.example.js.progress and
// subscribes to com.example.js.topic; the first publishes (acknowledged) and
// calls. Prints a JSON report as its last stdout line; the assertions are in
// test_wamp_js.py.
//
//   node autobahn_js_client.js ws://127.0.0.1:PORT/ws json|msgpack|cbor [json|msgpack|cbor]
//
// autobahn is resolved from NODE_PATH (the repo's node_modules).
'use strict';

const autobahn = require('autobahn');

const url = process.argv[2];
const serA = process.argv[3] || 'json';
const serB = process.argv[4] || serA;
const TIMEOUT_MS = 10000;

function serializer(name) {
  switch (name) {
    case 'json': return new autobahn.serializer.JSONSerializer();
    case 'msgpack': return new autobahn.serializer.MsgpackSerializer();
    case 'cbor': return new autobahn.serializer.CBORSerializer();
    default: throw new Error('unknown serializer ' + name);
  }
}

function open(name, ser) {
  return new Promise((resolve, reject) => {
    const connection = new autobahn.Connection({
      url: url,
      realm: 'realm1',
      serializers: [serializer(ser)],
      max_retries: 0,
    });
    const timer = setTimeout(() => reject(new Error(name + ': no session within timeout')), TIMEOUT_MS);
    connection.onopen = (session, details) => {
      clearTimeout(timer);
      resolve({connection, session, details});
    };
    connection.onclose = (reason, details) => {
      clearTimeout(timer);
      reject(new Error(name + ': connection closed before open: ' + reason + ' ' + JSON.stringify(details)));
      return true;  // do not retry
    };
    connection.open();
  });
}

function close(c) {
  return new Promise((resolve) => {
    c.connection.onclose = (reason, details) => {
      resolve({reason, details});
      return true;
    };
    c.connection.close();
  });
}

function withTimeout(promise, what) {
  return Promise.race([
    Promise.resolve(promise),
    new Promise((_, reject) => setTimeout(() => reject(new Error('timeout: ' + what)), TIMEOUT_MS)),
  ]);
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function errorInfo(e) {
  if (e instanceof autobahn.Error) return {error: e.error, args: e.args, kwargs: e.kwargs};
  return {other: String(e && e.stack || e)};
}

async function main() {
  const report = {serializers: [serA, serB]};
  const a = await open('A', serA);
  const b = await open('B', serB);
  report.protocols = [a.connection.transport.info.protocol, b.connection.transport.info.protocol];
  report.session_ids = [a.session.id, b.session.id];

  // Callee and subscriber on B.
  await withTimeout(b.session.register('com.example.js.add2', (args) => args[0] + args[1]), 'register add2');
  await withTimeout(b.session.register('com.example.js.fail', () => {
    throw new autobahn.Error('com.example.error', ['bad'], {why: 'testing'});
  }), 'register fail');
  await withTimeout(b.session.register('com.example.js.progress', async (args, kwargs, details) => {
    for (let i = 1; i <= 3; i++) {
      if (details.progress) details.progress([i]);
      await sleep(20);
    }
    return 'done';
  }), 'register progress');
  const events = [];
  await withTimeout(b.session.subscribe('com.example.js.topic', (args, kwargs, details) => {
    events.push([args, kwargs]);
  }), 'subscribe');

  // Publisher and caller on A.
  const published = [];
  for (let i = 0; i < 10; i++) {
    const args = [i, 'msg-' + i, {i: i}];
    const kwargs = {n: i};
    await withTimeout(a.session.publish('com.example.js.topic', args, kwargs, {acknowledge: true}), 'publish');
    published.push([args, kwargs]);
  }
  await withTimeout(a.session.publish('com.example.js.topic', [], {}, {acknowledge: true}), 'publish empty');
  published.push([[], {}]);
  const deadline = Date.now() + 5000;
  while (events.length < published.length && Date.now() < deadline) await sleep(20);
  await sleep(100);
  report.published = published;
  report.events = events;

  report.add2 = await withTimeout(a.session.call('com.example.js.add2', [2, 3]), 'call add2');
  try {
    const r = await withTimeout(a.session.call('com.example.js.fail'), 'call fail');
    report.fail = {resolved: r};
  } catch (e) {
    report.fail = errorInfo(e);
  }
  const progress = [];
  const final = await withTimeout(
    a.session.call('com.example.js.progress', [], {}, {receive_progress: true}).then(
      (r) => r, null, (p) => progress.push(['progress', p])),
    'call progress');
  progress.push(['result', final]);
  report.progressive = progress;
  try {
    const r = await withTimeout(a.session.call('com.example.js.nothing'), 'call nothing');
    report.no_such_procedure = {resolved: r};
  } catch (e) {
    report.no_such_procedure = errorInfo(e);
  }

  const ca = await close(a);
  const cb = await close(b);
  report.close = [ca.reason, ca.details && ca.details.reason, cb.reason, cb.details && cb.details.reason];
  return report;
}

main().then((report) => {
  console.log(JSON.stringify(report));
  process.exit(0);
}, (e) => {
  console.log(JSON.stringify({exception: String(e && e.stack || e)}));
  process.exit(0);
});
