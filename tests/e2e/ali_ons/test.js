'use strict';
// End-to-end test: the independent npm RocketMQ client `ali-ons` against the rmq-connect embedded
// name server + broker. Run by run.sh in two separate processes against the same broker:
//
//   node test.js first   --namesrv H:P --topic T --group G
//     a producer sends MAIN_COUNT messages with keys and tags TagA/TagB (plus NOISE_COUNT TagC
//     messages the subscription must filter out), half before and half after a push consumer of
//     group G subscribed to "TagA || TagB" starts; checks every body/key/tag arrives exactly once and
//     no TagC message does; waits until the consumer's offsets reach the queue ends, commits them
//     and checks the broker reports them (QUERY_CONSUMER_OFFSET == GET_MAX_OFFSET on every queue).
//
//   node test.js restart --namesrv H:P --topic T --group G
//     a new consumer process of the same group: once it owns every queue it must receive nothing
//     old; then RESTART_COUNT new messages (+ noise) are sent and exactly those must arrive. The
//     handler asks for one of them to be retried (CONSUMER_SEND_MSG_BACK): it must come back once
//     through %RETRY%<group> (after the broker's retry delay, if any) with reconsumeTimes 1.
//
//   node test.js acl --namesrv H:P --topic T --group G --access-key AK --secret-key SK
//     against a broker started with --acl-account AK:SK: ali-ons signs every request itself
//     (HMAC-SHA1 over the sorted extFields values, including its own OnsChannel, plus the body);
//     signed clients create the topic, send ACL_COUNT messages and consume them all; a client with
//     a wrong secret and one without keys are refused.
//
// Every COMPRESS_EVERY-th message has a body above ali-ons' 4 KiB threshold, so it travels
// zlib-compressed (sysFlag 0x1). Error events from ali-ons fail the test, except the expected
// "no route for %RETRY%<group>" of a group's very first start.
//
// Exit code 0 = pass; any failure prints "FAIL: ..." and exits 1.

const { Producer, Consumer, Message } = require('ali-ons');
const assert = require('assert');

const MAIN_COUNT = 1000;
const NOISE_EVERY = 10; // one TagC message after every 10th main message
const RESTART_COUNT = 20;
const COMPRESS_EVERY = 50; // bodies of 6000 bytes: ali-ons compresses bodies over 4096 bytes
const RETRY_KEY = 'restart-key-7';
const ACL_COUNT = 50;
const SUBSCRIPTION = 'TagA || TagB';

function parseArgs(argv) {
  const args = { phase: argv[0] };
  for (let i = 1; i < argv.length; i += 2) {
    args[argv[i].replace(/^--/, '')] = argv[i + 1];
  }
  const required = [ 'phase', 'namesrv', 'topic', 'group' ];
  if (args.phase === 'acl') required.push('access-key', 'secret-key');
  for (const k of required) {
    if (!args[k]) {
      throw new Error(`missing argument ${k}; usage: test.js first|restart --namesrv H:P --topic T --group G`);
    }
  }
  return args;
}

const args = parseArgs(process.argv.slice(2));

// Record every request code ali-ons sends and the response codes it gets back (printed at the end);
// a REQUEST_CODE_NOT_SUPPORTED (3) answer to anything fails the test.
const wire = new Map(); // request code -> Map(response code -> count)
const notSupported = [];
{
  const Channel = require('ali-ons/lib/channel');
  const invoke = Channel.prototype.invoke;
  Channel.prototype.invoke = async function(command, timeout) {
    const response = await invoke.call(this, command, timeout);
    if (!wire.has(command.code)) wire.set(command.code, new Map());
    const codes = wire.get(command.code);
    codes.set(response.code, (codes.get(response.code) || 0) + 1);
    if (response.code === 3) notSupported.push(`${command.code} -> 3 ${response.remark}`);
    return response;
  };
  // ali-ons' "oneway" requests (UPDATE_CONSUMER_OFFSET) do not wait for the reply: count them as "-".
  const invokeOneway = Channel.prototype.invokeOneway;
  Channel.prototype.invokeOneway = function(command) {
    if (!wire.has(command.code)) wire.set(command.code, new Map());
    const codes = wire.get(command.code);
    codes.set('-', (codes.get('-') || 0) + 1);
    return invokeOneway.call(this, command);
  };
}
function wireSummary() {
  return Array.from(wire.keys()).sort((a, b) => a - b)
    .map(req => `${req}->{${Array.from(wire.get(req)).map(([c, n]) => `${c}:${n}`).join(',')}}`).join(' ');
}
const t0 = Date.now();
function log(...parts) {
  console.log(`[ali-ons ${args.phase} +${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...parts);
}
function fail(msg) {
  console.log(`FAIL (${args.phase}): ${msg}`);
  process.exit(1);
}
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));
async function waitFor(what, timeoutMs, pred) {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

// ali-ons logs warnings/errors to the console by default; keep them, drop info/debug and the
// producer's harmless "updateTopicPublishInfo() prev is not null" dump of its whole route table.
const logger = {
  info() {},
  debug() {},
  warn(...a) {
    if (typeof a[0] === 'string' && a[0].includes('prev is not null')) return;
    console.warn('[ali-ons warn]', ...a);
  },
  error(...a) { console.warn('[ali-ons error]', ...a); },
};

// ali-ons normally asks an Aliyun HTTP address server for the name server list; `nameSrv` skips
// that, but the constructor still asserts an httpclient exists. No accessKey/secretKey: the client
// then does not sign requests (our broker runs with ACL off).
const clientOptions = {
  nameSrv: args.namesrv,
  httpclient: { request: async () => { throw new Error('no HTTP address server in this test'); } },
  logger,
};

const errors = [];
function onError(source) {
  return err => {
    // Expected once per run: ali-ons asks for the route of %RETRY%<group> before its first
    // heartbeat makes the broker create that topic (the same happens against Apache RocketMQ).
    const text = `${err && err.name}: ${err && err.message}`;
    if (!/No topic route info in name server for the topic: %RETRY%/.test(text)) errors.push(`${source}: ${text}`);
    console.warn(`[ali-ons ${source} error event] ${err && err.name}: ${err && err.message}`);
  };
}

function makeProducer(extra) {
  const producer = new Producer(Object.assign({}, clientOptions, { producerGroup: `${args.group}_PRODUCER` }, extra));
  producer.on('error', onError('producer'));
  return producer;
}

// Received messages by key; duplicates and unexpected ones are recorded for the checks.
const received = new Map();
const duplicates = [];
const unexpectedTags = [];
let retryFirst = null; // the first delivery of RETRY_KEY, answered with ACTION_RETRY

function makeConsumer(extra) {
  const consumer = new Consumer(Object.assign({}, clientOptions, {
    consumerGroup: args.group,
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    parallelConsumeLimit: 8,
  }, extra));
  consumer.on('error', onError('consumer'));
  consumer.subscribe(args.topic, SUBSCRIPTION, async msg => {
    const key = msg.keys;
    if (args.phase === 'restart' && key === RETRY_KEY && !retryFirst) {
      retryFirst = { msgId: msg.msgId, body: msg.body.toString(), reconsumeTimes: msg.reconsumeTimes };
      return Consumer.ACTION_RETRY;
    }
    if (msg.tags !== 'TagA' && msg.tags !== 'TagB') unexpectedTags.push(`${key}:${msg.tags}`);
    if (received.has(key)) duplicates.push(key);
    received.set(key, {
      body: msg.body.toString(), tags: msg.tags, topic: msg.topic, queueId: msg.queueId, queueOffset: msg.queueOffset,
      reconsumeTimes: msg.reconsumeTimes, originMessageId: msg.originMessageId, retryTopic: msg.retryTopic,
    });
  });
  return consumer;
}

// Sends messages [from, to) of a series with at most `parallel` sends in flight. Every NOISE_EVERY-th
// message is followed by a TagC message that the consumer must never see.
async function sendRange(producer, prefix, from, to, expected) {
  const parallel = 16;
  let next = from;
  let noise = 0;
  async function worker() {
    while (next < to) {
      const i = next++;
      const tag = i % 2 === 0 ? 'TagA' : 'TagB';
      const key = `${prefix}-key-${i}`;
      const pad = i % COMPRESS_EVERY === COMPRESS_EVERY - 1 ? 6000 : i % 50;
      const body = `${prefix}-body-${i}-${'x'.repeat(pad)}`;
      const msg = new Message(args.topic, tag, body);
      msg.keys = [ key ];
      const r = await producer.send(msg);
      if (r.sendStatus !== 'SEND_OK') fail(`send of ${key} returned ${JSON.stringify(r)}`);
      expected.set(key, { body, tags: tag });
      if (i % NOISE_EVERY === NOISE_EVERY - 1) {
        const n = new Message(args.topic, 'TagC', `${prefix}-noise-${i}`);
        n.keys = [ `${prefix}-noise-${i}` ];
        const rn = await producer.send(n);
        if (rn.sendStatus !== 'SEND_OK') fail(`send of noise ${i} returned ${JSON.stringify(rn)}`);
        noise++;
      }
    }
  }
  await Promise.all(Array.from({ length: parallel }, worker));
  return noise;
}

function checkReceived(expected) {
  if (duplicates.length) fail(`${duplicates.length} duplicate deliveries, e.g. ${duplicates.slice(0, 5).join(', ')}`);
  if (unexpectedTags.length) fail(`messages outside "${SUBSCRIPTION}" delivered: ${unexpectedTags.slice(0, 5).join(', ')}`);
  for (const [ key, got ] of received) {
    const want = expected.get(key);
    if (!want) fail(`unexpected message delivered: key ${key} (queue ${got.queueId} offset ${got.queueOffset})`);
    if (want.body !== got.body) fail(`body mismatch for ${key}: ${JSON.stringify(got.body)} != ${JSON.stringify(want.body)}`);
    if (want.tags !== got.tags) fail(`tag mismatch for ${key}: ${got.tags} != ${want.tags}`);
    if (got.topic !== args.topic) fail(`topic of ${key} is ${got.topic}`);
  }
  for (const key of expected.keys()) {
    if (!received.has(key)) fail(`message ${key} never arrived`);
  }
}

// The consumer's assigned queues of our topic, as ali-ons MessageQueue objects.
function ownedQueues(consumer) {
  return Array.from(consumer.processQueueTable.values())
    .map(item => item.messageQueue)
    .filter(mq => mq.topic === args.topic);
}

async function brokerOffsets(consumer, mq) {
  const client = consumer._mqClient;
  const addr = client.findBrokerAddressInPublish(mq.brokerName);
  const committed = await client.queryConsumerOffset(addr,
    { consumerGroup: args.group, topic: mq.topic, queueId: mq.queueId }, 3000);
  const max = await client.maxOffset(mq);
  return { committed, max };
}

// ali-ons cannot auto-create a topic: on GET_ROUTEINFO_BY_TOPIC code 17 it throws instead of
// falling back to the TBW102 route as the Java producer does (the same happens against a real
// broker). So create the topic explicitly with UPDATE_AND_CREATE_TOPIC (17), sent by ali-ons itself
// to the broker found in TBW102's route, and wait until the name server routes it.
async function createTopic(producer) {
  const client = producer._mqClient;
  const route = await client.getDefaultTopicRouteInfoFromNameServer('TBW102', 3000);
  if (!route || !route.brokerDatas.length) fail(`no TBW102 route from the name server: ${JSON.stringify(route)}`);
  for (const bd of route.brokerDatas) {
    await client.createTopic(bd.brokerAddrs[0], 'TBW102', {
      topicName: args.topic, readQueueNums: 4, writeQueueNums: 4, perm: 6,
      topicFilterType: 'SINGLE_TAG', topicSysFlag: 0, order: false,
    }, 3000);
  }
  await waitFor(`a name-server route for ${args.topic}`, 30000, async () => {
    try {
      const r = await client.getTopicRouteInfoFromNameServer(args.topic, 3000);
      return r && r.queueDatas.length > 0;
    } catch (err) {
      return false;
    }
  });
  log(`created topic ${args.topic} on ${route.brokerDatas.map(bd => bd.brokerAddrs[0]).join(', ')}`);
  return route.brokerDatas[0].brokerAddrs[0];
}

async function phaseFirst() {
  const producer = makeProducer();
  await producer.ready();
  await createTopic(producer);
  const expected = new Map();
  const half = MAIN_COUNT / 2;
  let noise = await sendRange(producer, 'first', 0, half, expected);
  log(`sent ${half} messages (+${noise} TagC) before the consumer started`);

  const consumer = makeConsumer();
  await consumer.ready();
  log('consumer ready');
  noise += await sendRange(producer, 'first', half, MAIN_COUNT, expected);
  log(`sent ${MAIN_COUNT} messages (+${noise} TagC) in total`);

  await waitFor(`${MAIN_COUNT} messages to arrive (have ${received.size})`, 120000,
    () => received.size >= MAIN_COUNT);
  log(`received ${received.size} messages`);
  checkReceived(expected);

  const queues = ownedQueues(consumer);
  if (!queues.length) fail('the consumer owns no queue of the topic');
  // ali-ons advances its in-memory offset after the handler returns and past trailing TagC entries
  // when a pull comes back NO_MATCHED; wait until every queue's offset reaches the queue end, then
  // commit (UPDATE_CONSUMER_OFFSET) and check the broker stored exactly that.
  const maxes = new Map();
  for (const mq of queues) maxes.set(mq.key, (await brokerOffsets(consumer, mq)).max);
  const total = Array.from(maxes.values()).reduce((a, b) => a + b, 0);
  if (total !== MAIN_COUNT + noise) fail(`queue max offsets add up to ${total}, sent ${MAIN_COUNT + noise}`);
  await waitFor('in-memory consumer offsets to reach the queue ends', 45000,
    () => queues.every(mq => consumer._offsetStore.offsetTable.get(mq.key) === maxes.get(mq.key)));
  await consumer.persistConsumerOffset();
  for (const mq of queues) {
    const o = await brokerOffsets(consumer, mq);
    if (o.committed !== o.max) fail(`queue ${mq.queueId}: broker committed offset ${o.committed}, max offset ${o.max}`);
  }
  log(`committed offsets on ${queues.length} queues: ${queues.map(mq => `${mq.queueId}=${maxes.get(mq.key)}`).join(' ')}`);

  await consumer.close();
  await producer.close();
  log(`PASS: ${MAIN_COUNT} messages with keys and tags received exactly once, ${noise} TagC filtered out, offsets committed`);
}

async function phaseRestart() {
  const consumer = makeConsumer();
  await consumer.ready();
  // Wait until the rebalance gave this (only) member all queues of the topic and each queue's
  // starting offset was read from the broker; then give the first pulls time to come back.
  await waitFor('the restarted consumer to own every queue', 60000, () => {
    const all = consumer._topicSubscribeInfoTable.get(args.topic);
    return all && all.length > 0 && ownedQueues(consumer).length === all.length;
  });
  const queues = ownedQueues(consumer);
  for (const mq of queues) {
    const o = await brokerOffsets(consumer, mq);
    if (o.committed !== o.max) fail(`queue ${mq.queueId}: committed offset ${o.committed} != max offset ${o.max} at restart`);
  }
  await sleep(3000);
  if (received.size) fail(`restarted consumer re-read ${received.size} old messages, e.g. ${Array.from(received.keys()).slice(0, 5).join(', ')}`);
  log(`restarted consumer owns ${queues.length} queues and received nothing old`);

  const producer = makeProducer();
  await producer.ready();
  const expected = new Map();
  const noise = await sendRange(producer, 'restart', 0, RESTART_COUNT, expected);
  log(`sent ${RESTART_COUNT} new messages (+${noise} TagC)`);
  await waitFor(`${RESTART_COUNT} new messages to arrive (have ${received.size})`, 60000,
    () => received.size >= RESTART_COUNT);
  await sleep(2000); // anything old or duplicated arriving late would show up here
  checkReceived(expected);
  // RETRY_KEY was first answered ACTION_RETRY; what arrived for it is the broker's retry copy.
  if (!retryFirst) fail(`${RETRY_KEY} was never delivered a first time`);
  const again = received.get(RETRY_KEY);
  try {
    assert.strictEqual(retryFirst.reconsumeTimes, 0, 'first delivery reconsumeTimes');
    assert.strictEqual(again.reconsumeTimes, 1, 'retry copy reconsumeTimes');
    assert.strictEqual(again.retryTopic, args.topic, 'retry copy RETRY_TOPIC');
    assert.strictEqual(again.originMessageId, retryFirst.msgId, 'retry copy ORIGIN_MESSAGE_ID');
    assert.strictEqual(again.body, retryFirst.body, 'retry copy body');
  } catch (err) {
    fail(`retried message ${RETRY_KEY}: ${err.message}`);
  }
  log(`${RETRY_KEY} came back through %RETRY%${args.group} with reconsumeTimes 1`);

  await consumer.close();
  await producer.close();
  log(`PASS: restarted consumer resumed at the committed offsets; only the ${RESTART_COUNT} new messages arrived`);
}

async function phaseAcl() {
  const keys = { accessKeyId: args['access-key'], accessKeySecret: args['secret-key'] };
  const producer = makeProducer(keys);
  await producer.ready();
  const brokerAddr = await createTopic(producer);
  const expected = new Map();
  const noise = await sendRange(producer, 'acl', 0, ACL_COUNT, expected);
  const consumer = makeConsumer(keys);
  await consumer.ready();
  await waitFor(`${ACL_COUNT} signed messages to arrive (have ${received.size})`, 60000,
    () => received.size >= ACL_COUNT);
  await sleep(500);
  checkReceived(expected);
  log(`signed clients: topic created, ${ACL_COUNT} messages (+${noise} TagC) sent and received`);

  // ali-ons shares one connection set per client id: a distinct instanceName gives the refused
  // clients their own connections (and their own credentials).
  for (const [ name, extra, want ] of [
    [ 'wrong secret', { accessKeyId: keys.accessKeyId, accessKeySecret: `${keys.accessKeySecret}-wrong`, instanceName: 'acl-bad' }, /signature/i ],
    [ 'no keys', { instanceName: 'acl-none' }, /accessKey/i ],
  ]) {
    const bad = makeProducer(extra);
    bad.removeAllListeners('error');
    bad.on('error', () => {});
    await bad.ready();
    let sent = false;
    try {
      sent = (await bad.send(new Message(args.topic, 'TagA', 'must be refused'))).sendStatus === 'SEND_OK';
    } catch (err) {
      // ali-ons reports only "Send [4] times, still failed"; the reason is checked below
    }
    if (sent) fail(`a producer with ${name} could send`);
    // A direct request (GET_MAX_OFFSET) shows the broker's reason in the exception.
    let reason = null;
    try {
      await bad._mqClient.getMaxOffset(brokerAddr, args.topic, 0, 3000);
    } catch (err) {
      reason = err.message;
    }
    if (reason === null) fail(`a client with ${name} could query GET_MAX_OFFSET`);
    if (!want.test(reason)) fail(`a client with ${name} was refused for another reason: ${reason}`);
    log(`client with ${name} refused: ${reason.split('\n')[0]}`);
    await bad.close().catch(() => {});
  }
  await consumer.close();
  await producer.close();
  log('PASS: ali-ons signatures accepted by the ACL broker; wrong and missing credentials refused');
}

(async () => {
  if (args.phase === 'first') await phaseFirst();
  else if (args.phase === 'restart') await phaseRestart();
  else if (args.phase === 'acl') await phaseAcl();
  else fail(`unknown phase ${args.phase}`);
  log(`requests sent -> {response code: count}: ${wireSummary()}`);
  if (notSupported.length) fail(`the broker/name server did not support: ${notSupported.join(' | ')}`);
  if (errors.length) fail(`${errors.length} error events from ali-ons: ${errors.join(' | ')}`);
  process.exit(0);
})().catch(err => fail(err && err.stack || String(err)));
